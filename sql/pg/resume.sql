-- Tables of the kill -9 resume test (tests/e2e/pg_resume.sh): 200k rows
-- with a primary key, and the same without any key (paged by ctid).
SET client_min_messages = warning;
DROP TABLE IF EXISTS resume_big, resume_nokey;
CREATE TABLE resume_big (id bigint PRIMARY KEY, h text, ts timestamptz, n numeric(12, 3), tags int[]);
INSERT INTO resume_big
    SELECT i, md5(i::text), timestamptz '2020-01-01 00:00:00+00' + i * interval '1.5 second',
           i / 7.0, ARRAY[i % 10, i % 3]
    FROM generate_series(1, 200000) i;
CREATE TABLE resume_nokey AS SELECT * FROM resume_big;
ANALYZE resume_big, resume_nokey;
