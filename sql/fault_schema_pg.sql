-- The table of tests/e2e/fault_schema_pg.sh, which alters or drops it while
-- sluice reads it: reloading this file puts it back exactly as it was.
SET client_min_messages = warning;
DROP TABLE IF EXISTS fault_schema;
CREATE TABLE fault_schema (id bigint PRIMARY KEY, a int NOT NULL, b text, c text);
INSERT INTO fault_schema
    SELECT i, i % 1000, md5(i::text), repeat('x', i % 50)
    FROM generate_series(1, 40000) i;
ANALYZE fault_schema;
