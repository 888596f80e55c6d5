-- Fixtures of the MySQL/MariaDB driver tests (tests/e2e/mysql_*.sh).
-- Every type of the JSON type contract, NULLs, non-ASCII and control
-- characters, ties under a composite key, a name that needs quoting, a table
-- without any key, and 200,000 rows for the kill -9 resume test.
SET NAMES utf8mb4;
SET SESSION sql_mode = '';  -- zero dates are data we must read
SET SESSION time_zone = '+00:00';

DROP VIEW IF EXISTS v_ck;
DROP TABLE IF EXISTS types, ck, `we``ird; name`, nokey, big, digits, uniq_only, lat;

CREATE TABLE types (
  id INT NOT NULL PRIMARY KEY,
  ti TINYINT, tiu TINYINT UNSIGNED, si SMALLINT, mi MEDIUMINT, i INT,
  iu INT UNSIGNED, bi BIGINT, biu BIGINT UNSIGNED, zf INT(6) ZEROFILL,
  dec1 DECIMAL(30,10), dec0 DECIMAL(65,0),
  f FLOAT, d DOUBLE, fd FLOAT(7,3),
  b1 BIT(1), b12 BIT(12),
  y YEAR,
  c CHAR(5), vc VARCHAR(200), tx TEXT, lt LONGTEXT,
  e ENUM('small','medium','large'), st SET('a','b','c d','é'),
  bn BINARY(4), vb VARBINARY(20), bl BLOB,
  dt DATE, tm TIME, tm6 TIME(6), dtm DATETIME, dtm3 DATETIME(3), dtm6 DATETIME(6),
  ts TIMESTAMP NULL DEFAULT NULL, ts6 TIMESTAMP(6) NULL DEFAULT NULL,
  j JSON,
  g GEOMETRY, p POINT
) CHARACTER SET utf8mb4;

INSERT INTO types VALUES
 (1, -128, 255, -32768, -8388608, -2147483648,
  4294967295, -9223372036854775808, 18446744073709551615, 42,
  12345678901234567890.0123456789, 99999999999999999999999999999999999999999999999999999999999999999,
  0.1, 0.1, 1.5,
  b'1', b'101010101010',
  1901,
  'ab', 'héllo wörld ✓ 😀', CONCAT('tab', CHAR(9), 'nl', CHAR(10), 'cr', CHAR(13), 'nul', CHAR(0), 'bs\\q"'), REPEAT('x', 1000),
  'medium', 'a,c d',
  X'00FF1020', X'DEADBEEF', X'000102',
  '2024-02-29', '-838:59:59', '12:34:56.123456', '2024-02-29 23:59:59', '1999-12-31 23:59:59.125', '2038-01-19 03:14:07.999999',
  '2024-02-29 23:59:59', '2038-01-19 03:14:07.999999',
  '{"a": [1, 2.5, "x"],\n "b": {"c": null}}',
  ST_GeomFromText('LINESTRING(0 0, 1 1.5)'), ST_GeomFromText('POINT(1 2)')),
 (2, 127, 0, 32767, 8388607, 2147483647,
  0, 9223372036854775807, 9223372036854775808, 0,
  -0.0000000001, -1,
  16777217, -1.7976931348623157e308, -1234.567,
  b'0', b'000000000000',
  2155,
  '', '', '', '',
  'small', '',
  X'00000000', X'', X'',
  '1000-01-01', '838:59:59', '-00:00:00.000001', '1000-01-01 00:00:00', '1000-01-01 00:00:00.000', '9999-12-31 23:59:59.999999',
  '1970-01-01 00:00:01', '1970-01-01 00:00:01.000001',
  '[]',
  NULL, NULL),
 (3, 0, 1, 0, 0, 0,
  1, 0, 0, 7,
  0, 0,
  1.0000001, 5e-324, 0,
  b'1', b'111111111111',
  0,
  'zz', 'NULL', 'null', 'Ünïcödé',
  'large', 'é,b',
  X'61626364', X'00', X'FF',
  '0000-00-00', '00:00:00', '100:00:00.5', '0000-00-00 00:00:00', '2024-01-01 00:00:00.000', '2024-01-01 12:00:00.000001',
  '0000-00-00 00:00:00', '2000-01-01 00:00:00',
  '"just a string"',
  ST_GeomFromText('POLYGON((0 0, 4 0, 4 4, 0 4, 0 0))'), ST_GeomFromText('POINT(-71.06 42.36)')),
 (4, NULL, NULL, NULL, NULL, NULL,
  NULL, NULL, NULL, NULL,
  NULL, NULL,
  NULL, NULL, NULL,
  NULL, NULL,
  NULL,
  NULL, NULL, NULL, NULL,
  NULL, NULL,
  NULL, NULL, NULL,
  NULL, NULL, NULL, NULL, NULL, NULL,
  NULL, NULL,
  NULL,
  NULL, NULL),
 (5, 1, 1, 1, 1, 1,
  1, 1, 1, 1,
  1.5, 2,
  3.4028235e38, 2.2250738585072014e-308, 999.999,
  b'0', b'100000000001',
  2000,
  'x', 'line1\nline2\ttab \\ backslash \' quote', 'emoji 😀 ', '',
  NULL, 'a,b,c d,é',
  X'FFFFFFFF', X'0A0D', X'5C27',
  '2000-02-00', '-01:00:00', '23:59:59.999999', '2000-00-01 10:00:00', NULL, NULL,
  NULL, NULL,
  '{"nested": {"deep": [true, false, null, -0.5e10]}, "s": "tab\\tnl\\n"}',
  NULL, NULL);

-- A composite key with ties on its first column, non-ASCII in its second.
CREATE TABLE ck (
  grp INT NOT NULL,
  name VARCHAR(40) NOT NULL,
  val VARCHAR(40),
  PRIMARY KEY (grp, name)
) CHARACTER SET utf8mb4;
INSERT INTO ck VALUES
 (1, 'a', 'v1'), (1, 'b', 'v2'), (1, 'é', 'v3'), (1, 'z''q', 'v4'),
 (2, 'a', NULL), (2, 'bb', 'v6'), (2, 'c\\d', 'v7'), (3, '😀', 'v8'),
 (3, 'Z', 'v9'), (4, ' lead', 'v10'), (4, 'trail', 'v11'), (5, 'x', 'v12');

-- A view (no key of its own: --key) and a latin1 column (sent as utf8mb4).
CREATE VIEW v_ck AS SELECT grp, name, val FROM ck WHERE grp < 3;
CREATE TABLE lat (
  id INT NOT NULL PRIMARY KEY,
  s VARCHAR(10) CHARACTER SET latin1,
  b CHAR(3) CHARACTER SET binary
);
INSERT INTO lat VALUES (1, 'café', 'ab'), (2, '©?', 'a\0c');

-- A name that needs quoting, with a column that does too.
CREATE TABLE `we``ird; name` (
  `id ``x` BIGINT UNSIGNED NOT NULL PRIMARY KEY,
  `sel;ect` VARCHAR(20)
);
INSERT INTO `we``ird; name` VALUES (1, 'one'), (18446744073709551615, 'max'),
 (9223372036854775807, 'i64max'), (9223372036854775808, 'i64max+1');

-- No primary key, no unique NOT NULL index: needs --key.
CREATE TABLE nokey (a INT, b VARCHAR(10), UNIQUE KEY (a));
INSERT INTO nokey VALUES (1, 'x'), (2, 'y'), (NULL, 'z');

-- A unique NOT NULL index and no primary key.
CREATE TABLE uniq_only (code VARCHAR(10) NOT NULL, n INT, UNIQUE KEY code_u (code));
INSERT INTO uniq_only VALUES ('b', 2), ('a', 1), ('c', 3);

-- 200,000 rows for paging and kill -9 resume (portable: no sequence engine).
CREATE TABLE digits (d INT NOT NULL PRIMARY KEY);
INSERT INTO digits VALUES (0), (1), (2), (3), (4), (5), (6), (7), (8), (9);
CREATE TABLE big (
  id INT NOT NULL,
  sub INT NOT NULL,
  label VARCHAR(40) NOT NULL,
  amount DECIMAL(12,2),
  at DATETIME(6),
  PRIMARY KEY (id, sub)
);
INSERT INTO big
SELECT n DIV 2, n % 2, CONCAT('row ', n, IF(n % 7 = 0, ' é', '')), (n * 37 % 100000) / 100,
       TIMESTAMP('2020-01-01') + INTERVAL n SECOND + INTERVAL (n % 1000) MICROSECOND
FROM (SELECT a.d + 10 * b.d + 100 * c.d + 1000 * e.d + 10000 * f.d + 100000 * g.d AS n
      FROM digits a, digits b, digits c, digits e, digits f, digits g) t
WHERE n < 200000;
ANALYZE TABLE big, ck, types;
