-- Fixtures of tests/e2e/bad_input*.sh (SQLite): identifiers with quotes,
-- double quotes, backticks, spaces, semicolons and non-ASCII, string keys
-- that are SQL in disguise, and badin_victim, which must survive every test.
-- The same tables and rows exist in badinput_pg.sql and badinput_mysql.sql;
-- badinput_expected.ndjson holds their JSON.
DROP TABLE IF EXISTS badin_victim;
DROP TABLE IF EXISTS "badin x; DROP TABLE badin_victim; --";
DROP TABLE IF EXISTS "badin_it's";
DROP TABLE IF EXISTS "badin_""dq"" tab";
DROP TABLE IF EXISTS "badin_back`tick";
DROP TABLE IF EXISTS "badin_ünï 表";

CREATE TABLE badin_victim (id INTEGER PRIMARY KEY);
INSERT INTO badin_victim VALUES (1);

CREATE TABLE "badin x; DROP TABLE badin_victim; --" (
    "id; DROP TABLE badin_victim; --" INTEGER PRIMARY KEY,
    "it's" TEXT, "dq""col" TEXT, "back`tick" TEXT, "spa ce" TEXT, "naïve→日本" TEXT);
INSERT INTO "badin x; DROP TABLE badin_victim; --" VALUES
    (1, 'a''b', 'say "hi"', 'x`y', 'two words', 'ünï'),
    (2, 'c', 'd', 'e', 'f', '日本'),
    (3, NULL, NULL, NULL, NULL, NULL);

-- String keys that end quotes and escapes: keyset paging puts the last key
-- of each page into the next query.
CREATE TABLE "badin_it's" (k TEXT NOT NULL PRIMARY KEY, v INTEGER);
INSERT INTO "badin_it's" VALUES
    ('a''b', 1), ('a\''; DROP TABLE badin_victim; --x', 2), ('back\slash\', 3),
    ('"dq"', 4), ('`bt`', 5), ('naïve 日本', 6), ('z', 7);

CREATE TABLE "badin_""dq"" tab" ("i d" INTEGER NOT NULL UNIQUE, v TEXT);
INSERT INTO "badin_""dq"" tab" VALUES (5, 'five'), (3, 'three');

CREATE TABLE "badin_back`tick" ("a`b" INTEGER PRIMARY KEY, "c;d" TEXT);
INSERT INTO "badin_back`tick" VALUES (1, 'one'), (2, 'two');

CREATE TABLE "badin_ünï 表" ("ключ" INTEGER PRIMARY KEY, "値" TEXT);
INSERT INTO "badin_ünï 表" VALUES (1, '一'), (2, NULL);
