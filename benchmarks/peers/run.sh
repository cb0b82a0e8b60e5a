#!/usr/bin/env bash
# Start + join latency of an empty thread: raw .NET Thread, DaemonThread, CPython threading, Java platform threads.
# Each row is ROUNDS process runs in an interleaved order (raw, dt, cpython, java, raw, ...); each run warms up
# with N/10 threads, pauses 200 ms, then prints the median of N individually timed start+joins. Prints a table of
# the per-run medians (median, min, max, ratio vs raw .NET of the same round) and writes benchmarks/startjoin.svg.
#
# Then executor submit + completion (executor.py, Executor.java and their .NET twin dotnet/ExecutorTwin, as Task.Run and as
# DaemonThreadPool): EXEC_N items per run, EXEC_ROUNDS interleaved rounds, us per item from 1 and 8 submitters and the
# median latency of one submit + wait; ratios vs Task.Run of the same round (results/executor.tsv).
#
# usage: benchmarks/peers/run.sh [N=5000] [ROUNDS=5]   (env: EXEC_N=20000 EXEC_ROUNDS=5; SKIP_STARTJOIN=1)
# needs: dotnet SDK, python3 (the CPython row and the chart), javac/java (the Java row; skipped when missing).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
n="${1:-5000}"
rounds="${2:-5}"
out="$here/results"
mkdir -p "$out"
results="$out/startjoin.tsv"

dotnet build "$root/benchmarks/DaemonThreads.ExitHarness/DaemonThreads.ExitHarness.csproj" -c Release -v q -nologo >/dev/null
harness="$root/benchmarks/DaemonThreads.ExitHarness/bin/Release/net10.0/DaemonThreads.ExitHarness.dll"
python="$(python3 -c 'import sys; print(sys.executable)')" # the real interpreter, not a version-manager shim
have_java=0
if command -v javac >/dev/null && command -v java >/dev/null; then
  mkdir -p "$out/classes"
  javac -d "$out/classes" "$here/StartJoin.java" "$here/Executor.java"
  have_java=1
fi

if [ "${SKIP_STARTJOIN:-0}" != 1 ]; then
median_of() { sed -n 's/.*median_us=\([0-9.]*\).*/\1/p'; }

{
  echo "# start+join median us per thread, N=$n, $(date -u +%Y-%m-%dT%H:%MZ), nproc=$(nproc)"
} >"$results"
for ((r = 1; r <= rounds; r++)); do
  echo -e ".NET raw Thread\t$(dotnet "$harness" startjoin "$n" raw | median_of)" >>"$results"
  echo -e ".NET DaemonThread\t$(dotnet "$harness" startjoin "$n" dt | median_of)" >>"$results"
  echo -e "CPython $("$python" -c 'import platform; print(platform.python_version())')\t$("$python" "$here/startjoin.py" "$n" | median_of)" >>"$results"
  if [ "$have_java" = 1 ]; then
    echo -e "Java $(java -version 2>&1 | sed -n '1s/.*version "\([0-9]*\).*/\1/p')\t$(java -cp "$out/classes" StartJoin "$n" | median_of)" >>"$results"
  fi
done

# The table: median/min/max over rounds, and the median over rounds of (row / raw .NET of the same round).
awk -F'\t' '
  /^#/ { next }
  { v[$1, ++c[$1]] = $2; if (!($1 in seen)) { seen[$1] = 1; order[++k] = $1 } }
  function med(arr, m,   i, j, t) { for (i = 1; i <= m; i++) for (j = i + 1; j <= m; j++) if (arr[j] < arr[i]) { t = arr[i]; arr[i] = arr[j]; arr[j] = t }
                                    return (m % 2) ? arr[(m + 1) / 2] : (arr[m / 2] + arr[m / 2 + 1]) / 2 }
  END {
    printf "| %-20s | %10s | %8s | %8s | %13s |\n", "start+join (us)", "median", "min", "max", "ratio vs raw"
    printf "|%s|%s|%s|%s|%s|\n", "----------------------", "-----------:", "---------:", "---------:", "--------------:"
    for (i = 1; i <= k; i++) {
      name = order[i]; m = c[name]
      for (j = 1; j <= m; j++) { a[j] = v[name, j] + 0; rr[j] = (v[name, j] + 0) / (v[order[1], j] + 0) }
      md = med(a, m); lo = a[1]; hi = a[m]; rt = med(rr, m)
      printf "| %-20s | %10.1f | %8.1f | %8.1f | %13.2f |\n", name, md, lo, hi, rt
    }
  }' "$results"

"$python" "$here/chart.py" "$results" "$root/benchmarks/startjoin.svg"
echo "chart: benchmarks/startjoin.svg, raw data: ${results#"$root"/}"
fi

# Executor submit + completion.
dotnet build "$here/dotnet/ExecutorTwin.csproj" -c Release -v q -nologo >/dev/null
twin="$here/dotnet/bin/Release/net10.0/ExecutorTwin.dll"
exec_n="${EXEC_N:-20000}"
exec_rounds="${EXEC_ROUNDS:-5}"
exec_results="$out/executor.tsv"
echo "# executor us per item (tput1, tput8, latency), N=$exec_n, $(date -u +%Y-%m-%dT%H:%MZ), nproc=$(nproc), load $(cut -d' ' -f1-3 /proc/loadavg)" >"$exec_results"
fields() { sed -n 's/.*tput1_us=\([0-9.]*\) tput8_us=\([0-9.]*\) latency_us=\([0-9.]*\).*/\1\t\2\t\3/p'; }
for ((r = 1; r <= exec_rounds; r++)); do
  echo -e ".NET Task.Run\t$(dotnet "$twin" "$exec_n" taskrun | fields)" >>"$exec_results"
  echo -e ".NET DaemonThreadPool\t$(dotnet "$twin" "$exec_n" pool | fields)" >>"$exec_results"
  echo -e "CPython ThreadPoolExecutor\t$("$python" "$here/executor.py" "$exec_n" | fields)" >>"$exec_results"
  if [ "$have_java" = 1 ]; then
    echo -e "Java newFixedThreadPool\t$(java -cp "$out/classes" Executor "$exec_n" | fields)" >>"$exec_results"
  fi
done
"$python" "$here/executor_table.py" "$exec_results"
