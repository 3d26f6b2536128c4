# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# latency.png for tools/bench/dot_bench.sh. Variables (gnuplot -e):
#   outdir   results directory: TARGET.cdf.dat ("us fraction") and
#            bars.dat ("label p50 p99"), written by dot_bench.sh
#   targets  space-separated target names, in run order
#   rate     the latency phase's fixed rate (QPS), for the titles
#   qa       "on"/"off": the client's quickack route (dot_bench.sh QUICKACK)

set terminal pngcairo size 1400,560 font "DejaVu Sans,11" noenhanced
set output outdir."/latency.png"
set multiplot layout 1,2 title sprintf("DoT forwarders: latency at a fixed %s QPS (dnsperf, unique cache-missing names; client quickack %s)", rate, qa)

label(t) = (t eq "floor") ? "floor (upstream plain UDP)" : \
	(t eq "ceiling") ? "ceiling (dnsperf DoT direct)" : \
	(t eq "unbound") ? "unbound-fwd" : t
color(t) = (t eq "floor") ? "#7f7f7f" : (t eq "ceiling") ? "#000000" : \
	(t eq "dotguard") ? "#d62728" : (t eq "stubby") ? "#1f77b4" : "#2ca02c"

set title "CDF of per-query latency"
set logscale x 10
set xlabel "latency (us, log scale)"
set ylabel "fraction of queries answered"
set yrange [0:1]
set grid xtics ytics mxtics
set key bottom right
plot for [t in targets] outdir."/".t.".cdf.dat" using 1:2 with lines \
	lw 2 lc rgb color(t) title label(t)

unset logscale x
set title "p50 and p99"
set xlabel ""
set ylabel "latency (us, log scale)"
set logscale y 10
set yrange [10:*]
set style data histogram
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set xtics rotate by -20
set key top left
set grid noxtics ytics
plot outdir."/bars.dat" using 2:xtic(1) title "p50" lc rgb "#9ecae1", \
	'' using 3 title "p99" lc rgb "#08519c"

unset multiplot
