# fixtures.sh - prints the conformance tables' SQL for one database
# (sqlite, pg or mysql): the same rows everywhere, so one program checks
# every driver through the same calls.
#   conf_comp   (a, b, c) primary key with heavy ties: 5 x 3 x 20 rows
#   conf_empty  no rows
#   conf_cursor (id, ts) with ts NULL in every tenth row
db=$1
case $db in
mysql) text=VARCHAR\(20\) ;;
*) text=VARCHAR\(20\) ;;
esac
echo "DROP TABLE IF EXISTS conf_comp;"
echo "DROP TABLE IF EXISTS conf_empty;"
echo "DROP TABLE IF EXISTS conf_cursor;"
echo "CREATE TABLE conf_comp (a INTEGER NOT NULL, b INTEGER NOT NULL, c $text NOT NULL, v $text, PRIMARY KEY (a, b, c));"
echo "CREATE TABLE conf_empty (id INTEGER NOT NULL PRIMARY KEY, v $text);"
echo "CREATE TABLE conf_cursor (id INTEGER NOT NULL PRIMARY KEY, ts INTEGER);"
printf 'INSERT INTO conf_comp (a, b, c, v) VALUES '
sep=""
for a in 1 2 3 4 5; do for b in 1 2 3; do for c in $(seq -w 1 20); do
    printf "%s(%d, %d, 'c%s', 'v%d-%d-%s')" "$sep" "$a" "$b" "$c" "$a" "$b" "$c"
    sep=", "
done; done; done
echo ";"
printf 'INSERT INTO conf_cursor (id, ts) VALUES '
sep=""
for i in $(seq 1 100); do
    if [ $((i % 10)) -eq 0 ]; then ts=NULL; else ts=$(( (i * 7) % 23 )); fi
    printf "%s(%d, %s)" "$sep" "$i" "$ts"
    sep=", "
done
echo ";"
