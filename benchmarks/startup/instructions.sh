#!/usr/bin/env bash
# Counts the user-space instructions of the short program (Lib), its raw twin (Raw) and the floor (Floor) under valgrind's
# callgrind, for each build that build.sh made in artifacts/startup. Unlike a timing, the count does not move with the
# host's load: two runs of one binary agree to about 0.02 %, so a change of 0.1 % of a short program is visible in one run.
# What it leaves out is the kernel's share (exec, page faults, mmap, thread creation), which the timed A/B (ab.py) keeps;
# benchmarks/README.md ("Wave 8") gives both. Usage: instructions.sh [jit] [r2r] [aot] (default: those that exist).
# Needs valgrind: installed with apt-get when missing and this runs as root.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="$(cd "$here/../.." && pwd)/artifacts/startup"
if ! command -v valgrind >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q valgrind >/dev/null
  else
    echo "instructions.sh: needs valgrind (apt-get install valgrind)" >&2; exit 2
  fi
fi
modes=("$@")
if [ ${#modes[@]} -eq 0 ]; then
  for m in jit r2r aot; do [ -d "$out/$m/lib" ] && modes+=("$m"); done
fi
[ ${#modes[@]} -gt 0 ] || { echo "instructions.sh: nothing built; run build.sh first" >&2; exit 2; }
scratch=$(mktemp -d); trap 'rm -rf "$scratch"' EXIT

count() { # prints the instruction count of one run of "$@"
  valgrind --tool=callgrind --callgrind-out-file="$scratch/cg.%p" "$@" 2>&1 >/dev/null \
    | sed -n 's/.*I *refs: *\([0-9,]*\).*/\1/p' | tr -d ,
}

printf '%-5s %-6s %14s %8s\n' build twin instructions ratio
for mode in "${modes[@]}"; do
  raw=""
  for name in raw floor lib; do
    prog=$(ls "$out/$mode/$name"/Startup* | grep -v '\.\(dll\|dbg\|pdb\|json\)$' | head -1)
    case $mode in
      jit) n=$(count dotnet "$prog.dll") ;;
      # The ILC's .dbg beside a NativeAOT binary makes valgrind 3.19's DWARF reader give up: run a copy without it.
      aot) cp "$prog" "$scratch/$name"; n=$(count "$scratch/$name") ;;
      *) n=$(count "$prog") ;;
    esac
    [ -n "$n" ] || { echo "instructions.sh: no count for $mode/$name" >&2; exit 1; }
    [ -n "$raw" ] || raw=$n
    printf '%-5s %-6s %14s %8s\n' "$mode" "$name" "$n" "$(python3 -c "print(f'{$n/$raw:.4f}')")"
  done
done
