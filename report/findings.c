/*
 * findings.c — the sentences a results section opens with, chosen and filled by rules from a
 * run's numbers (docs/formulas.md §7 "findings"), and the warnings a reviewer would raise.
 * For each sweep of a run (core_ablations: k_sweep, d_sae_sweep; adaptive_l0: search_records;
 * consistency_sweep: records) it writes into the run's parsed results (never the file):
 *   _report.lead.<sweep>   which condition is most consistent and by how much (both 95 % CIs,
 *                          whether they overlap), whether it beats R1, R2 and the analytic
 *                          null, the seed-level verdict, the EV-consistency trade-off, which
 *                          conditions stay unresolved, and when the run measured it the
 *                          functional test of matched features (docs/formulas.md §11);
 *   _report.warnings       [sentences]: negative EV, dead fraction above REP_DEAD_WARN,
 *                          underpowered designs, training still improving at its last epoch
 *                          (the convergence kind's EV criterion, run/exp_convergence.c);
 *   _report.lead_sources   [{text, source}] for every number the sentences print.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

#define REP_DEAD_WARN 0.25      /* dead fraction above which a condition is flagged */
#define REP_EV_WINDOW 100.0     /* steps, as the convergence criterion's default */
#define REP_EV_GAIN 0.001       /* EV gain per window still "improving" */

/* the record keys the sentences read (formats/results_schema.h) */
#define TRAINED(key) RJ_PATH2(RJK_TRAINED_PWMCC, key)
#define TP_MEAN TRAINED(RJK_MEAN)
#define EV_MEAN RJ_PATH2(RJK_EXPLAINED_VARIANCE, RJK_MEAN)
#define SEED_LEVEL(key) RJ_PATH2(RJK_SEED_LEVEL, key)
#define FUNCTIONAL(key) RJ_PATH2(RJK_FUNCTIONAL, key)

struct lead {
	char s[2048];
	size_t n;
	hj *sources;
	const char *dir, *sweep;
};

static void add(struct lead *L, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add(struct lead *L, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int k = vsnprintf(L->s + L->n, sizeof(L->s) - L->n, fmt, ap);
	va_end(ap);
	if (k > 0)
		L->n = L->n + (size_t)k < sizeof(L->s) ? L->n + (size_t)k : sizeof(L->s) - 1;
}

static double num(hj *rec, const char *key)
{
	double v = NAN;
	hj_get_f64(rec, key, &v);
	return v;
}

/* print rec.key with fmt into the sentence and note its source */
static void val(struct lead *L, size_t i, hj *rec, const char *key, const char *fmt)
{
	double v = num(rec, key);
	char t[64];
	if (isnan(v))
		snprintf(t, sizeof(t), "n/a");
	else {
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
		snprintf(t, sizeof(t), fmt, v);
#pragma GCC diagnostic pop
	}
	add(L, "%s", t);
	hj *o = hj_obj();
	char src[512];
	snprintf(src, sizeof(src), "%s/results.json:%s.%zu.%s", L->dir, L->sweep, i, key);
	hj_set(o, "text", hj_str(t));
	hj_set(o, "format", hj_str(fmt));
	hj_set(o, "source", hj_str(src));
	hj_push(L->sources, o);
}

/* "m [lo, hi]": rec's <prefix>.<mean> and its 95 % CI <prefix>.<lo>, <prefix>.<hi>, each
 * printed with fmt and noted as a source */
static void val_ci(struct lead *L, size_t i, hj *rec, const char *prefix, const char *mean,
                   const char *lo, const char *hi, const char *fmt)
{
	char key[128];
	snprintf(key, sizeof(key), "%s.%s", prefix, mean);
	val(L, i, rec, key, fmt);
	add(L, " [");
	snprintf(key, sizeof(key), "%s.%s", prefix, lo);
	val(L, i, rec, key, fmt);
	add(L, ", ");
	snprintf(key, sizeof(key), "%s.%s", prefix, hi);
	val(L, i, rec, key, fmt);
	add(L, "]");
}

/* the same for a summary (docs/formulas.md §6.0): its mean [ci95_low, ci95_high] */
static void val_summary(struct lead *L, size_t i, hj *rec, const char *prefix, const char *fmt)
{
	val_ci(L, i, rec, prefix, RJK_MEAN, RJK_CI95_LOW, RJK_CI95_HIGH, fmt);
}

/* "R1, R2, the analytic null" -> "R1, R2 <conj> the analytic null" */
static void join_last(char *out, size_t n, const char *list, const char *conj)
{
	const char *last = strrchr(list, ',');
	if (last)
		snprintf(out, n, "%.*s %s%s", (int)(last - list), list, conj, last + 1);
	else
		snprintf(out, n, "%s", list);
}

/* "k = 8" or "λ = 0.001": the swept parameter of a record */
static void label(struct lead *L, hj *rec, const char *xkey)
{
	double x = num(rec, xkey);
	if (!strcmp(xkey, RJK_LAMBDA_CONSISTENCY))
		add(L, "λ = %g", x);
	else
		add(L, "%s = %.0f", xkey, x);
}

static double per_seed_mean(hj *rec, const char *key)
{
	hj *ps = hj_get(rec, RJK_PER_SEED_METRICS);
	double s = 0;
	size_t n = 0;
	for (size_t i = 0; i < hj_len(ps); i++) {
		double v = num(hj_at(ps, i), key);
		if (!isnan(v))
			s += v, n++;
	}
	return n ? s / (double)n : NAN;
}

/* EV gain per REP_EV_WINDOW steps over the last logged interval, mean over the seeds'
 * curves of a condition (training_curves "<condition>/<seed>"); NaN when not recorded */
static double last_ev_gain(hj *res, const char *cond)
{
	hj *tc = hj_get(res, RJK_TRAINING_CURVES);
	double s = 0;
	size_t n = 0;
	hj *cv;
	const char *key;
	for (size_t i = 0; tc && (key = hj_obj_at(tc, i, &cv)); i++) {
		size_t l = strlen(cond);
		if (strncmp(key, cond, l) || key[l] != '/')
			continue;
		hj *st = hj_get(cv, RJK_STEP), *ev = hj_get(cv, RJK_EXPLAINED_VARIANCE);
		size_t m = hj_len(st);
		if (m < 2 || hj_len(ev) != m)
			continue;
		double ds = hj_as_f64(hj_at(st, m - 1)) - hj_as_f64(hj_at(st, m - 2));
		double de = hj_as_f64(hj_at(ev, m - 1)) - hj_as_f64(hj_at(ev, m - 2));
		if (ds > 0 && !isnan(de))
			s += de / ds * REP_EV_WINDOW, n++;
	}
	return n ? s / (double)n : NAN;
}

static void warn(hj *warnings, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void warn(hj *warnings, const char *fmt, ...)
{
	char b[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(b, sizeof(b), fmt, ap);
	va_end(ap);
	hj_push(warnings, hj_str(b));
}

static void sweep_lead(hj *res, const char *sweep, const char *xkey, const char *title,
                       const char *dir, hj *leads, hj *sources, hj *warnings)
{
	hj *recs = hj_get(res, sweep);
	size_t n = hj_len(recs);
	if (!hj_is_arr(recs) || !n || !hj_get(hj_at(recs, 0), TP_MEAN))
		return; /* not a sweep of conditions with a trained PWMCC (e.g. convergence) */
	struct lead L = { .n = 0, .sources = sources, .dir = dir, .sweep = sweep };
	L.s[0] = 0;
	size_t best = 0, second = n, ev_best = 0;
	for (size_t i = 0; i < n; i++) {
		double m = num(hj_at(recs, i), TP_MEAN);
		if (m > num(hj_at(recs, best), TP_MEAN))
			best = i;
		if (num(hj_at(recs, i), EV_MEAN) >
		    num(hj_at(recs, ev_best), EV_MEAN))
			ev_best = i;
	}
	for (size_t i = 0; i < n; i++)
		if (i != best && (second == n || num(hj_at(recs, i), TP_MEAN) >
		                                     num(hj_at(recs, second), TP_MEAN)))
			second = i;
	hj *b = hj_at(recs, best);
	/* 1. the most consistent condition and by how much */
	if (n == 1) {
		add(&L, "The one condition of the %s (", title);
		label(&L, b, xkey);
		add(&L, ") has trained PWMCC ");
	} else {
		add(&L, "Of the %zu conditions of the %s, ", n, title);
		label(&L, b, xkey);
		add(&L, " is the most consistent: trained PWMCC ");
	}
	val_summary(&L, best, b, RJK_TRAINED_PWMCC, "%.3f");
	if (second < n) {
		hj *c = hj_at(recs, second);
		double d = num(b, TP_MEAN) - num(c, TP_MEAN);
		add(&L, ", %.3g above ", d);
		label(&L, c, xkey);
		add(&L, " (");
		val_summary(&L, second, c, RJK_TRAINED_PWMCC, "%.3f");
		add(&L, "); the two 95%% CIs %s",
		    num(b, TRAINED(RJK_CI95_LOW)) > num(c, TRAINED(RJK_CI95_HIGH))
		            ? "do not overlap"
		            : "overlap, so the ordering is not resolved");
	}
	add(&L, ". ");
	/* 2. against the controls, and the seed-level verdict */
	double lo = num(b, TRAINED(RJK_CI95_LOW));
	struct {
		const char *name, *hi, *hi_old;
	} ctl[3] = { { "R1", RJ_PATH3(RJK_CONTROLS, RJK_R1, RJK_CI95_HIGH),
		       RJ_PATH2(RJK_RANDOM_PWMCC, RJK_CI95_HIGH) },
		     { "R2", RJ_PATH3(RJK_CONTROLS, RJK_R2, RJK_CI95_HIGH), NULL },
		     { "the analytic null", RJ_PATH2(RJK_CONTROLS, RJK_ANALYTIC_NULL), NULL } };
	char beats[128] = "", not[128] = "";
	for (int c = 0; c < 3; c++) {
		double hi = num(b, ctl[c].hi);
		if (isnan(hi) && ctl[c].hi_old) /* archives whose controls block has no r1 */
			hi = num(b, ctl[c].hi_old);
		if (isnan(hi))
			continue;
		char *dst = lo > hi ? beats : not;
		snprintf(dst + strlen(dst), 128 - strlen(dst), "%s%s", dst[0] ? ", " : "", ctl[c].name);
	}
	char tmp[160];
	if (beats[0]) { /* "R1, the analytic null" -> "R1 and the analytic null" */
		join_last(tmp, sizeof(tmp), beats, "and");
		add(&L, "Its CI lies above %s", tmp);
	}
	if (not[0]) { /* "R1, R2, the analytic null" -> "R1, R2 or the analytic null" */
		join_last(tmp, sizeof(tmp), not, "or");
		add(&L, "%s%s", beats[0] ? "; not above " : "Its CI does not lie above ", tmp);
	}
	if (beats[0] || not[0])
		add(&L, ". ");
	const char *v = hj_get_str(b, RJK_VERDICT);
	if (v && !strcmp(v, "underpowered")) {
		add(&L, "The seed-level test is underpowered: with %.0f models per group the smallest "
		        "attainable p is ", num(b, SEED_LEVEL(RJK_N_MODELS_TRAINED)));
		val(&L, best, b, SEED_LEVEL(RJK_MIN_ATTAINABLE_P), "%.3g");
		if (num(b, SEED_LEVEL(RJK_N_TESTS)) > 1) {
			add(&L, " (");
			val(&L, best, b, SEED_LEVEL(RJK_MIN_ATTAINABLE_P_ADJUSTED), "%.3g");
			add(&L, " after Holm over %.0f conditions)", num(b, SEED_LEVEL(RJK_N_TESTS)));
		}
		add(&L, ", so α = 0.05 cannot be reached; %.0f seeds per group are needed. ",
		    num(b, SEED_LEVEL(RJK_SEEDS_NEEDED)));
	} else if (v) {
		add(&L, "Seed-level verdict: %s (effect ", !strcmp(v, "training_signal_present")
		                                                  ? "training signal present"
		                                                  : "no training signal");
		val_ci(&L, best, b, RJK_SEED_LEVEL, RJK_EFFECT, RJK_BOOTSTRAP_CI95_LOW,
		       RJK_BOOTSTRAP_CI95_HIGH, "%+.3f");
		add(&L, ", permutation p = ");
		val(&L, best, b, SEED_LEVEL(RJK_PERMUTATION_P_ADJUSTED), "%.3g");
		add(&L, "%s). ", num(b, SEED_LEVEL(RJK_N_TESTS)) > 1 ? " Holm-adjusted" : "");
	}
	/* 3. EV against consistency */
	if (n > 1 && ev_best != best) {
		add(&L, "Consistency trades off against reconstruction: ");
		label(&L, hj_at(recs, ev_best), xkey);
		add(&L, " has the highest EV (");
		val(&L, ev_best, hj_at(recs, ev_best), EV_MEAN, "%.3f");
		add(&L, ", against ");
		val(&L, best, b, EV_MEAN, "%.3f");
		add(&L, "). ");
	} else if (n > 1) {
		add(&L, "It also has the highest EV (");
		val(&L, best, b, EV_MEAN, "%.3f");
		add(&L, "). ");
	}
	/* 4. unresolved effects */
	size_t unresolved = 0, with_verdict = 0;
	for (size_t i = 0; i < n; i++)
		with_verdict += hj_get_str(hj_at(recs, i), RJK_VERDICT) != NULL;
	for (size_t i = 0; i < n && with_verdict; i++) {
		const char *vi = hj_get_str(hj_at(recs, i), RJK_VERDICT);
		if (vi && !strcmp(vi, "training_signal_present"))
			continue;
		add(&L, "%s", unresolved++ ? ", " : "Unresolved against R1 at the seed level: ");
		label(&L, hj_at(recs, i), xkey);
		add(&L, " (%s)", vi ? vi : "no seed-level test");
	}
	if (!with_verdict)
		add(&L, "This archive has no seed-level verdicts (it predates them): no effect is "
		        "resolved at the seed level.");
	else if (unresolved)
		add(&L, ".");
	else
		add(&L, "Every condition shows a seed-level training signal against R1.");
	/* 5. functional consistency of matched features (docs/formulas.md §11), when measured */
	size_t n_fn = 0, n_fn_pass = 0;
	for (size_t i = 0; i < n; i++) {
		hj *r = hj_at(recs, i);
		if (!hj_get(r, RJ_PATH3(RJK_FUNCTIONAL, RJK_MATCHED_ABS_DLOSS, RJK_MEAN)))
			continue;
		add(&L, "%s", n_fn++ ? "; " : " Functionally (held-out loss, one feature substituted "
		                               "at a time): ");
		label(&L, r, xkey);
		add(&L, " matched |Δloss| ");
		val_summary(&L, i, r, FUNCTIONAL(RJK_MATCHED_ABS_DLOSS), "%.3g");
		add(&L, " against random ");
		val_summary(&L, i, r, FUNCTIONAL(RJK_RANDOM_ABS_DLOSS), "%.3g");
		add(&L, ", fingerprint cosine ");
		val(&L, i, r, FUNCTIONAL(RJK_FINGERPRINT_COS_MATCHED "." RJK_MEAN), "%.2f");
		add(&L, " against ");
		val(&L, i, r, FUNCTIONAL(RJK_FINGERPRINT_COS_RANDOM "." RJK_MEAN), "%.2f");
		hj *pass = hj_get(r, FUNCTIONAL(RJK_MATCHED_LESS_THAN_RANDOM_PASS));
		n_fn_pass += hj_kind_of(pass) == HJ_TRUE;
	}
	if (n_fn == 1)
		add(&L, n_fn_pass ? ": the matched substitution changes the loss less than a random one "
		                    "(seed-level CI of the difference below 0)."
		                  : ": the seed-level CI of the difference does not lie below 0, so the "
		                    "matched substitution is not shown to change the loss less.");
	else if (n_fn)
		add(&L, ". The matched substitution changes the loss less than a random one (seed-level "
		        "CI of the difference below 0) in %zu of %zu conditions.", n_fn_pass, n_fn);
	hj_set(leads, sweep, hj_str(L.s));
	/* warnings */
	for (size_t i = 0; i < n; i++) {
		hj *r = hj_at(recs, i);
		struct lead W = { .n = 0 };
		W.s[0] = 0;
		label(&W, r, xkey);
		double ev = num(r, EV_MEAN);
		if (ev < 0)
			warn(warnings, "%s, %s: negative explained variance (%.3f): the SAE reconstructs "
			               "worse than the mean activation.", title, W.s, ev);
		double dead = per_seed_mean(r, RJK_DEAD_FRACTION);
		if (dead > REP_DEAD_WARN)
			warn(warnings, "%s, %s: %.0f%% of latents are dead (threshold %.0f%%).", title,
			     W.s, 100 * dead, 100 * REP_DEAD_WARN);
		const char *cond = hj_get_str(r, RJK_CONDITION);
		double g = cond ? last_ev_gain(res, cond) : NAN;
		if (g >= REP_EV_GAIN)
			warn(warnings, "%s, %s: not converged: EV still rises by %.4f per %.0f steps at "
			               "the last epoch (criterion < %g).", title, W.s, g, REP_EV_WINDOW,
			     REP_EV_GAIN);
	}
	if (v && !strcmp(v, "underpowered"))
		warn(warnings, "%s: underpowered: %.0f seeds cannot reach α = 0.05 at the seed level "
		               "(smallest attainable p %.3g); use at least %.0f.", title,
		     num(b, SEED_LEVEL(RJK_N_MODELS_TRAINED)),
		     num(b, SEED_LEVEL(RJK_MIN_ATTAINABLE_P_ADJUSTED)),
		     num(b, SEED_LEVEL(RJK_SEEDS_NEEDED)));
}

void rep_findings(hj *res, const char *dir)
{
	hj *rep = hj_get(res, "_report");
	if (!rep)
		return;
	hj *leads = hj_obj(), *sources = hj_arr(), *warnings = hj_arr();
	sweep_lead(res, RJK_K_SWEEP, RJK_K, "k sweep", dir, leads, sources, warnings);
	sweep_lead(res, RJK_D_SAE_SWEEP, RJK_D_SAE, "d_sae sweep", dir, leads, sources, warnings);
	sweep_lead(res, RJK_SEARCH_RECORDS, RJK_K, "k search", dir, leads, sources, warnings);
	sweep_lead(res, RJK_RECORDS, RJK_LAMBDA_CONSISTENCY, "λ sweep", dir, leads, sources, warnings);
	hj_set(rep, "lead", leads);
	hj_set(rep, "lead_sources", sources);
	hj_set(rep, "has_warnings", hj_bool(hj_len(warnings) > 0));
	hj_set(rep, "warnings", warnings);
}
