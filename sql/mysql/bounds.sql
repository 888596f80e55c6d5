-- Fixtures of tests/e2e/mysql_incremental.sh and mysql_explain.sh: a
-- nullable DATETIME(6) cursor with 50 rows per value and a secondary index
-- (cursor, id); a two-column nullable cursor (bucket, tag); NULL cursors.
SET NAMES utf8mb4;
SET SESSION time_zone = '+00:00';

DROP TABLE IF EXISTS ev, seq10;
CREATE TABLE seq10 (d INT NOT NULL PRIMARY KEY);
INSERT INTO seq10 VALUES (0), (1), (2), (3), (4), (5), (6), (7), (8), (9);

CREATE TABLE ev (
  id INT NOT NULL PRIMARY KEY,
  updated_at DATETIME(6) NULL,
  ts TIMESTAMP(6) NULL DEFAULT NULL,
  bucket INT NULL,
  tag VARCHAR(10) NULL,
  grp INT NOT NULL,
  KEY ev_cursor (updated_at, id),
  KEY ev_bt (bucket, tag, id)
);
-- ids 1..1000: cursor value c = id * 7 mod 20 (50 ids each, interleaved);
-- microseconds make the text form matter.
INSERT INTO ev
SELECT n, TIMESTAMP('2024-03-01 10:00:00.000250') + INTERVAL ((n * 7) % 20) MINUTE,
       TIMESTAMP('2024-03-01 10:00:00.5') + INTERVAL ((n * 7) % 20) SECOND,
       (n * 3) % 9, CONCAT('t', (n * 11) % 4), n % 3
FROM (SELECT 1 + a.d + 10 * b.d + 100 * c.d AS n FROM seq10 a, seq10 b, seq10 c) t;
-- NULL cursors: 13 rows without updated_at/ts, some without bucket or tag.
INSERT INTO ev
SELECT 1000 + n, NULL, NULL, IF(n % 2, NULL, 4), IF(n % 3, 't1', NULL), n % 3
FROM (SELECT 1 + a.d + 10 * b.d AS n FROM seq10 a, seq10 b) t WHERE n <= 13;
ANALYZE TABLE ev;
