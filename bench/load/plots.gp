# Plots of scripts/bench-load's summary: one line per reader over the offered
# rates. Called by report.py with `results` (directory of plot-READER.dat
# files, also where the PNGs go) and `readers` (space-separated names).
set terminal pngcairo noenhanced size 960,600 font ",10"
set key outside right top
set grid
set xtics rotate by -20
set xlabel "offered rate (events/s; flood: as fast as 1 or 2 senders go)"
data(r) = sprintf("%s/plot-%s.dat", results, r)

set output results."/events.png"
set title "Events per second received"
set logscale y
set ylabel "events/s"
plot for [r in readers] data(r) using 1:3:xtic(2) with linespoints title r

set output results."/cpu.png"
set title "Reader CPU per event (user + system)"
set ylabel "ns per event"
plot for [r in readers] data(r) using 1:4:xtic(2) with linespoints title r

set output results."/loss.png"
set title "Loss against the rule's counter (0 drawn at 0.0001 %)"
set yrange [0.00005:100]
set ylabel "% of logged events"
plot for [r in readers] data(r) using 1:8:xtic(2) with linespoints title r

set autoscale y
set output results."/latency.png"
set terminal pngcairo noenhanced size 960,1200 font ",10"
set multiplot layout 3,1 title "Latency from send to event in hand"
set ylabel "microseconds"
set title "p50"
plot for [r in readers] data(r) using 1:5:xtic(2) with linespoints title r
set title "p99"
plot for [r in readers] data(r) using 1:6:xtic(2) with linespoints title r
set title "max"
plot for [r in readers] data(r) using 1:7:xtic(2) with linespoints title r
unset multiplot
