-- realworld_sqlite.sql - a small shop as people really build it in SQLite,
-- with the values that break exporters. Used by tests/e2e/sqlite_values.sh:
--   sqlite3 shop.db < sql/realworld_sqlite.sql
-- Every value here is deterministic, so two builds give the same rows.
PRAGMA foreign_keys = ON;
BEGIN;

-- INTEGER PRIMARY KEY: the rowid itself.
CREATE TABLE customers (
    id          INTEGER PRIMARY KEY,
    email       TEXT NOT NULL UNIQUE,
    name        TEXT,
    "full name (ünïcode) 名前" TEXT,
    balance     REAL,
    credit      INTEGER,
    avatar      BLOB,
    created_at  TEXT DEFAULT '2024-01-01T00:00:00',
    note        TEXT
);

INSERT INTO customers (id, email, name, "full name (ünïcode) 名前", balance, credit, avatar, created_at, note) VALUES
 (1, 'alice@example.com', 'Alice', 'Alice Ångström', 0.1, 9223372036854775807, x'', '2024-01-02T03:04:05', NULL),
 -- balance -0.0: REAL affinity stores an integral value as 0, the sign is lost
 (2, 'bob@example.com', 'Bob "the builder"', 'Bob O''Brien', -0.0, -9223372036854775808, x'00ff10', NULL, 'back\slash \\ double'),
 (3, 'carol@example.com', NULL, NULL, NULL, NULL, NULL, NULL, NULL),
 (4, 'dan@example.com', 'Dan' || char(1) || char(9) || char(10) || char(13) || 'end', 'tab	inside', 1e300, 0, x'deadbeef', '2024-02-29', 'line sep ' || char(8232) || ' para sep ' || char(8233)),
 (5, 'eve@example.com', 'Eve 😀🎉', 'Ева Иванова', 5e-324, 1, zeroblob(3), '2024-03-01', '{"json":"in text"}'),
 (6, 'frank@example.com', CAST(x'66ff6f' AS TEXT), 'Frank', 1.7976931348623157e308, -1, x'00', '2024-03-02', 'invalid utf-8 in name'),
 (7, 'grace@example.com', 'Grace', CAST(x'e282' AS TEXT) || 'a' || CAST(x'c0af' AS TEXT), -1e300, 9007199254740993, x'ffffffff', '2024-03-03', '</script><!--'),
 (8, 'heidi@example.com', 'Heidi', 'nul' || CAST(x'00' AS TEXT) || 'inside', 2.5e-308, -9007199254740993, x'0102030405060708090a', '2024-03-04', ''),
 (9, 'ivan@example.com', 'Ivan', 'inf', 1e999, 42, NULL, '2024-03-05', ' '),
 (10, 'judy@example.com', 'Judy', '-inf', -1e999, 43, x'7e', '2024-03-06', char(127) || char(31) || char(65533));

-- Bulk customers: ids 11..2000, with NULLs every few rows.
WITH RECURSIVE n(i) AS (SELECT 11 UNION ALL SELECT i + 1 FROM n WHERE i < 2000)
INSERT INTO customers (id, email, name, "full name (ünïcode) 名前", balance, credit, avatar, created_at, note)
SELECT i,
       'user' || i || '@example.com',
       CASE WHEN i % 7 = 0 THEN NULL ELSE 'User ' || i END,
       CASE WHEN i % 11 = 0 THEN NULL ELSE 'Nom ' || i || ' é' END,
       CASE WHEN i % 5 = 0 THEN NULL ELSE (i * 37 % 1000) / 7.0 END,
       CASE WHEN i % 3 = 0 THEN NULL ELSE i * 1000003 END,
       CASE WHEN i % 4 = 0 THEN NULL ELSE CAST(printf('%08x', i * 2654435761 % 4294967296) AS BLOB) END,
       printf('2024-%02d-%02dT%02d:%02d:00', 1 + i % 12, 1 + i % 28, i % 24, i % 60),
       CASE WHEN i % 13 = 0 THEN 'said "hi"' || char(10) || 'twice' END
FROM n;

-- TEXT PRIMARY KEY NOT NULL: pages by sku.
CREATE TABLE products (
    sku        TEXT NOT NULL PRIMARY KEY,
    title      TEXT NOT NULL,
    price      NUMERIC,
    weight_kg  REAL,
    stock      INTEGER NOT NULL DEFAULT 0,
    image      BLOB
);

INSERT INTO products VALUES
 ('A-001', 'Widget', 9.99, 0.25, 100, x'89504e47'),
 ('A-002', 'Widget "Pro"', 19.99, 0.3, 0, NULL),
 ('B-001', 'Gadget\Backslash', 100, NULL, 5, x''),
 ('b-001', 'lower-case twin of B-001', 0.5, 1e-10, 1, NULL),
 ('Z', 'Zed', NULL, -0.0, -5, NULL),
 ('ß-1', 'Straße', 3, 3.0, 3, NULL),
 ('😀', 'Emoji SKU', 1, 1, 1, x'f09f9880'),
 (' lead space', 'leading space key', 2, 2, 2, NULL);

WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 300)
INSERT INTO products
SELECT printf('P-%05d', i), 'Product ' || i, (i % 50) + 0.99, i / 8.0, i % 17,
       CASE WHEN i % 2 = 0 THEN x'' ELSE NULL END
FROM n;

-- Composite key (order_id, line); 20000 order lines.
CREATE TABLE orders (
    order_id    INTEGER NOT NULL,
    line        INTEGER NOT NULL,
    customer_id INTEGER REFERENCES customers(id),
    sku         TEXT REFERENCES products(sku),
    qty         INTEGER NOT NULL,
    unit_price  REAL,
    discount    REAL,
    status      TEXT CHECK (status IN ('new', 'paid', 'shipped', 'cancelled')),
    placed_at   TEXT,
    PRIMARY KEY (order_id, line)
);

WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 19999)
INSERT INTO orders
SELECT 100000 + i / 3, i % 3 + 1,
       1 + (i * 7919) % 2000,
       printf('P-%05d', 1 + i % 300),
       1 + i % 9,
       CASE WHEN i % 10 = 0 THEN NULL ELSE ((i * 31) % 5000) / 100.0 END,
       CASE WHEN i % 6 = 0 THEN 0.1 WHEN i % 6 = 1 THEN NULL ELSE 0.0 END,
       CASE i % 4 WHEN 0 THEN 'new' WHEN 1 THEN 'paid' WHEN 2 THEN 'shipped' ELSE 'cancelled' END,
       printf('2024-%02d-%02d %02d:%02d:%02d', 1 + i % 12, 1 + i % 28, i % 24, i % 60, (i * 13) % 60)
FROM n;

-- A log table without any declared key: pages by rowid. Ties and duplicate
-- rows on purpose.
CREATE TABLE events (
    at      TEXT,
    kind    TEXT,
    payload
);

WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 2999)
INSERT INTO events
SELECT printf('2024-05-01T00:00:%02d', i / 100 % 60),
       CASE WHEN i % 9 = 0 THEN NULL ELSE 'kind' || (i % 3) END,
       CASE i % 6
           WHEN 0 THEN i
           WHEN 1 THEN i / 4.0
           WHEN 2 THEN 'text ' || i
           WHEN 3 THEN CAST('blob ' || i AS BLOB)
           WHEN 4 THEN NULL
           ELSE 'same'
       END
FROM n;
DELETE FROM events WHERE rowid % 97 = 0; -- holes in the rowid sequence

-- WITHOUT ROWID table with a composite TEXT/INTEGER key.
CREATE TABLE settings (
    scope  TEXT NOT NULL,
    k      TEXT NOT NULL,
    v,
    PRIMARY KEY (scope, k)
) WITHOUT ROWID;

INSERT INTO settings VALUES
 ('global', 'currency', 'EUR'),
 ('global', 'tax_rate', 0.19),
 ('global', 'max_int', 9223372036854775807),
 ('global', 'min_int', -9223372036854775808),
 ('global', 'logo', x'3c7376673e'),
 ('global', 'nothing', NULL),
 ('global', 'neg_zero', -0.0), -- untyped column: the sign survives
 ('global', 'tiny', 5e-324),
 ('shop "north"', 'greeting', 'Moin' || char(10) || 'moin'),
 ('shop "north"', 'quote''s', 'it''s'),
 ('', '', 'empty key parts');

WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 500)
INSERT INTO settings SELECT 'user:' || (i % 25), 'pref' || i, i * 1.5 FROM n;

-- Key column without a type: keys of every storage class in one index.
CREATE TABLE mixed_keys (
    k PRIMARY KEY,
    label TEXT
) WITHOUT ROWID;

INSERT INTO mixed_keys VALUES
 (-9223372036854775808, 'min int'), (-1, 'minus one'), (0, 'zero'), (1.5, 'real'),
 (2, 'two'), (9223372036854775807, 'max int'), (1e300, 'huge real'),
 ('', 'empty text'), ('a', 'a'), ('a' || char(0) || 'b', 'text with nul'), ('b', 'b'),
 (CAST(x'ff' AS TEXT), 'invalid utf-8 key'),
 (x'', 'empty blob'), (x'00', 'blob 00'), (x'ff', 'blob ff');

WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 40)
INSERT INTO mixed_keys SELECT CASE i % 4 WHEN 0 THEN i + 1000 WHEN 1 THEN i + 0.25
                                          WHEN 2 THEN 'k' || i ELSE CAST('b' || i AS BLOB) END,
                              'bulk ' || i FROM n;

-- TEXT PRIMARY KEY without NOT NULL (legal in SQLite, and NULL is allowed):
-- sluice must not page by it; it pages by rowid. Case-insensitive collation.
CREATE TABLE tags (
    tag   TEXT PRIMARY KEY COLLATE NOCASE,
    uses  INTEGER
);

INSERT INTO tags VALUES ('sale', 10), ('New', 3), (NULL, 0), ('Ärger', NULL), ('zz', 1), ('ZZZ', 2);

-- A legacy import whose columns shadow two of the rowid's names (pages by oid).
CREATE TABLE legacy_import (
    "rowid"    TEXT,
    "_rowid_"  TEXT,
    val        REAL
);

INSERT INTO legacy_import VALUES ('r1', 'x', 1.0), ('r2', NULL, 2.5), (NULL, NULL, NULL), ('r1', 'x', 1.0);

-- A name that needs quoting everywhere.
CREATE TABLE "weird ""name""; drop" (
    "id"            INTEGER NOT NULL PRIMARY KEY,
    "col with spaces" TEXT,
    "ключ"          TEXT,
    "unit price €"  REAL,
    "select"        INTEGER,
    "a""b"          BLOB
);

INSERT INTO "weird ""name""; drop" VALUES
 (1, 'x', 'значение', 1.25, 1, x'01'),
 (2, NULL, NULL, NULL, NULL, NULL),
 (3, '"; DROP TABLE customers; --', 'ok', -2.5e-7, 0, x'');

WITH RECURSIVE n(i) AS (SELECT 4 UNION ALL SELECT i + 1 FROM n WHERE i < 60)
INSERT INTO "weird ""name""; drop" SELECT i, 'row ' || i, NULL, i / 3.0, i % 2, NULL FROM n;

-- A view: extracted with --key.
CREATE VIEW order_totals AS
SELECT o.order_id,
       min(o.customer_id) AS customer_id,
       count(*) AS lines,
       sum(o.qty * coalesce(o.unit_price, 0)) AS gross,
       max(o.placed_at) AS placed_at
FROM orders o
GROUP BY o.order_id;

-- An index that must not confuse key discovery.
CREATE INDEX orders_by_customer ON orders(customer_id);

COMMIT;
ANALYZE;
