-- The demo database of `make demo`: a small shop. Deterministic: the same
-- file every time, so the demo's output is the same every time.
PRAGMA journal_mode = DELETE;

CREATE TABLE customers (
    id          INTEGER PRIMARY KEY,
    email       TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    country     TEXT,
    created_at  TEXT NOT NULL
);

CREATE TABLE products (
    sku         TEXT PRIMARY KEY NOT NULL,
    title       TEXT NOT NULL,
    price       NUMERIC NOT NULL,
    weight_kg   REAL,
    thumbnail   BLOB
);

CREATE TABLE orders (
    id          INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers(id),
    sku         TEXT NOT NULL REFERENCES products(sku),
    quantity    INTEGER NOT NULL,
    total       REAL NOT NULL,
    note        TEXT,
    updated_at  TEXT NOT NULL
);

INSERT INTO products VALUES
    ('KB-01', 'Keyboard "Quiet"', 49.90, 0.85, x'89504e47'),
    ('MS-02', 'Mouse', 19.5, 0.12, NULL),
    ('MN-27', 'Monitor 27″', 229.00, 5.4, x''),
    ('CB-10', 'Cable\backslash', 4.99, 0.05, NULL),
    ('ST-99', 'Stand — ergonomic ✓', 89, NULL, NULL);

WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 500)
INSERT INTO customers
SELECT i,
       'customer' || i || '@example.com',
       CASE i % 4 WHEN 0 THEN 'Zoë ' || i WHEN 1 THEN 'Björn ' || i
                  WHEN 2 THEN '李 ' || i ELSE 'O''Brien ' || i END,
       CASE i % 5 WHEN 0 THEN NULL WHEN 1 THEN 'DE' WHEN 2 THEN 'JP'
                  WHEN 3 THEN 'BR' ELSE 'US' END,
       strftime('%Y-%m-%dT%H:%M:%SZ', '2024-01-01', '+' || (i * 3671) || ' seconds')
FROM n;

WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10000)
INSERT INTO orders
SELECT i,
       1 + (i * 7919) % 500,
       CASE i % 5 WHEN 0 THEN 'KB-01' WHEN 1 THEN 'MS-02' WHEN 2 THEN 'MN-27'
                  WHEN 3 THEN 'CB-10' ELSE 'ST-99' END,
       1 + i % 3,
       round((1 + i % 3) * CASE i % 5 WHEN 0 THEN 49.90 WHEN 1 THEN 19.5
                 WHEN 2 THEN 229.00 WHEN 3 THEN 4.99 ELSE 89 END, 2),
       CASE WHEN i % 97 = 0 THEN 'gift wrap, please' || char(10) || 'thanks!'
            WHEN i % 13 = 0 THEN 'leave at door' ELSE NULL END,
       strftime('%Y-%m-%dT%H:%M:%fZ', '2024-06-01', '+' || (i * 37) || ' seconds')
FROM n;
