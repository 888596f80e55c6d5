-- Tables of tests/e2e/pg_keys.sh: keys of every type PostgreSQL orders,
-- and columns of types it cannot order. Load with psql -v ON_ERROR_STOP=1.
SET client_min_messages = warning;
DROP TABLE IF EXISTS kcomp_big, kcomp_small, kenum, kdomain, kmoney, karray, knokey;
DROP TYPE IF EXISTS kcomp, kmood, kjsoncomp CASCADE;
DROP DOMAIN IF EXISTS kposint CASCADE;

-- A composite key whose text form needs quoting (spaces, quotes, commas,
-- parentheses) and whose numeric field has many digits.
CREATE TYPE kcomp AS (a integer, b text, c numeric);
CREATE TABLE kcomp_big (k kcomp PRIMARY KEY, v integer NOT NULL);
INSERT INTO kcomp_big
SELECT ROW(i % 100, 't' || (i % 7) || ' "q", (p)', i / 3.0)::kcomp, i FROM generate_series(1, 50000) i;
ANALYZE kcomp_big;
CREATE TABLE kcomp_small (k kcomp PRIMARY KEY, v integer NOT NULL);
INSERT INTO kcomp_small
SELECT ROW(i % 3, CASE WHEN i % 2 = 0 THEN NULL ELSE 'x,' || (i % 5) END, (i * 7) % 61)::kcomp, i
FROM generate_series(1, 60) i;

-- An enum key (ordered by its declaration, not its label) with ties.
CREATE TYPE kmood AS ENUM ('zzz', 'sad', 'ok', 'happy');
CREATE TABLE kenum (e kmood NOT NULL, i integer NOT NULL, v integer NOT NULL, PRIMARY KEY (e, i));
INSERT INTO kenum SELECT (enum_range(NULL::kmood))[1 + i % 4], i / 4, i FROM generate_series(1, 50) i;

-- A domain key.
CREATE DOMAIN kposint AS bigint CHECK (VALUE > 0);
CREATE TABLE kdomain (d kposint PRIMARY KEY, v integer NOT NULL);
INSERT INTO kdomain SELECT i * 1000000007::bigint, i FROM generate_series(1, 45) i;

-- A money key: its text form depends on lc_monetary; it binds back as money.
CREATE TABLE kmoney (m money PRIMARY KEY, v integer NOT NULL);
INSERT INTO kmoney VALUES ('-92233720368547758.08', 1), ('92233720368547758.07', 40);
INSERT INTO kmoney SELECT (i * 1234.56 - 20000)::numeric::money, i FROM generate_series(2, 39) i;

-- An array key.
CREATE TABLE karray (a integer[] PRIMARY KEY, v integer NOT NULL);
INSERT INTO karray SELECT ARRAY[i % 5, i], i FROM generate_series(1, 33) i;
INSERT INTO karray VALUES ('{}', 34), ('{1}', 35), ('{NULL,1}', 36);

-- Types with no default btree ordering.
CREATE TYPE kjsoncomp AS (n integer, j json);
CREATE TABLE knokey (id integer PRIMARY KEY, j json NOT NULL, p point NOT NULL, cj kjsoncomp NOT NULL);
INSERT INTO knokey VALUES (1, '{}', '(1,2)', ROW(1, '[]'));
