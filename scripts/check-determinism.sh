#!/usr/bin/env bash
# check-determinism.sh [CONFIG] — the same bytes under every numeric setting
# (docs/reproducibility.md): runs CONFIG (default configs/demo.yaml) under every instruction-set
# path this CPU has (HUSAI_ISA), OMP_NUM_THREADS 1 and 2 and --jobs 1 and 2, compares the
# sha256 of every HDF5 dataset of every run (husai inspect --checksums) and results.json
# (run_metadata aside), then audits each run with `husai audit --recompute` under its own
# setting.  HUSAI_BIN=path checks that binary instead of building.  Minutes on 2 cores for the demo; prints one line per run and a verdict.
set -uo pipefail
cd "$(dirname "$0")/.."
conf=${1:-configs/demo.yaml}
# HUSAI_BIN: an already built husai to check instead of building one here
if [ -n "${HUSAI_BIN:-}" ]; then bin=$HUSAI_BIN; else
	dir=$(scripts/build.sh release) || exit 1
	bin=$PWD/$dir/husai
fi
out=$(mktemp -d /tmp/husai-determinism.XXXXXX)
export HUSAI_QUIET=1
digest() { (cd "$1" && find . -name '*.h5' | sort | while read -r f; do
	"$bin" inspect --checksums "$f" | grep -v "@" | grep sha256 | sed "s|^|$f |"; done) >"$2"; }
strip() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); d.pop("run_metadata",None); print(json.dumps(d,sort_keys=True))' "$1"; }
isas=()
for isa in scalar avx2 avx512 neon; do HUSAI_ISA=$isa "$bin" version >/dev/null 2>&1 && isas+=("$isa"); done
echo "config $conf; paths here: ${isas[*]}; output in $out"
ref= bad=0
for isa in "${isas[@]}"; do for t in 1 2; do for j in 1 2; do
	name=$isa-t$t-j$j
	start=$(date +%s)
	if ! HUSAI_ISA=$isa OMP_NUM_THREADS=$t "$bin" run --jobs "$j" --out "$out/$name" "$conf" >"$out/$name.log" 2>&1; then
		echo "$name: run failed (see $out/$name.log)"; bad=1; continue
	fi
	digest "$out/$name" "$out/$name.sums"
	strip "$out/$name/results.json" >"$out/$name.results"
	HUSAI_ISA=$isa OMP_NUM_THREADS=$t "$bin" audit --recompute "$out/$name" >"$out/$name.audit" 2>&1
	audit=$?
	[ -z "$ref" ] && ref=$name
	same=identical
	cmp -s "$out/$ref.sums" "$out/$name.sums" || { same="DATASETS DIFFER from $ref"; bad=1; }
	cmp -s "$out/$ref.results" "$out/$name.results" || { same="$same; results.json differs from $ref"; bad=1; }
	[ "$audit" -eq 0 ] || bad=1
	echo "$name: $(wc -l <"$out/$name.sums") datasets, $same; audit --recompute exit $audit; $(( $(date +%s) - start )) s"
done; done; done
[ "$bad" -eq 0 ] && echo "all runs identical and every audit exits 0" || echo "DIFFERENCES: see above"
exit "$bad"
