# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# latency.png for tools/bench/redirect_bench.sh. Variables (gnuplot -e):
#   outdir   results directory: PATH.cdf.dat ("us fraction") and
#            bars.dat ("label p50 p99"), written by redirect_bench.sh
#   paths    space-separated path names, in run order
#   rate     the latency phase's fixed rate (QPS), for the titles

set terminal pngcairo size 1400,560 font "DejaVu Sans,11" noenhanced
set output outdir."/latency.png"
set multiplot layout 1,2 title sprintf("Queries past the stub: latency at a fixed %s QPS (dnsperf, unique cache-missing names, DoT upstream)", rate)

label(p) = (p eq "redirect") ? "redirect (rogue -> tc -> AF_XDP -> dotguard)" : \
	(p eq "stub") ? "stub (127.0.0.53 dotguard)" : \
	(p eq "dnat") ? "dnat+stubby (rogue -> nft DNAT -> Stubby)" : p
color(p) = (p eq "redirect") ? "#d62728" : (p eq "stub") ? "#ff7f0e" : "#1f77b4"

set title "CDF of per-query latency"
set logscale x 10
set xlabel "latency (us, log scale)"
set ylabel "fraction of queries answered"
set yrange [0:1]
set grid xtics ytics mxtics
set key bottom right
plot for [p in paths] outdir."/".p.".cdf.dat" using 1:2 with lines \
	lw 2 lc rgb color(p) title label(p)

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
set key top left
set grid noxtics ytics
plot outdir."/bars.dat" using 2:xtic(1) title "p50" lc rgb "#9ecae1", \
	'' using 3 title "p99" lc rgb "#08519c"

unset multiplot
