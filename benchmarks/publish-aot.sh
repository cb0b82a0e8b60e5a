#!/usr/bin/env bash
# Publishes a project of this repository with NativeAOT for linux-x64 and fails on any trim or AOT warning.
#
#   bash benchmarks/publish-aot.sh PROJECT OUTPUT_DIR [MSBUILD_ARG ...]
#
# Used by .ci/aot-check (the Quickstart sample) and meant for the start-up benchmark (issue 11). Installs what the
# native toolchain needs when it is missing: clang and zlib1g-dev through apt-get. The ILCompiler packages come from
# NuGet with the restore. Prints the path of the native executable as its last line.
set -euo pipefail
cd "$(dirname "$0")/.."

export DOTNET_CLI_TELEMETRY_OPTOUT=1
export DOTNET_NOLOGO=1
export DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

project="${1:?usage: publish-aot.sh PROJECT OUTPUT_DIR}"
out="${2:?usage: publish-aot.sh PROJECT OUTPUT_DIR}"
shift 2 # the rest go to dotnet publish (for example -p:DaemonThreadsTracingSupport=true)

# NativeAOT links with clang and needs zlib's headers and static library (libz.a).
missing=()
command -v clang >/dev/null 2>&1 || missing+=(clang)
dpkg -s zlib1g-dev >/dev/null 2>&1 || missing+=(zlib1g-dev)
if [ ${#missing[@]} -gt 0 ]; then
  echo "== apt-get install ${missing[*]}" >&2
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

log="$(mktemp "${TMPDIR:-/tmp}/daemonthreads-aot.XXXXXX")"
trap 'rm -f "$log"' EXIT
echo "== dotnet publish $project (PublishAot, linux-x64)" >&2
# TrimmerSingleWarn=false: a warning inside a package is shown where it is, not folded into one IL2104 per assembly.
if ! dotnet publish "$project" -c Release -r linux-x64 -p:PublishAot=true -p:TrimmerSingleWarn=false -o "$out" --nologo "$@" >"$log" 2>&1; then
  cat "$log" >&2
  echo "publish-aot: dotnet publish failed" >&2
  exit 1
fi
# Trim analysis (IL2xxx), AOT analysis (IL3xxx) and any other warning fail the publish, whatever the project's
# TreatWarningsAsErrors says.
if grep -E '(^|[ :])warning [A-Z]{2,}[0-9]+' "$log" >&2; then
  echo "publish-aot: the publish produced the warnings above" >&2
  exit 1
fi

name="$(basename "$project" .csproj)"
[ -x "$out/$name" ] || { cat "$log" >&2; echo "publish-aot: no native executable $out/$name" >&2; exit 1; }
echo "$out/$name"
