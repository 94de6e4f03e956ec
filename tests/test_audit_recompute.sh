#!/usr/bin/env bash
# test_audit_recompute.sh — `husai audit --recompute` reruns every analysis of a small core
# ablation from its archived checkpoints and rebuilds the run's own results.json and CSVs from
# the jobs' files, finding everything identical (exit 0); a number moved by one unit in the
# last place (the archive resealed around it) is "within 4 ULP" (exit 4, or 1 with --ulp 0);
# after a reported number is edited (in the run's results.json, then in an analysis) it names
# the file that differs (exit 1).  The verdict rules follow the report's number formats.
. "${HUSAI_SOURCE_DIR:?}/tests/script_lib.sh" audit
# the run's jobs are single-threaded (--jobs) and the audit's reruns use every thread: the
# numeric core gives the same bits either way (docs/reproducibility.md)
"$bin" run --set experiment.k_values=8,16 --set experiment.d_sae_values=64 --set experiment.seeds=1,2,3 \
	--set data.p=31 --set sae.epochs=2 --set sae.batch_size=256 --set transformer.batch_size=256 \
	--set transformer.epochs=1 --set experiment.bootstrap_samples=500 --out "$tmp/run" \
	"$src/configs/parity/core_ablations.yaml" >/dev/null 2>&1
check "the small core ablation runs" test -f "$tmp/run/results.json"
sleep 1; touch "$tmp/out.ref"
"$bin" audit --recompute "$tmp/run" >"$tmp/out" 2>&1; st=$?
check "recomputed analyses are identical (status $st)" test "$st" -eq 0
check "fifteen analysis outputs (results.json, analysis.h5, three CSVs each) were recomputed" \
	grep -q "ok, 15 analysis outputs recomputed from the archived checkpoints are identical" "$tmp/out"
check "results.json and three CSVs were rebuilt" grep -q "ok, 4 run outputs rebuilt from the archived jobs are identical" "$tmp/out"
check "one verdict per output" grep -q "^identical *analysis/k_sweep_dsae128_k8/analysis.h5 (recomputed" "$tmp/out"
check "the summary line" grep -q "^audit: 19 outputs recomputed: 19 identical, 0 within 4 ULP (largest 0), 0 differ; exit 0$" "$tmp/out"
check "the archive was not written to" test -z "$(find "$tmp/run" -newer "$tmp/out.ref" 2>/dev/null)"

# no recorded command is run: the analyses' commands are rebuilt from the run's config.  Three
# done records edited (the archive resealed around them): --out=<elsewhere>, extra options
# (one that would change the numbers, one abbreviated --ou <elsewhere>), a different verb.
# Nothing is written elsewhere, nothing in the archive, and the verdicts do not change.
if command -v python3 >/dev/null; then
cp -a "$tmp/run" "$tmp/edited"
python3 - "$tmp/edited" "$tmp" <<'PY'
import hashlib, json, os, sys
run, tmp = sys.argv[1], sys.argv[2]
recs = sorted(r for r in os.listdir(os.path.join(run, "jobs"))
              if r.startswith("analysis_") and r.endswith(".done.json"))
assert len(recs) >= 3, recs
def edit(rec, f):
    p = os.path.join(run, "jobs", rec); d = json.load(open(p)); d["argv"] = f(d["argv"])
    json.dump(d, open(p, "w"), indent=2)
def out_elsewhere(a):
    i = a.index("--out"); return a[:i] + ["--out=" + tmp + "/pwned1"] + a[i + 2:]
edit(recs[0], out_elsewhere)
edit(recs[1], lambda a: a + ["--threshold", "0.99", "--ou", tmp + "/pwned2", "--no-matchings"])
edit(recs[2], lambda a: ["train-sae", "--config", "/etc/passwd", "--out", tmp + "/pwned3"] + a[1:])
sha = lambda f: hashlib.sha256(open(f, "rb").read()).hexdigest()
f = os.path.join(run, "manifest.json"); d = json.load(open(f))
for a in d["artifacts"]:
    q = os.path.join(run, a["path"]); a["sha256"] = sha(q); a["bytes"] = os.path.getsize(q)
json.dump(d, open(f, "w"), indent=2)
PY
sleep 1; touch "$tmp/edited.ref"
"$bin" audit --recompute "$tmp/edited" >"$tmp/out" 2>&1; st=$?
check "edited recorded commands change nothing: still identical (status $st)" test "$st" -eq 0
check "every analysis was rerun from the config's commands" \
	grep -q "edited: ok, 15 analysis outputs recomputed from the archived checkpoints are identical" "$tmp/out"
check "nothing was written where a record's --out=, --ou or other verb said" \
	test ! -e "$tmp/pwned1" -a ! -e "$tmp/pwned2" -a ! -e "$tmp/pwned3"
check "the edited archive was not written to" \
	test -z "$(find "$tmp/edited" -newer "$tmp/edited.ref" 2>/dev/null)"
rm -rf "$tmp/edited"
fi

# usage errors: 2
"$bin" audit --recompute --ulp -1 "$tmp/run" >/dev/null 2>&1; st=$?
check "a negative --ulp is a usage error (status $st)" test "$st" -eq 2
"$bin" audit --recompute --ulp x "$tmp/run" >/dev/null 2>&1; st=$?
check "a --ulp that is not a number is a usage error (status $st)" test "$st" -eq 2
"$bin" audit --ulp 3 "$tmp/run" >/dev/null 2>&1; st=$?
check "--ulp without --recompute is a usage error (status $st)" test "$st" -eq 2
# every number format of the report's templates is one the audit compares at
"$bin" audit --help >"$tmp/help"
for f in $(grep -oh '|%[^}]*}}' "$src"/templates/* | sed 's/^|//; s/}}$//; s/+//' | sort -u); do
	check "the audit knows the report's format $f" grep -qF -- "$f" "$tmp/help"
done

# one unit in the last place, the archive resealed around it (its done records and manifest
# give the new checksums, as a regenerated archive would): within 4 ULP, exit 4
cp -a "$tmp/run" "$tmp/ulp"
if command -v python3 >/dev/null; then
python3 - "$tmp/ulp" "$tmp/run" <<'PY'
import hashlib, json, math, os, re, sys
run, old = sys.argv[1], sys.argv[2]
p = os.path.join(run, "analysis/k_sweep_dsae128_k8/results.json")
t = open(p).read()
m = re.search(r'"mean": (0\.[0-9]+)', t)
x = float(m.group(1))
t = t[:m.start(1)] + repr(math.nextafter(x, 1.0)) + t[m.end(1):]
open(p, "w").write(t)
sha = lambda f: hashlib.sha256(open(f, "rb").read()).hexdigest()
# the copy's records still name the original place ($tmp/run): the audit maps them here
for rec in os.listdir(os.path.join(run, "jobs")):
    if rec.endswith(".done.json"):
        f = os.path.join(run, "jobs", rec); d = json.load(open(f))
        for o in d["outputs"]:
            o["sha256"] = sha(os.path.join(run, o["path"]))
        json.dump(d, open(f, "w"), indent=2)
f = os.path.join(run, "manifest.json"); d = json.load(open(f))
for a in d["artifacts"]:
    q = os.path.join(run, a["path"]); a["sha256"] = sha(q); a["bytes"] = os.path.getsize(q)
json.dump(d, open(f, "w"), indent=2)
PY
"$bin" audit --recompute "$tmp/ulp" >"$tmp/out" 2>&1; st=$?
check "a one-ULP change is within 4 ULP (status $st)" test "$st" -eq 4
check "the file is named within, with its largest differences" grep -q \
	"^within 4 ULP *analysis/k_sweep_dsae128_k8/results.json (recomputed from the archived checkpoints): max |diff| [0-9.e-]*, max 1 ULP" "$tmp/out"
check "the copy was recomputed from its own files (the other outputs are identical)" \
	grep -q "ulp: 15 analysis outputs recomputed from the archived checkpoints: 14 identical, 1 within 4 ULP, 0 differ" "$tmp/out"
check "the summary says exit 4" grep -q "within 4 ULP (largest 1), 0 differ; exit 4$" "$tmp/out"
"$bin" audit --recompute --ulp 0 "$tmp/ulp" >"$tmp/out" 2>&1; st=$?
check "with --ulp 0 it differs (status $st)" test "$st" -eq 1
check "naming the key path and the element" grep -q \
	"^differs *analysis/k_sweep_dsae128_k8/results.json (recomputed from the archived checkpoints): [a-z0-9_.]*mean: [0-9.]* archived, [0-9.]* recomputed (1 ULP, more than 0)" "$tmp/out"
fi

cp "$tmp/run/results.json" "$tmp/results.keep"
sed -i '0,/"mean": 0\./s//"mean": 0.9/' "$tmp/run/results.json"
"$bin" audit --recompute "$tmp/run" >"$tmp/out" 2>&1; st=$?
check "an edited number in the run's results.json fails the audit (status $st)" test "$st" -eq 1
check "the run's results.json is named as differing" grep -q "^differs *results.json (rebuilt from the archived jobs): .*mean: " "$tmp/out"
cp "$tmp/results.keep" "$tmp/run/results.json"
# a suite: its sub-run's whole directory is the suite job's; the sub-run is audited on its own
printf 'experiment:\n  kind: suite\n  name: tiny_suite\n  runs:\n    smoke: %s/configs/smoke.yaml\n' "$src" >"$tmp/suite.yaml"
"$bin" run --out "$tmp/suite" "$tmp/suite.yaml" >/dev/null 2>&1
"$bin" audit --recompute "$tmp/suite" >"$tmp/out" 2>&1; st=$?
check "a suite audits clean (status $st)" test "$st" -eq 0
check "the suite's sub-run is rebuilt on its own" grep -q "suite/smoke: ok, 1 run outputs rebuilt" "$tmp/out"
f="$tmp/run/analysis/k_sweep_dsae128_k8/results.json"
sed -i '0,/"mean": 0\./s//"mean": 0.9/' "$f"
"$bin" audit --recompute "$tmp/run" >"$tmp/out" 2>&1; st=$?
check "an edited number fails the audit (status $st)" test "$st" -eq 1
check "the edited file is named as differing" grep -q "^differs *analysis/k_sweep_dsae128_k8/results.json" "$tmp/out"
finish
