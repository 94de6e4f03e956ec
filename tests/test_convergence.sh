#!/usr/bin/env bash
# test_convergence.sh — the convergence sweep (issue 7) end to end on a tiny run (p = 31,
# d_sae 64, k 4 and 8, 3 seeds, 320 steps): results.json has one record per k with the EV
# curve, PWMCC at step 0, every checkpoint_every steps and the horizon, and the criterion's
# steps, which are recomputed here from the two CSVs; `husai report` draws F10 in PNG, SVG
# and PDF and writes the Markdown sections; bad settings are refused.
. "${HUSAI_SOURCE_DIR:?}/tests/script_lib.sh" convergence

tiny=(--set data.p=31 --set transformer.batch_size=256 --set transformer.epochs=2
      --set transformer.checkpoint_every=0 --set sae.d_sae=64 --set sae.batch_size=256
      --set sae.epochs=80 --set sae.lr=3e-3 --set sae.checkpoint_every=40
      --set experiment.k_values=4,8 --set experiment.default_steps=200
      --set experiment.bootstrap_samples=200 --set experiment.ev_gain_threshold=0.01)
"$bin" run "${tiny[@]}" --out "$tmp/run" "$src/configs/convergence.yaml" >"$tmp/out" 2>&1; st=$?
check "tiny convergence run succeeds (status $st)" test "$st" -eq 0
[ "$st" -eq 0 ] || cat "$tmp/out"
check "audit of the run passes" "$bin" audit -q "$tmp/run"
python3 - "$tmp/run" <<'PY' >"$tmp/py.txt" 2>&1
import csv, json, sys
d = sys.argv[1]
r = json.load(open(d + "/results.json"))
assert r["experiment"] == "convergence"
assert r["k_values"] == [4, 8] and r["seeds"] == [42, 123, 456], r
assert r["architecture"]["d_sae"] == 64 and r["architecture"]["architecture"] == "topk"
assert 0.2 < r["analytic_null"] < 0.25, r["analytic_null"]
rows = list(csv.DictReader(open(d + "/" + r["csv"])))
assert len(rows) == 2 * 3 * 80, len(rows)          # k x seeds x epochs (4 steps an epoch)
prow = list(csv.DictReader(open(d + "/" + r["pwmcc_csv"])))
W, thr = r["criterion"]["ev_window_steps"], r["criterion"]["ev_gain_threshold"]
chosen = 0
for rec in r["records"]:
    k = rec["k"]
    assert rec["steps_trained"] == 320
    steps = [c["step"] for c in rec["pwmcc_checkpoints"]]
    assert steps == list(range(0, 321, 40)), steps
    assert all(c["pwmcc"]["n"] == 3 and len(c["pwmcc_values"]) == 3 for c in rec["pwmcc_checkpoints"])
    # the seed-mean EV curve, from the CSV
    st = sorted({int(x["step"]) for x in rows if int(x["k"]) == k})
    ev = [sum(float(x["explained_variance"]) for x in rows if int(x["k"]) == k and int(x["step"]) == s) / 3 for s in st]
    assert st == rec["curve"]["step"] and all(abs(a - b) < 1e-12 for a, b in zip(ev, rec["curve"]["explained_variance_mean"]))
    def at(t):
        for i in range(1, len(st)):
            if t <= st[i]:
                return ev[i - 1] + (ev[i] - ev[i - 1]) * (t - st[i - 1]) / (st[i] - st[i - 1])
        return ev[-1]
    e_step = None
    for i in reversed(range(len(st))):
        if st[i] + W > st[-1]:
            continue
        if at(st[i] + W) - ev[i] >= thr:
            break
        e_step = st[i]
    assert rec["ev_step"] == e_step, (rec["ev_step"], e_step)
    pm = [(int(x["step"]), float(x["pwmcc_mean"]), float(x["pwmcc_ci95_low"]), float(x["pwmcc_ci95_high"])) for x in prow if int(x["k"]) == k]
    lo, hi = pm[-1][2], pm[-1][3]
    p_step = None
    for s, m, _, _ in reversed(pm[:-1]):   # the horizon itself does not count
        if not (lo <= m <= hi):
            break
        p_step = s
    assert rec["pwmcc_step"] == p_step, (rec["pwmcc_step"], p_step)
    conv = None if e_step is None or p_step is None else max(e_step, p_step)
    assert rec["converged_step"] == conv
    chosen = None if chosen is None or conv is None else max(chosen, conv)
    assert "explained_variance_at_default" in rec and "pwmcc_at_default" in rec
    assert abs(rec["pwmcc_gain_last_interval"] - (pm[-1][1] - pm[-2][1])) < 1e-12
assert r["chosen_step"] == chosen, (r["chosen_step"], chosen)
assert r["chosen_step"] is not None, "the tiny run should converge"
assert r["default_steps"] == 200 and r["default_justified"] == (chosen <= 200)
assert set(r["training_curves"]) == {"k%d/%d" % (k, s) for k in (4, 8) for s in (42, 123, 456)}
print("ok")
PY
check "results.json shape and the criterion recomputed from the CSVs" grep -qx ok "$tmp/py.txt"
[ "$(cat "$tmp/py.txt")" = ok ] || cat "$tmp/py.txt"

"$bin" report --out "$tmp/rep" "$tmp/run" >"$tmp/out" 2>&1; st=$?
check "husai report on the run succeeds (status $st)" test "$st" -eq 0
for e in png svg pdf; do
	check "F10 drawn as $e" test -s "$tmp/rep/convergence/figures/F10_convergence.$e"
done
check "summary.md embeds F10" grep -q "^\*Figure [0-9]* (F10).\* EV and PWMCC against SAE steps" "$tmp/rep/convergence/summary.md"
check "summary.md states the chosen step" grep -q "Chosen step count (largest over k): \*\*[0-9]*\*\*" "$tmp/rep/convergence/summary.md"
check "... with its source in the sidecar" grep -q '"source": "results.json:chosen_step"' "$tmp/rep/convergence/summary.sources.json"
check "report.md has the convergence section" grep -q "^## [0-9]*\. SAE Step Count: Convergence Sweep" "$tmp/rep/report.md"

"$bin" run "${tiny[@]}" --set experiment.seeds=42 --out "$tmp/bad" "$src/configs/convergence.yaml" >"$tmp/out" 2>&1; st=$?
check "one seed is refused" sh -c "test $st -ne 0 && grep -q 'experiment.seeds' '$tmp/out'"
"$bin" run "${tiny[@]}" --set experiment.ev_window_steps=0 --out "$tmp/bad" "$src/configs/convergence.yaml" >"$tmp/out" 2>&1; st=$?
check "a zero EV window is refused" sh -c "test $st -ne 0 && grep -q 'ev_window_steps' '$tmp/out'"

finish test_convergence
