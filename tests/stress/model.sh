#!/usr/bin/env bash
# The model-based exit test (tests/DaemonThreads.Tests/Model/ExitModelTests.cs) on more generated programs.
#   tests/stress/model.sh [RUNS] [SEED]        RUNS programs (default 500) of SEED (default: a new one, printed)
#   tests/stress/model.sh replay 'PROGRAM'     one program, as a failure printed it (DAEMONTHREADS_MODEL_PROGRAM)
# CI runs 40 programs of the fixed seed 20261201. The same seed and index always give the same program; a failure
# prints the seed, the index and the program string, and the child's output. DAEMONTHREADS_STRESS_PARALLEL (default 3)
# is how many child processes run at once.
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ "${1:-}" = "replay" ]; then
  export DAEMONTHREADS_MODEL_PROGRAM="${2:?usage: model.sh replay 'PROGRAM'}"
else
  export DAEMONTHREADS_MODEL_RUNS="${1:-500}"
  export DAEMONTHREADS_MODEL_SEED="${2:-$(( (RANDOM << 15) | RANDOM ))}"
  echo "model: $DAEMONTHREADS_MODEL_RUNS programs of seed $DAEMONTHREADS_MODEL_SEED"
fi
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
dotnet build tests/DaemonThreads.Tests/DaemonThreads.Tests.csproj -c Debug -v quiet --nologo
dotnet test tests/DaemonThreads.Tests/DaemonThreads.Tests.csproj --no-build -c Debug \
  --filter "FullyQualifiedName~DaemonThreads.Tests.Model.ExitModelTests" \
  --logger "console;verbosity=detailed"
