-- Fixtures of tests/e2e/bad_input_mysql.sh: the tables of
-- badinput_sqlite.sql (identifiers with quotes, double quotes, backticks,
-- spaces, semicolons and non-ASCII; string keys that are SQL in disguise,
-- backslashes included; badin_victim) in MariaDB/MySQL.
DROP TABLE IF EXISTS badin_victim, `badin x; DROP TABLE badin_victim; --`, `badin_it's`,
    `badin_"dq" tab`, `badin_back``tick`, `badin_ünï 表`;

CREATE TABLE badin_victim (id INT NOT NULL PRIMARY KEY);
INSERT INTO badin_victim VALUES (1);

CREATE TABLE `badin x; DROP TABLE badin_victim; --` (
    `id; DROP TABLE badin_victim; --` INT NOT NULL PRIMARY KEY,
    `it's` TEXT, `dq"col` TEXT, `back``tick` TEXT, `spa ce` TEXT, `naïve→日本` TEXT
) CHARACTER SET utf8mb4;
INSERT INTO `badin x; DROP TABLE badin_victim; --` VALUES
    (1, 'a''b', 'say "hi"', 'x`y', 'two words', 'ünï'),
    (2, 'c', 'd', 'e', 'f', '日本'),
    (3, NULL, NULL, NULL, NULL, NULL);

CREATE TABLE `badin_it's` (k VARCHAR(40) NOT NULL PRIMARY KEY, v INT) CHARACTER SET utf8mb4;
INSERT INTO `badin_it's` VALUES
    ('a''b', 1), ('a\\''; DROP TABLE badin_victim; --x', 2), ('back\\slash\\', 3),
    ('"dq"', 4), ('`bt`', 5), ('naïve 日本', 6), ('z', 7);

CREATE TABLE `badin_"dq" tab` (`i d` INT NOT NULL UNIQUE, v TEXT) CHARACTER SET utf8mb4;
INSERT INTO `badin_"dq" tab` VALUES (5, 'five'), (3, 'three');

CREATE TABLE `badin_back``tick` (`a``b` INT NOT NULL PRIMARY KEY, `c;d` TEXT) CHARACTER SET utf8mb4;
INSERT INTO `badin_back``tick` VALUES (1, 'one'), (2, 'two');

CREATE TABLE `badin_ünï 表` (`ключ` INT NOT NULL PRIMARY KEY, `値` TEXT) CHARACTER SET utf8mb4;
INSERT INTO `badin_ünï 表` VALUES (1, '一'), (2, NULL);
