-- Fixtures of tests/e2e/bad_input_pg.sh: the tables of badinput_sqlite.sql
-- (identifiers with quotes, double quotes, backticks, spaces, semicolons
-- and non-ASCII; string keys that are SQL in disguise; badin_victim) in
-- PostgreSQL. Load with psql -v ON_ERROR_STOP=1.
SET client_min_messages = warning;
DROP TABLE IF EXISTS badin_victim, "badin x; DROP TABLE badin_victim; --", "badin_it's",
    "badin_""dq"" tab", "badin_back`tick", "badin_ünï 表";

CREATE TABLE badin_victim (id integer PRIMARY KEY);
INSERT INTO badin_victim VALUES (1);

CREATE TABLE "badin x; DROP TABLE badin_victim; --" (
    "id; DROP TABLE badin_victim; --" integer PRIMARY KEY,
    "it's" text, "dq""col" text, "back`tick" text, "spa ce" text, "naïve→日本" text);
INSERT INTO "badin x; DROP TABLE badin_victim; --" VALUES
    (1, 'a''b', 'say "hi"', 'x`y', 'two words', 'ünï'),
    (2, 'c', 'd', 'e', 'f', '日本'),
    (3, NULL, NULL, NULL, NULL, NULL);

CREATE TABLE "badin_it's" (k text NOT NULL PRIMARY KEY, v integer);
INSERT INTO "badin_it's" VALUES
    ('a''b', 1), ('a\''; DROP TABLE badin_victim; --x', 2), ('back\slash\', 3),
    ('"dq"', 4), ('`bt`', 5), ('naïve 日本', 6), ('z', 7);

CREATE TABLE "badin_""dq"" tab" ("i d" integer NOT NULL UNIQUE, v text);
INSERT INTO "badin_""dq"" tab" VALUES (5, 'five'), (3, 'three');

CREATE TABLE "badin_back`tick" ("a`b" integer PRIMARY KEY, "c;d" text);
INSERT INTO "badin_back`tick" VALUES (1, 'one'), (2, 'two');

CREATE TABLE "badin_ünï 表" ("ключ" integer PRIMARY KEY, "値" text);
INSERT INTO "badin_ünï 表" VALUES (1, '一'), (2, NULL);
