#!/usr/bin/env bash
# Packs DaemonThreads into artifacts/startup/feed (a fresh version each time, so no stale copy is restored), then builds
# the short program (Lib: RunMain + one DaemonThread, consuming that package) and its raw twin (Raw) three ways into
# artifacts/startup:
#   jit/{lib,raw}  dotnet build -c Release (IL app; the package's library, ReadyToRun where the package has it)
#   r2r/{lib,raw}  dotnet publish -c Release -r linux-x64 --self-contained false, PublishReadyToRun (app and library)
#   aot/{lib,raw}  dotnet publish -c Release -r linux-x64, PublishAot (needs clang and zlib1g-dev)
# Usage: build.sh [jit] [r2r] [aot]   (default: all three). NOPACK=1 reuses the last packed version.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
out="$root/artifacts/startup"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
modes=("$@"); [ ${#modes[@]} -eq 0 ] && modes=(jit r2r aot)
mkdir -p "$out/feed"
if [ "${NOPACK:-0}" != 1 ] || [ ! -f "$out/version" ]; then
  version="0.1.0-startup.$(date +%s)"
  dotnet pack "$root/src/DaemonThreads/DaemonThreads.csproj" -c Release -o "$out/feed" -p:Version="$version" -nologo -v q
  echo "$version" > "$out/version"
fi
version=$(cat "$out/version")
python3 "$here/check-r2r.py" "$out/feed/DaemonThreads.$version.nupkg"
for mode in "${modes[@]}"; do
  for p in Lib:lib Raw:raw Floor:floor; do
    dir=${p%%:*}; name=${p##*:}
    proj=$(ls "$here/$dir"/*.csproj)
    rm -rf "$out/$mode/$name"
    case $mode in
      jit) dotnet build "$proj" -c Release -o "$out/jit/$name" -p:DaemonThreadsVersion="$version" -nologo -v q ;;
      r2r|aot) dotnet publish "$proj" -c Release -r linux-x64 --self-contained $([ $mode = aot ] && echo true || echo false) \
             -p:StartupMode=$mode -p:DaemonThreadsVersion="$version" -o "$out/$mode/$name" -nologo -v q ;;
      *) echo "unknown mode $mode" >&2; exit 2 ;;
    esac
  done
done
