# The chart of bench/RESULTS.md: delivered Mpps of the published-port rows
# against the number of published ports, one line per path and state.
# bench/report.py runs it with: datafile (its columns: N, then one per series
# in report.py's SCALING_SERIES order), outfile, kernel, frame_bytes, runs.
set terminal pngcairo size 960,680 noenhanced
set output outfile
set title sprintf("Published-port UDP vs number of published ports (%s, %s B frames, median of %s runs)", kernel, frame_bytes, runs)
set logscale x
set logscale y
set xlabel "published ports (N); traffic to the last one"
set ylabel "delivered Mpps (log scale)"
set key below vertical maxrows 5
set grid
plot datafile using 1:2 with linespoints lw 2 pt 7 lc rgb "#1f77b4" title "bpfnet XDP, new flows", \
     "" using 1:3 with linespoints lw 2 pt 5 lc rgb "#1f77b4" dt 2 title "bpfnet XDP, established", \
     "" using 1:4 with linespoints lw 2 pt 7 lc rgb "#2ca02c" title "bpfnet tc, new flows", \
     "" using 1:5 with linespoints lw 2 pt 5 lc rgb "#2ca02c" dt 2 title "bpfnet tc, established", \
     "" using 1:6 with linespoints pt 7 lc rgb "#d62728" title "Docker-style iptables-nft, new", \
     "" using 1:7 with linespoints pt 5 lc rgb "#d62728" dt 2 title "Docker-style iptables-nft, established", \
     "" using 1:8 with linespoints pt 7 lc rgb "#ff7f0e" title "Docker-style iptables-legacy, new", \
     "" using 1:9 with linespoints pt 5 lc rgb "#ff7f0e" dt 2 title "Docker-style iptables-legacy, established", \
     "" using 1:10 with linespoints pt 9 lc rgb "#d62728" dt 3 title "Docker-style iptables-nft, new tuples", \
     "" using 1:11 with linespoints pt 9 lc rgb "#ff7f0e" dt 3 title "Docker-style iptables-legacy, new tuples"
