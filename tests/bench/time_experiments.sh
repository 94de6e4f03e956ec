#!/usr/bin/env bash
# time_experiments.sh <husai> [activations.h5] — wall time of the parity core-ablation,
# adaptive-L0 and consistency-sweep experiments from SAE training through statistics, given
# the activation set (issue 7's benchmark; upstream's Python runners take about 32 s, 78 s and
# 43 s for these on a 2-core machine).  Same seeds, steps and bootstrap samples as upstream.
# Without an activation set, one is made first with configs/parity/phase4a_run29.yaml's
# transformer and extraction (not timed).
set -euo pipefail
bin=${1:?usage: time_experiments.sh <husai> [activations.h5]}
here=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export HUSAI_QUIET=1 OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
acts=${2:-}
if [ -z "$acts" ]; then
	"$bin" run --out "$tmp/smoke" --set transformer.answer_position=upstream \
		--set transformer.epochs=3 --set transformer.batch_size=2048 "$here/configs/smoke.yaml" >/dev/null
	acts="$tmp/smoke/activations.h5"
fi
total=0
for exp in core_ablations adaptive_l0 consistency_sweep; do
	t0=$(date +%s.%N)
	"$bin" run --out "$tmp/$exp" --set experiment.activations="$acts" "$here/configs/parity/$exp.yaml" >/dev/null
	t=$(echo "$(date +%s.%N) - $t0" | bc)
	total=$(echo "$total + $t" | bc)
	printf '%-18s %8.1f s\n' "$exp" "$t"
done
printf '%-18s %8.1f s   (upstream runners: 32 + 78 + 43 = 153 s; target < 50 s)\n' total "$total"
