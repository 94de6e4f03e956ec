#!/usr/bin/env bash
# demo.sh — the main job: install what is missing, build, and run the demo experiment.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
dir=$(scripts/build.sh release)
"$dir"/husai --help
