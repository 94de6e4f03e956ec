#!/usr/bin/env bash
# test_audit_hostile.sh — an archive cannot make `husai audit --recompute` run, write or read
# what it says: the analyses' commands are rebuilt from the run's config.yaml, never taken from
# a done record.  A record whose `argv` sends the output elsewhere (--out=PATH, an abbreviated
# --ou PATH, a second --out), names inputs outside the run directory (an absolute path
# elsewhere, a '..' path, a symbolic link leading out), carries an option analyze does not
# have, a positional argument or a group name that is a path, or is not a list of strings, is
# simply not used: the analyses recompute exactly as from the untouched copy, and nothing is
# written outside the scratch directory.  A record whose outputs leave the run, or a
# jobs/analysis.yaml that names files, is refused, naming it.  A copy of a run is recomputed
# from the copy's files, not from the paths its records name.  Uses tests/fixtures/old-archive
# (no run needed).
. "${HUSAI_SOURCE_DIR:?}/tests/script_lib.sh" audit_hostile
command -v python3 >/dev/null || { echo "no python3: skipped"; exit 77; }
fixture="$src/tests/fixtures/old-archive"
orig=/tmp/husai-3ba42eb/run # where the fixture's records say the run was
rec=jobs/analysis_d_sae_sweep_dsae8_k2.done.json # the first record: refused before any rerun
pwned="$tmp/PWNED"

# fresh: a new copy of the fixture in $tmp/a
fresh() { rm -rf "$tmp/a"; mkdir -p "$tmp/a"; cp -a "$fixture/." "$tmp/a/"; }
# refused DESCRIPTION NAMED EXPECTED-TEXT: the audit of $tmp/a fails, names NAMED and says
# EXPECTED-TEXT, and nothing appeared at $pwned
refused() {
	"$bin" audit --recompute "$tmp/a/run" >"$tmp/out" 2>&1; local st=$?
	check "$1: exit 1 (status $st)" test "$st" -eq 1
	check "$1: $2 is named" grep -q -- "$2" "$tmp/out"
	check "$1: says '$3'" grep -q -- "$3" "$tmp/out"
	check "$1: nothing written outside" test ! -e "$pwned"
	check "$1: no crash" sh -c "! grep -q -i 'sanitizer\|core dumped\|Segmentation' '$tmp/out'"
}
# unused DESCRIPTION: the audit of $tmp/a recomputes the analyses exactly as the untouched copy
# did (the same verdict line), is completed, and nothing appeared at $pwned
unused() {
	"$bin" audit --recompute "$tmp/a/run" >"$tmp/out" 2>&1; local st=$?
	check "$1: the analyses recompute as from the untouched copy" \
		grep -qxF -- "$(cat "$tmp/untouched.line")" "$tmp/out"
	check "$1: the audit is completed" sh -c "! grep -q 'could not be completed' '$tmp/out'"
	check "$1: only the manifest (which lists the record) differs (status $st)" \
		grep -q "; the manifest does not match; exit 1\$" "$tmp/out"
	check "$1: nothing written outside" test ! -e "$pwned"
	check "$1: no crash" sh -c "! grep -q -i 'sanitizer\|core dumped\|Segmentation' '$tmp/out'"
}

fresh
"$bin" audit --recompute "$tmp/a/run" >"$tmp/out" 2>&1; st=$?
# made before the numeric core (numeric version 0): its numbers may differ in the last bits,
# but the audit is carried out, with verdicts, and refuses nothing
check "the untouched copy audits (status $st)" test "$st" -eq 0 -o "$st" -eq 4 -o "$st" -eq 1
check "the untouched copy is not refused" sh -c "! grep -q -e 'refus' -e 'could not be completed' '$tmp/out'"
grep "a/run: .*analysis outputs recomputed from the archived checkpoints" "$tmp/out" >"$tmp/untouched.line"
check "the untouched copy's analyses were recomputed" test -s "$tmp/untouched.line"

# hostile edits of the record: DESCRIPTION <tab> PYTHON (changes the argv list a, the record
# d) <tab> EXPECTED-TEXT; every variant is written by one python3 (its start-up is slow)
cond=d_sae_sweep_dsae8_k2
cat >"$tmp/cases" <<CASES
--out=PATH elsewhere	i = a.index('--out'); a[i:i+2] = ['--out=$pwned/analysis/$cond']	which is not a file inside the run directory '$pwned'
--out=PATH not naming the outputs' directory	i = a.index('--out'); a[i:i+2] = ['--out=$pwned']	is not <run>/analysis/$cond
an abbreviated --ou	i = a.index('--out'); a[i] = '--ou'; a[i+1] = '$pwned'	'--ou' is not an option of
a second --out	a += ['--out', '$pwned/analysis/$cond']	a second --out
a second --out=	a += ['--out=$pwned/analysis/$cond']	a second --out
an unknown option	a += ['--outdir', '$pwned']	'--outdir' is not an option
a positional argument	a += ['$pwned']	expected an option of
a short option	a += ['-h']	expected an option of
--help	a += ['--help']	'--help' is not an option
a value on a flag	a += ['--no-matchings=$pwned']	takes no value
a missing value	a += ['--threshold']	expected a value after --threshold
an option where a value belongs	i = a.index('--bootstrap'); a[i+1] = '--out=$pwned'	expected a value after --bootstrap
an input outside the run	i = a.index('--group'); a[i+1] = '$cond=/etc/passwd'	which is not a file inside the run directory
a '..' input path	i = a.index('--group'); a[i+1] = '$cond=$orig/../../../etc/passwd'	which is not a file inside the run directory
a group name that is a path	i = a.index('--group'); a[i+1] = '../../../$pwned/x=' + a[i+1].split('=', 1)[1]	with a plain name
an input the run does not have	i = a.index('--config'); a[i+1] = '$orig/jobs/missing.yaml'	which has no such file
a symbolic link out of the run	i = a.index('--group'); a[i+1] = '$cond=$orig/sae/escape/passwd'	leads outside it
an output path with '..'	d['outputs'][0]['path'] = '../../../$pwned/results.json'	expected a path inside the run directory
outputs in two directories	d['outputs'][1]['path'] = 'analysis/elsewhere/analysis.h5'	has not finished: no done record in jobs/ lists its output 'analysis/$cond/analysis.h5'
no --out	a[1:] = []	expected --out <run>/analysis/$cond
a non-string argument	a.append(7)	expected a string
CASES
mkdir -p "$tmp/variants"
python3 - "$fixture/run/$rec" "$tmp/cases" "$tmp/variants" <<'PY'
import json, sys
rec, cases, out = sys.argv[1:]
for n, line in enumerate(open(cases).read().splitlines()):
    env = {"d": json.load(open(rec))}
    env["a"] = env["d"]["argv"]
    exec(line.split("\t")[1], env)
    json.dump(env["d"], open("%s/%d.json" % (out, n), "w"), indent=2)
PY
i=0
while IFS=$'\t' read -r what code expected; do
	fresh
	cp "$tmp/variants/$i.json" "$tmp/a/run/$rec"
	[ "$what" = "a symbolic link out of the run" ] && ln -s /etc "$tmp/a/run/sae/escape"
	case "$what" in
	"an output path with '..'") refused "$what" "$rec" "$expected" ;;
	"outputs in two directories") refused "$what" "analysis_$cond" "$expected" ;;
	*) unused "$what" ;;
	esac
	i=$((i + 1))
done <"$tmp/cases"
check "every hostile variant was tried" test "$i" -eq 21
fresh; printf 'analysis:\n  activations: /etc/passwd\n' >"$tmp/a/run/jobs/analysis.yaml"
refused "a jobs/analysis.yaml that names files" "jobs/analysis.yaml" "sets analysis.activations"

# a copy is recomputed from its own files: a run made here, copied; the place its records name
# then holds other SAEs (seeds 1 and 2 swapped), which would change every pairwise number, yet
# the copy audits identical
"$bin" run --out "$tmp/orig/run" "$src/tests/fixtures/golden/config.yaml" >"$tmp/out" 2>&1
check "a small run for the copy test" test -f "$tmp/orig/run/results.json"
mkdir -p "$tmp/copy"; cp -a "$tmp/orig/run" "$tmp/copy/run"
s="$tmp/orig/run/sae/k_sweep_dsae64_k4"
mv "$s/sae_seed1.h5" "$s/x.h5"; mv "$s/sae_seed2.h5" "$s/sae_seed1.h5"; mv "$s/x.h5" "$s/sae_seed2.h5"
"$bin" audit --recompute "$tmp/copy/run" >"$tmp/out" 2>&1; st=$?
check "a copy is recomputed from its own checkpoints (status $st)" test "$st" -eq 0
check "(its analyses were recomputed)" grep -q "copy/run: ok, 15 analysis outputs recomputed from the archived checkpoints are identical" "$tmp/out"
"$bin" audit --recompute "$tmp/orig/run" >"$tmp/out" 2>&1
check "(the swapped SAEs do change the analysis)" \
	grep -q "^differs *analysis/k_sweep_dsae64_k4/results.json (recomputed" "$tmp/out"
finish audit_hostile
