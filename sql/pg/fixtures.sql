-- Fixtures of the PostgreSQL driver tests: every type of the JSON contract
-- (DESIGN.md §6), NULLs everywhere, non-ASCII and control characters, ties
-- in a composite key, a table without a key, a partitioned table, a view,
-- and a table name that needs quoting. Load with psql -v ON_ERROR_STOP=1.
SET client_min_messages = warning;
DROP SCHEMA IF EXISTS sluice_fx CASCADE;
DROP SCHEMA IF EXISTS "sluice x.y" CASCADE;
DROP TABLE IF EXISTS types, ties, nokey, uniq_only, parted, "weird ""name""; drop", keytypes, secret,
    edge_values CASCADE;
DROP VIEW IF EXISTS types_view;
DROP TYPE IF EXISTS mood CASCADE;
DROP DOMAIN IF EXISTS posint CASCADE;
DROP DOMAIN IF EXISTS posint2 CASCADE;
DROP DOMAIN IF EXISTS short_text CASCADE;

CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE DOMAIN posint AS integer CHECK (VALUE > 0);
CREATE DOMAIN posint2 AS posint;               -- a domain over a domain
CREATE DOMAIN short_text AS varchar(20);

CREATE TABLE types (
    id          integer PRIMARY KEY,
    c_int2      smallint,
    c_int4      integer,
    c_int8      bigint,
    c_numeric   numeric,
    c_num122    numeric(12, 2),
    c_float4    real,
    c_float8    double precision,
    c_bool      boolean,
    c_text      text,
    c_varchar   varchar(50),
    c_char      char(5),
    c_name      name,
    c_mood      mood,
    c_posint    posint2,
    c_short     short_text,
    c_uuid      uuid,
    c_inet      inet,
    c_cidr      cidr,
    c_macaddr   macaddr,
    c_money     money,
    c_bytea     bytea,
    c_date      date,
    c_time      time,
    c_timetz    timetz,
    c_ts        timestamp,
    c_tstz      timestamptz,
    c_interval  interval,
    c_json      json,
    c_jsonb     jsonb,
    c_int_arr   integer[],
    c_text_arr  text[],
    c_int_2d    integer[][],
    c_tstz_arr  timestamptz[],
    c_num_arr   numeric[],
    c_bool_arr  boolean[],
    c_f4_arr    real[],
    c_bytea_arr bytea[],
    c_jsonb_arr jsonb[],
    c_mood_arr  mood[],
    c_inet_arr  inet[],
    c_dom_arr   posint[],
    c_tsvector  tsvector,
    c_int4range int4range,
    c_point     point,
    c_xml       xml,
    c_bit       bit(4),
    c_varbit    bit varying(8),
    c_oid       oid,
    c_money_arr money[]
);

INSERT INTO types VALUES
(1, 1, 2, 3, 1.5, 12.30, 0.1, 0.1, true, 'hello', 'varchar', 'ab', 'nm', 'happy', 7, 'short',
 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '192.168.0.1/24', '10.0.0.0/8', '08:00:2b:01:02:03',
 12.34, '\x00ff10'::bytea, '2024-02-29', '13:45:06.5', '13:45:06+02', '2024-02-29 13:45:06.123456',
 '2024-02-29 13:45:06.5+02', '1 year 2 months 3 days 04:05:06.5', '{"a": [1, 2.50, "x"], "b": null}',
 '{"b": 1, "a": [true, false]}', '{1,2,3}', '{"a","b c","quote\"d"}', '{{1,2},{3,4}}',
 '{"2020-01-01 00:00:00+00","2020-06-01 12:30:00.25+05"}', '{1.50,NaN,-3}', '{t,f,NULL}',
 '{0.1,1e30}', '{"\\x0102",NULL}', ARRAY['{"k": 1}'::jsonb, 'null'::jsonb, '[1,2]'::jsonb], '{sad,happy}',
 '{127.0.0.1,::1}', '{1,2}', 'a fat cat:3', '[1,10)', '(1.5,2)', '<a>x</a>', B'1010', B'101', 12345),
(2, -32768, -2147483648, -9223372036854775808, -0.000001, -99999999.99, -3.4028235e38, -1.7976931348623157e308,
 false, E'tab\there\nnewline "quote" \\ back \u00e9\u4e2d\U0001F600 \x01 ctrl', 'ñ', 'xyz  ', 'x', 'sad', 1,
 'üñí', '00000000-0000-0000-0000-000000000000', '::1', '::/0', 'ff:ff:ff:ff:ff:ff', -1.5,
 ''::bytea, '0044-03-15 BC', '00:00:00', '00:00:00-03:30', '0001-01-01 00:00:00', '1970-01-01 00:00:00+00',
 '-1 days -02:00:00', '[]', '{}', '{}', '{}', '{{{1}},{{2}}}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}',
 '', 'empty', '(0,0)', '', B'0000', B'', 0),
(3, 32767, 2147483647, 9223372036854775807, 123456789012345678901234567890.123456789012345678901234567890,
 0.00, 'NaN', 'Infinity', NULL, '', '', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
 NULL, 'infinity', '24:00:00', NULL, 'infinity', '-infinity', '0', 'null', '"str"', '{NULL}', '{NULL,""}',
 NULL, '{infinity}', NULL, NULL, '{NaN,-Infinity}', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);

INSERT INTO types (id, c_numeric, c_float4, c_float8, c_date, c_ts, c_tstz) VALUES
(4, 'NaN', '-Infinity', '-0', '-infinity', '-infinity', 'infinity'),
(6, '-Infinity', NULL, NULL, '5874897-12-31', '294276-12-31 23:59:59.999999', '4713-01-01 00:00:00+00 BC');
INSERT INTO types (id) VALUES (7);
INSERT INTO types (id, c_int2, c_int4, c_int8, c_numeric, c_num122, c_float4, c_float8, c_bool, c_text,
                   c_varchar, c_char, c_name, c_mood, c_posint, c_uuid, c_inet, c_bytea, c_date, c_time,
                   c_ts, c_tstz, c_interval, c_json, c_jsonb, c_num_arr, c_oid) VALUES
(5, 0, 0, 0, 'Infinity', 1e9, 1e-45, 5e-324, true, E'line1\r\nline2 \u2028 \u2029', 'x', 'y', 'z', 'ok', 2147483647,
 'ffffffff-ffff-ffff-ffff-ffffffffffff', '2001:db8::/32', '\x'::bytea || decode(repeat('ab', 100), 'hex'),
 '1999-12-31', '23:59:59.999999', '2000-01-01 00:00:00', '1999-12-31 23:59:59.999999+00', 'P-1Y-2M3DT-4H5M-6.25S',
 E'{\n  "multi": "line",\n  "n": 1e2\r\n}', '{"big": 123456789012345678901234567890, "s": "\u00e9"}',
 '{123456789012345678901234567890.5}', 4294967295);

-- money: an exact number, its extremes included (arrays too).
UPDATE types SET c_money_arr = '{12.34,-92233720368547758.08,92233720368547758.07,NULL}' WHERE id = 1;
UPDATE types SET c_money = '-92233720368547758.08', c_money_arr = '{}' WHERE id = 4;
UPDATE types SET c_money = '92233720368547758.07' WHERE id = 6;

-- Values at the edges of the type contract: U+2028/U+2029 inside json and
-- jsonb strings (also in a json value that is rewritten onto one line),
-- timestamps in 1 BC and just after it, bit strings, arrays whose lower
-- bound is not 1 (binary and text-form arrays).
CREATE TABLE edge_values (
    id      integer PRIMARY KEY,
    j       json,
    jb      jsonb,
    ts      timestamp,
    tstz    timestamptz,
    b       bit(3),
    vb      bit varying(8),
    lb      integer[],
    lb_2d   integer[],
    lb_inet inet[]
);
INSERT INTO edge_values VALUES
(1, E'{"s\u2028": "a\u2028b\u2029", "n": [1]}', E'{"s\u2028": "a\u2028b\u2029"}',
 '0001-12-31 23:59:59.5 BC', '0001-01-01 00:00:00+00 BC', B'101', B'0011',
 '[0:2]={1,2,3}', '[-1:0][2:3]={{1,2},{3,4}}', '[0:1]={127.0.0.1,::1}'),
(2, E'[\n"\u2029",\r\n"x"]', E'"\u2029"',
 '0001-01-01 00:00:00', '0002-12-31 23:59:59+00 BC', B'000', B'', '{}', '{{5}}', '{}'),
(3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);

-- Composite key with ties in its first column.
CREATE TABLE ties (a text NOT NULL, b integer NOT NULL, v text, PRIMARY KEY (a, b));
INSERT INTO ties SELECT chr(97 + (i % 3)), i, 'v' || i FROM generate_series(1, 50) i;
INSERT INTO ties VALUES ('é', 1, 'accent'), ('', 0, 'empty key'), ('a b', 2, NULL);

-- No primary key, no unique index: pages by ctid.
CREATE TABLE nokey (x integer, y text);
INSERT INTO nokey SELECT i % 7, 'row ' || i FROM generate_series(1, 2500) i;
INSERT INTO nokey VALUES (NULL, NULL), (1, 'dup'), (1, 'dup');
DELETE FROM nokey WHERE x = 3;  -- holes in the ctid sequence

-- A unique NOT NULL index but no primary key.
CREATE TABLE uniq_only (u integer NOT NULL UNIQUE, n integer UNIQUE, v text);
INSERT INTO uniq_only SELECT i, i, 'u' || i FROM generate_series(1, 30) i;

-- Partitioned table: extracted through its parent.
CREATE TABLE parted (id bigint PRIMARY KEY, v text) PARTITION BY RANGE (id);
CREATE TABLE parted_lo PARTITION OF parted FOR VALUES FROM (MINVALUE) TO (1000);
CREATE TABLE parted_hi PARTITION OF parted FOR VALUES FROM (1000) TO (MAXVALUE);
INSERT INTO parted SELECT i * 7, 'p' || i FROM generate_series(1, 400) i;

-- A view: needs --key.
CREATE VIEW types_view AS SELECT id, c_text, c_tstz, c_int_arr FROM types WHERE id <= 5;

-- A name that needs quoting.
CREATE TABLE "weird ""name""; drop" ("odd col" integer PRIMARY KEY, "Sel""ect" text);
INSERT INTO "weird ""name""; drop" VALUES (1, 'one'), (2, 'two'), (3, NULL);

-- A schema other than public, and a mixed-case name.
CREATE SCHEMA sluice_fx;
CREATE TABLE sluice_fx."MixedCase" (k timestamptz PRIMARY KEY, v numeric);
INSERT INTO sluice_fx."MixedCase"
    SELECT timestamptz '2024-01-01 00:00:00+00' + i * interval '1.000001 second', i / 3.0
    FROM generate_series(1, 40) i;

-- Keys of other types: uuid, text with collation order, bytea, float, date.
CREATE TABLE keytypes (u uuid NOT NULL, t text NOT NULL, b bytea NOT NULL, f float8 NOT NULL,
                       f4 real NOT NULL, d date NOT NULL, n numeric NOT NULL, ts timestamp NOT NULL,
                       PRIMARY KEY (u, t, b, f, f4, d, n, ts));
INSERT INTO keytypes
    SELECT md5((i % 5)::text)::uuid, chr(65 + i % 4), decode(lpad(to_hex(i % 6), 2, '0'), 'hex'),
           (i % 4) / 3.0, (i % 3) / 10.0, date '2000-01-01' + (i % 2), i % 3 + 0.5,
           timestamp '2000-01-01' + i * interval '0.000001 second'
    FROM generate_series(1, 300) i;

-- Read by nobody but the owner: permission tests.
CREATE TABLE secret (id integer PRIMARY KEY, s text);
INSERT INTO secret VALUES (1, 'hidden');
REVOKE ALL ON secret FROM PUBLIC;

ANALYZE;

-- A schema whose name holds a dot (and a space): TABLE is '"sluice x.y".t',
-- as discover lists it.
CREATE SCHEMA "sluice x.y";
CREATE TABLE "sluice x.y".t (id integer PRIMARY KEY, v text);
INSERT INTO "sluice x.y".t SELECT i, 'dot ' || i FROM generate_series(1, 12) i;
