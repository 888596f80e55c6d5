# tools.gp - draws report.py's tools DAT: median wall time per tool and
# format, one horizontal bar each, coloured by database.
#   gnuplot -e "dat='X.dat'; png='X.png'; rows='2,000,000'; n=30" bench/tools.gp
# Columns: "database: tool" label, wall seconds, database index (1-3).
set terminal pngcairo noenhanced size 1000,(160 + 22 * n) font "sans,10"
set output png
set title sprintf("Writing a %s-row table to a file: median wall time per tool and format", rows)
set xlabel "wall time (s), median of the runs"
set style fill solid 0.85 border -1
set yrange [n:-1]
set xrange [0:*]
set ytics scale 0 font "sans,9"
set grid xtics
set key above horizontal
set offsets 0, graph 0.12, 0, 0
colour(i) = i == 1 ? 0x1f77b4 : i == 2 ? 0xd62728 : 0x2ca02c
plot dat using (0.5 * $2):0:(0.5 * $2):(0.38):(colour($3)):ytic(1) \
         with boxxy lc rgb variable notitle, \
     dat using 2:0:(sprintf(" %.2f", $2)) with labels left font "sans,8" notitle, \
     NaN with boxes lc rgb "#1f77b4" title "PostgreSQL", \
     NaN with boxes lc rgb "#d62728" title "MariaDB", \
     NaN with boxes lc rgb "#2ca02c" title "SQLite"
