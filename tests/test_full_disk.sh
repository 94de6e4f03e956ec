#!/usr/bin/env bash
# test_full_disk.sh — a write limit (ulimit -f, as a full disk) hit at several points of a small
# smoke experiment: the run stops with an error that names the file, exits non-zero, leaves no
# temporary behind, and every HDF5 file it did leave is complete (husai inspect accepts it);
# raising the limit and rerunning finishes the run.
. "${HUSAI_SOURCE_DIR:?}/tests/script_lib.sh" full_disk
small=(--set data.p=31 --set experiment.expect.p=31 --set sae.d_sae=256 --set experiment.expect.d_sae=256
       --set sae.epochs=1 --set sae.batch_size=256 --set transformer.batch_size=256)
for kb in 150 600 2000; do
	d="$tmp/run_$kb"
	(ulimit -f "$kb"; "$bin" run "${small[@]}" --out "$d" "$src/configs/smoke.yaml") >"$tmp/out" 2>&1; st=$?
	if [ "$st" -ne 0 ]; then
		check "limit ${kb} KB: the error names an .h5 file" grep -q "husai: .*\.h5" "$tmp/out"
		check "limit ${kb} KB: the error says the file is too large" grep -q "File too large" "$tmp/out"
		check "limit ${kb} KB: no crash (status $st)" test "$st" -lt 128
	fi
	check "limit ${kb} KB: no temporary left" test -z "$(find "$d" -name '*.tmp-*' 2>/dev/null)"
	bad=0
	while read -r f; do "$bin" inspect "$f" >/dev/null 2>&1 || { echo "incomplete: $f"; bad=1; }; done \
		< <(find "$d" -name '*.h5' 2>/dev/null)
	check "limit ${kb} KB: every HDF5 file left is complete" test "$bad" -eq 0
	"$bin" run "${small[@]}" --out "$d" "$src/configs/smoke.yaml" >"$tmp/out" 2>&1; st=$?
	check "limit ${kb} KB: rerun without the limit finishes (status $st)" test "$st" -eq 0
done
finish
