#!/usr/bin/env bash
# Whole-process start-up of the short program (RunMain + start and join one DaemonThread, ../startup/Lib) against its
# raw twin (Raw) and the floor (Floor: Raw plus the exit handler and the three signal registrations the library must
# have in place), for JIT (dotnet build), ReadyToRun (publish, app and library) and NativeAOT; CPython and Java run the
# same program for the chart.
#   1. build.sh (packs the library, builds every variant, checks the package's ReadyToRun images)
#   2. exit-path check of the NativeAOT build: output "ok", exit code 0; SIGTERM 1 ms after spawn, 20 times: every run
#      exits 0 (signal after the exit), 143 (the sequence ran on it) or dies of it (it came before the handlers existed)
#   3. ab.py: ROUNDS rounds, every command once per round in rotated order (wall spawn-to-reap, CPU user+sys from
#      wait4), ratios per round against raw of the same build; results/ab-*.txt and results/startup.tsv
#   4. hyperfine (same commands, for a second opinion) and GNU time -v (peak RSS, context switches): results/
#   5. chart.py: benchmarks/startup.svg from results/startup.tsv (one run)
# usage: benchmarks/startup/run.sh [ROUNDS=40]   (NOBUILD=1 reuses artifacts/startup)
# needs: dotnet SDK, python3, hyperfine and GNU time (apt-get install -y hyperfine time), clang and zlib1g-dev (AOT),
#        java/javac (optional row)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
rounds="${1:-40}"
A="$root/artifacts/startup"
res="$here/results"
mkdir -p "$res"
[ "${NOBUILD:-0}" = 1 ] || "$here/build.sh" jit r2r aot

echo "== NativeAOT exit-path check"
out="$("$A/aot/lib/StartupLib")"; code=$?
[ "$out" = ok ] && [ $code = 0 ] || { echo "aot: expected 'ok' and 0, got '$out' and $code" >&2; exit 1; }
python3 - "$A/aot/lib/StartupLib" <<'PY'
import os, signal, subprocess, sys, time
# The short program exits within milliseconds; so that a signal lands while RunMain runs, the check sends SIGTERM right
# after spawn and accepts a clean run (the signal came after the exit), 143 (the sequence ran on the signal) or death by
# the signal (-15: it came before the runtime or the library had installed a handler); anything else fails.
codes = set()
for _ in range(20):
    p = subprocess.Popen([sys.argv[1]], stdout=subprocess.PIPE)
    time.sleep(0.001)
    p.send_signal(signal.SIGTERM)
    p.communicate()
    codes.add(p.returncode)
bad = codes - {0, 143, -15}
if bad:
    sys.exit(f"aot: SIGTERM gave exit codes {sorted(codes)}")
print(f"aot exit-path check ok: exit codes under SIGTERM {sorted(codes)}")
PY

py="$(python3 -c 'import sys; print(sys.executable)')"
java_row=()
if command -v javac >/dev/null && command -v java >/dev/null; then
  mkdir -p "$A/java" && javac -d "$A/java" "$here/Startup.java"
  java_row=("Java 17=java -cp $A/java Startup")
fi
echo "# start-up, $(date -u +%Y-%m-%dT%H:%MZ), nproc=$(nproc), load $(cut -d' ' -f1-3 /proc/loadavg)" > "$res/startup.tsv"
run_ab() { # name, then commands
  local name=$1; shift
  echo "== $name (load $(cut -d' ' -f1-3 /proc/loadavg))"
  python3 "$here/ab.py" "$rounds" 3 "$@" | tee "$res/ab-$name.txt"
  echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$res/ab-$name.txt"
}
run_ab jit "raw JIT=dotnet $A/jit/raw/StartupRaw.dll" "floor JIT=dotnet $A/jit/floor/StartupFloor.dll" "DaemonThreads JIT=dotnet $A/jit/lib/StartupLib.dll"
run_ab r2r "raw R2R=$A/r2r/raw/StartupRaw" "floor R2R=$A/r2r/floor/StartupFloor" "DaemonThreads R2R=$A/r2r/lib/StartupLib"
run_ab aot "raw AOT=$A/aot/raw/StartupRaw" "floor AOT=$A/aot/floor/StartupFloor" "DaemonThreads AOT=$A/aot/lib/StartupLib"
# The chart's run: every row of the chart in one ab.py run, raw JIT as the baseline.
AB_TSV="$res/startup.tsv" run_ab chart "raw .NET (JIT)=dotnet $A/jit/raw/StartupRaw.dll" "raw .NET (AOT)=$A/aot/raw/StartupRaw" \
  "DaemonThreads JIT=dotnet $A/jit/lib/StartupLib.dll" "DaemonThreads R2R=$A/r2r/lib/StartupLib" "DaemonThreads AOT=$A/aot/lib/StartupLib" \
  "CPython 3.11=$py $here/startup.py" "${java_row[@]}"

if command -v hyperfine >/dev/null; then
  for m in jit r2r aot; do
    case $m in jit) pre="dotnet "; ext=.dll ;; *) pre=""; ext="" ;; esac
    hyperfine -N -w 3 -r "$rounds" --export-markdown "$res/hyperfine-$m.md" \
      -n "raw $m" "$pre$A/$m/raw/StartupRaw$ext" -n "floor $m" "$pre$A/$m/floor/StartupFloor$ext" \
      -n "DaemonThreads $m" "$pre$A/$m/lib/StartupLib$ext" >/dev/null
    cat "$res/hyperfine-$m.md"
  done
fi
if [ -x /usr/bin/time ]; then
  : > "$res/time-v.txt"
  for cmd in "dotnet $A/jit/raw/StartupRaw.dll" "dotnet $A/jit/lib/StartupLib.dll" "$A/r2r/raw/StartupRaw" "$A/r2r/lib/StartupLib" \
             "$A/aot/raw/StartupRaw" "$A/aot/lib/StartupLib"; do
    /usr/bin/time -v $cmd 2>&1 >/dev/null | grep -E "Command|Elapsed|Maximum resident|User time|System time|context switches" >> "$res/time-v.txt"
  done
  cat "$res/time-v.txt"
fi
python3 "$here/chart.py" "$res/startup.tsv" "$root/benchmarks/startup.svg"
echo "chart: benchmarks/startup.svg, raw data: ${res#"$root"/}/startup.tsv"
