#!/usr/bin/env bash
# build.sh [release|asan] — configure and build into build/ (or build-asan/).
set -euo pipefail
cd "$(dirname "$0")/.."
kind=${1:-release}
case "$kind" in
release) dir=build; type=Release ;;
asan) dir=build-asan; type=asan ;;
*) echo "usage: scripts/build.sh [release|asan]" >&2; exit 2 ;;
esac
cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE="$type" >/dev/null
cmake --build "$dir" -j"$(nproc)" >/dev/null
echo "$dir"
