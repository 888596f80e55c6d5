# page_latency.gp - draws page_latency.py's DAT (all three databases) as a PNG.
#   gnuplot -e "dat='X.dat'; png='X.png'; rows='2,000,000'" bench/page_latency.gp
# Columns: position, pg keyset, pg offset, mariadb keyset, mariadb offset,
# sqlite keyset, sqlite offset (ms).
set terminal pngcairo size 1000,620 font "sans,11"
set output png
set title sprintf("Time to fetch one page of 10,000 rows, by position in a %s-row table", rows)
set xlabel "page position: rows before the page (millions)"
set ylabel "time per page (ms)"
set key top left box opaque
set grid ytics xtics
set yrange [0:*]
set xrange [0:*]
set style line 1 lc rgb "#1f77b4" lw 2 pt 7 ps 0.7
set style line 2 lc rgb "#1f77b4" lw 2 pt 6 ps 0.7 dt 2
set style line 3 lc rgb "#d62728" lw 2 pt 5 ps 0.7
set style line 4 lc rgb "#d62728" lw 2 pt 4 ps 0.7 dt 2
set style line 5 lc rgb "#2ca02c" lw 2 pt 9 ps 0.7
set style line 6 lc rgb "#2ca02c" lw 2 pt 8 ps 0.7 dt 2
plot dat using ($1/1e6):2 with linespoints ls 1 title "PostgreSQL keyset (WHERE id > X)", \
     dat using ($1/1e6):3 with linespoints ls 2 title "PostgreSQL offset (OFFSET X)", \
     dat using ($1/1e6):4 with linespoints ls 3 title "MariaDB keyset", \
     dat using ($1/1e6):5 with linespoints ls 4 title "MariaDB offset", \
     dat using ($1/1e6):6 with linespoints ls 5 title "SQLite keyset", \
     dat using ($1/1e6):7 with linespoints ls 6 title "SQLite offset"
