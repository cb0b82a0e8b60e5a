#!/usr/bin/env bash
# Longer run of the exit-code races (tests/DaemonThreads.Tests/ExitCodeRaceTests.cs): every race N times.
#   tests/stress/exit-races.sh N [PARALLEL]
# N defaults to 1000. PARALLEL (default 3) is how many child processes run at once; keep it at 2-4 on a 2-core machine.
# The Environment.Exit race waits JoinTimeout (2 s) in every run, so it alone takes about N * 2.2 s / 4.
# The figures (runs, failures, codes, timings) are printed per race; a failure prints the child's output.
set -euo pipefail
cd "$(dirname "$0")/../.."
runs="${1:-1000}"
export DAEMONTHREADS_RACE_RUNS="$runs"
export DAEMONTHREADS_STRESS_PARALLEL="${2:-3}"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
dotnet build tests/DaemonThreads.Tests/DaemonThreads.Tests.csproj -c Debug -v quiet --nologo
dotnet test tests/DaemonThreads.Tests/DaemonThreads.Tests.csproj --no-build -c Debug \
  --filter "FullyQualifiedName~DaemonThreads.Tests.ExitCodeRaceTests" \
  --logger "console;verbosity=detailed"
