#!/usr/bin/env bash
# demo.sh — the main job: install what is missing, build, run the demo experiment
# (configs/demo.yaml: transformer -> activations -> SAEs over 5 seeds x 2 conditions ->
# analysis against R1, R2 and the analytic null), then draw its figures and report.
# Rerunning reuses every finished job (checksums verified).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
dir=$(scripts/build.sh release)
run=${HUSAI_DEMO_OUT:-artifacts/demo}
"$dir"/husai run --out "$run" configs/demo.yaml
"$dir"/husai audit -q "$run"
"$dir"/husai report --out "$run-report" "$run"
echo "report: $run-report/report.md (figures in $run-report/*/figures/)"
