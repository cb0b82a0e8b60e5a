#!/usr/bin/env bash
# Whole-process benchmarks of DaemonThreads against raw System.Threading.Thread, with hyperfine and GNU time.
#   1. exit with K blocked daemon threads (K = 1000, 10000): DaemonThread(isDaemon: true) vs Thread{IsBackground=true}
#   2. exit while 100 non-daemon threads each sleep 200 ms: how long after the slowest thread ends the process is
#      gone (and when the last ProcessExit handler runs), measured by the harness spawning itself; plus hyperfine.
#   3. peak RSS (GNU time -v) idle with 0 and 1000 live blocked threads, per live thread (raw, named raw, DaemonThread).
# Tools for measuring only: apt-get install -y hyperfine time
#
# usage: benchmarks/run-process-benchmarks.sh [RUNS=15]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
runs="${1:-15}"
out="$here/results"
mkdir -p "$out"

command -v hyperfine >/dev/null || { echo "hyperfine not found (apt-get install -y hyperfine)"; exit 1; }
[ -x /usr/bin/time ] || { echo "/usr/bin/time not found (apt-get install -y time)"; exit 1; }

dotnet build "$here/DaemonThreads.ExitHarness/DaemonThreads.ExitHarness.csproj" -c Release -v q -nologo >/dev/null
h="dotnet $here/DaemonThreads.ExitHarness/bin/Release/net10.0/DaemonThreads.ExitHarness.dll"

echo "== 1. exit with K abandoned daemon threads (hyperfine, $runs runs each, 2 warm-up)"
# K=0 "dt" initialises the library and exits: what using it at all costs a process. "named" is a raw Thread that
# names itself and runs under a flowed context, as every DaemonThread does.
for k in 0 1000 10000; do
  hyperfine -N --warmup 2 --runs "$runs" --style basic \
    --export-markdown "$out/daemon-exit-$k.md" --export-json "$out/daemon-exit-$k.json" \
    -n "raw Thread K=$k" "$h daemon-exit $k raw" \
    -n "DaemonThread K=$k" "$h daemon-exit $k dt" \
    -n "named raw Thread K=$k" "$h daemon-exit $k named"
done

echo "== 2. exit waiting for 100 non-daemon threads that sleep 200 ms"
$h nondaemon-measure "$runs" 100 200 raw | tee "$out/nondaemon-exit.txt"
$h nondaemon-measure "$runs" 100 200 dt | tee -a "$out/nondaemon-exit.txt"
hyperfine -N --warmup 2 --runs "$runs" --style basic --export-markdown "$out/nondaemon-exit.md" \
  -n "raw Thread 100x200ms" "$h nondaemon-exit 100 200 raw" \
  -n "DaemonThread 100x200ms" "$h nondaemon-exit 100 200 dt"

echo "== 3. peak RSS idle with K live blocked threads (GNU time -v, 5 runs each, median)"
peak() { # prints the median "Maximum resident set size" (KiB) of 5 runs
  for _ in 1 2 3 4 5; do
    /usr/bin/time -v $h idle "$1" "$2" 2>&1 >/dev/null | sed -n 's/.*Maximum resident set size (kbytes): //p'
  done | sort -n | sed -n 3p
}
{
  printf "| kind | K=0 peak KiB | K=1000 peak KiB | KiB per live thread |\n|---|---:|---:|---:|\n"
  for kind in raw named dt; do
    p0=$(peak 0 "$kind"); p1=$(peak 1000 "$kind")
    printf "| %s | %s | %s | %s |\n" "$kind" "$p0" "$p1" "$(awk -v a="$p0" -v b="$p1" 'BEGIN { printf "%.1f", (b - a) / 1000 }')"
  done
} | tee "$out/rss.md"
echo "results in ${out}"
