/*
 * exp_tidy.c — the tidy table of an experiment, RUN/conditions.csv: one row per condition with
 * every statistic of its record (trained, R1, R2 and the analytic null with CIs, the deltas,
 * the seed-level test and verdict, upstream's Mann–Whitney as parity, EV, MSE, L0, dead
 * fraction, steps, runtime).  The column names are stable and documented in docs/artifacts.md
 * ("conditions.csv"); a statistic a kind does not compute is an empty cell.
 *
 * runtime_sec is the one number not in results.json: the sum of the `seconds` of the done
 * records (RUN/jobs/<job>.done.json) of the condition's training jobs and its analysis job —
 * a wall time of this machine, this load and this number of ranks, not a result.
 */
#include <dirent.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exp_kinds.h"

/* column name, then the record key paths tried in turn (NULL-terminated); "=seeds:<key>"
 * (mean) and "=seedsmax:<key>" read per_seed_metrics, "=str:<path>" a string.  Every number
 * is one results.json holds or a mean of its per-seed values: no difference is formed here
 * (trained − R2 or − null would not survive the audit's ULP comparison; subtract the columns) */
struct tidy_col {
	const char *name;
	const char *paths[3];
};

static const struct tidy_col cols[] = {
	{ "trained_pwmcc_mean", { RJ_PATH2(RJK_TRAINED_PWMCC, RJK_MEAN), RJ_PATH2(RJK_TRAINED, RJK_MEAN) } },
	{ "trained_pwmcc_ci95_low", { RJ_PATH2(RJK_TRAINED_PWMCC, RJK_CI95_LOW), RJ_PATH2(RJK_TRAINED, RJK_CI95_LOW) } },
	{ "trained_pwmcc_ci95_high", { RJ_PATH2(RJK_TRAINED_PWMCC, RJK_CI95_HIGH), RJ_PATH2(RJK_TRAINED, RJK_CI95_HIGH) } },
	{ "trained_n_pairs", { "trained_pwmcc.n_pairs", "trained.n_pairs" } },
	{ "r1_pwmcc_mean", { RJ_PATH3(RJK_CONTROLS, RJK_R1, RJK_MEAN) } },
	{ "r1_pwmcc_ci95_low", { RJ_PATH3(RJK_CONTROLS, RJK_R1, RJK_CI95_LOW) } },
	{ "r1_pwmcc_ci95_high", { RJ_PATH3(RJK_CONTROLS, RJK_R1, RJK_CI95_HIGH) } },
	{ "r2_pwmcc_mean", { RJ_PATH3(RJK_CONTROLS, RJK_R2, RJK_MEAN) } },
	{ "r2_pwmcc_ci95_low", { RJ_PATH3(RJK_CONTROLS, RJK_R2, RJK_CI95_LOW) } },
	{ "r2_pwmcc_ci95_high", { RJ_PATH3(RJK_CONTROLS, RJK_R2, RJK_CI95_HIGH) } },
	{ "null_pwmcc", { RJ_PATH2(RJK_CONTROLS, RJK_ANALYTIC_NULL) } },
	{ "delta_pwmcc", /* CSV column: not a results.json key */
	  { RJK_DELTA_PWMCC, "comparison.difference" } },
	{ "delta_pwmcc_ci_low_conservative", /* CSV column: not a results.json key */
	  { RJK_DELTA_PWMCC_CI_LOW_CONSERVATIVE, "comparison.delta_pwmcc_ci_low_conservative" } },
	{ "ratio_pwmcc", { "ratio_pwmcc", "comparison.ratio" } },
	{ "cohens_d_pairs", { "controls.r1.comparison.effect_size_cohens_d",
			      "comparison.effect_size_cohens_d" } },
	{ "seed_n_models_trained", { RJ_PATH2(RJK_SEED_LEVEL, RJK_N_MODELS_TRAINED) } },
	{ "seed_n_models_control", { "seed_level.n_models_control" } },
	{ "seed_effect", { RJ_PATH2(RJK_SEED_LEVEL, RJK_EFFECT), "seed_level.permutation.statistic" } },
	{ "seed_effect_ci95_low", { RJ_PATH2(RJK_SEED_LEVEL, RJK_BOOTSTRAP_CI95_LOW) } },
	{ "seed_effect_ci95_high", { RJ_PATH2(RJK_SEED_LEVEL, RJK_BOOTSTRAP_CI95_HIGH) } },
	{ "seed_permutation_p", { "seed_level.permutation_p" } },
	{ "seed_permutation_p_holm", { RJ_PATH2(RJK_SEED_LEVEL, RJK_PERMUTATION_P_ADJUSTED) } },
	{ "seed_min_attainable_p", { RJ_PATH2(RJK_SEED_LEVEL, RJK_MIN_ATTAINABLE_P) } },
	{ "seed_min_attainable_p_holm", { RJ_PATH2(RJK_SEED_LEVEL, RJK_MIN_ATTAINABLE_P_ADJUSTED) } },
	{ "seed_n_tests", { RJ_PATH2(RJK_SEED_LEVEL, RJK_N_TESTS) } },
	{ "seeds_needed", /* CSV column: not a results.json key */
	  { RJ_PATH2(RJK_SEED_LEVEL, RJK_SEEDS_NEEDED) } },
	{ "verdict", /* CSV column: not a results.json key */
	  { "=str:" RJK_VERDICT } },
	{ "mwu_parity_u", { "mann_whitney_parity.statistic", "statistical_test.statistic" } },
	{ "mwu_parity_p", { "mann_whitney_parity.p_value", "statistical_test.p_value" } },
	{ "mwu_parity_conclusion",
	  { "=str:mann_whitney_parity.parity_conclusion", "=str:statistical_test.parity_conclusion" } },
	{ "explained_variance_mean", /* CSV column: not a results.json key */
	  { RJ_PATH2(RJK_EXPLAINED_VARIANCE, RJK_MEAN), "=seeds:" RJK_EXPLAINED_VARIANCE } },
	{ "explained_variance_ci95_low", { RJ_PATH2(RJK_EXPLAINED_VARIANCE, RJK_CI95_LOW) } },
	{ "explained_variance_ci95_high", { RJ_PATH2(RJK_EXPLAINED_VARIANCE, RJK_CI95_HIGH) } },
	{ "mse_mean", { "mse.mean", "=seeds:" RJK_MSE } },
	{ "mse_ci95_low", { "mse.ci95_low" } },
	{ "mse_ci95_high", { "mse.ci95_high" } },
	{ "l0_mean", { "l0.mean", "=seeds:" RJK_L0 } },
	{ "l0_ci95_low", { "l0.ci95_low" } },
	{ "l0_ci95_high", { "l0.ci95_high" } },
	{ "dead_fraction_mean", { "=seeds:" RJK_DEAD_FRACTION } },
	{ "steps_trained", { "steps_trained", "=seedsmax:steps_trained" } },
	/* the functional test (docs/formulas.md §11), when the run has one */
	{ "functional_matched_abs_dloss_mean", { RJ_PATH3(RJK_FUNCTIONAL, RJK_MATCHED_ABS_DLOSS, RJK_MEAN) } },
	{ "functional_matched_abs_dloss_ci95_low", { RJ_PATH3(RJK_FUNCTIONAL, RJK_MATCHED_ABS_DLOSS, RJK_CI95_LOW) } },
	{ "functional_matched_abs_dloss_ci95_high", { RJ_PATH3(RJK_FUNCTIONAL, RJK_MATCHED_ABS_DLOSS, RJK_CI95_HIGH) } },
	{ "functional_random_abs_dloss_mean", { RJ_PATH3(RJK_FUNCTIONAL, RJK_RANDOM_ABS_DLOSS, RJK_MEAN) } },
	{ "functional_random_abs_dloss_ci95_low", { RJ_PATH3(RJK_FUNCTIONAL, RJK_RANDOM_ABS_DLOSS, RJK_CI95_LOW) } },
	{ "functional_random_abs_dloss_ci95_high", { RJ_PATH3(RJK_FUNCTIONAL, RJK_RANDOM_ABS_DLOSS, RJK_CI95_HIGH) } },
	{ "functional_fingerprint_cos_matched_mean", { RJ_PATH3(RJK_FUNCTIONAL, RJK_FINGERPRINT_COS_MATCHED, RJK_MEAN) } },
	{ "functional_fingerprint_cos_random_mean", { RJ_PATH3(RJK_FUNCTIONAL, RJK_FINGERPRINT_COS_RANDOM, RJK_MEAN) } },
};
#define NCOLS (sizeof(cols) / sizeof(cols[0]))
/* leading identity columns and the trailing runtime (CSV columns: not a results.json key) */
static const char *const id_cols[] = { "experiment", "family", "condition", "grid", "d_sae", "k",
				       "lambda_consistency", "n_seeds" };
#define NID (sizeof(id_cols) / sizeof(id_cols[0]))

/* mean (or max) of per_seed_metrics[*].key over the seeds that have it; NaN when none */
static double over_seeds(hj *rec, const char *key, int max)
{
	hj *ps = hj_get(rec, RJK_PER_SEED_METRICS);
	double acc = max ? -INFINITY : 0;
	size_t n = 0;
	for (size_t i = 0; i < hj_len(ps); i++) {
		double v = exp_jnum(hj_at(ps, i), key);
		if (isnan(v))
			continue;
		acc = max ? fmax(acc, v) : acc + v;
		n++;
	}
	return n ? (max ? acc : acc / (double)n) : NAN;
}

static double first_num(hj *rec, const char *const *paths)
{
	for (int i = 0; i < 3 && paths[i]; i++) {
		double v = NAN;
		const char *p = paths[i];
		if (!strncmp(p, "=seeds:", 7))
			v = over_seeds(rec, p + 7, 0);
		else if (!strncmp(p, "=seedsmax:", 10))
			v = over_seeds(rec, p + 10, 1);
		else if (p[0] != '=')
			v = exp_jnum(rec, p);
		if (!isnan(v))
			return v;
	}
	return NAN;
}

static const char *first_str(hj *rec, const char *const *paths)
{
	for (int i = 0; i < 3 && paths[i]; i++)
		if (!strncmp(paths[i], "=str:", 5)) {
			const char *s = hj_get_str(rec, paths[i] + 5);
			if (s)
				return s;
		}
	return "";
}

/* 1 when the done-record job name belongs to the condition: its training job (one per
 * condition, or one per seed "<job>_seed<S>") or its analysis job */
static int job_of(const char *job, const char *train, const char *analysis)
{
	size_t n = strlen(train);
	return !strcmp(job, analysis) || !strcmp(job, train) ||
	       (!strncmp(job, train, n) && !strncmp(job + n, "_seed", 5));
}

/* Σ seconds of the condition's done records; NaN when there is none */
static double runtime_sec(const char *run_dir, const char *train, const char *analysis)
{
	char dir[PATH_MAX + 16];
	run_path(dir, sizeof(dir), run_dir, RUN_JOBS_DIR);
	DIR *d = opendir(dir);
	if (!d)
		return NAN;
	/* sorted names, so the sum is the same whatever order readdir gives */
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		size_t len = strlen(e->d_name);
		if (len <= 10 || strcmp(e->d_name + len - 10, ".done.json"))
			continue;
		if (n == cap) {
			char **t = realloc(names, (cap = cap ? cap * 2 : 64) * sizeof(*names));
			if (!t)
				break;
			names = t;
		}
		if (!(names[n] = strdup(e->d_name)))
			break;
		n++;
	}
	closedir(d);
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
			char *t = names[j];
			names[j] = names[j - 1];
			names[j - 1] = t;
		}
	double sum = 0;
	size_t found = 0;
	for (size_t i = 0; i < n; i++) {
		char p[PATH_MAX + 300];
		snprintf(p, sizeof(p), "%s/%s", dir, names[i]);
		hj *v = NULL;
		struct hus_err err = { 0 };
		if (!hj_read_file(p, &v, &err)) {
			const char *job = hj_get_str(v, "job");
			double s = exp_jnum(v, "seconds");
			if (job && !isnan(s) && job_of(job, train, analysis)) {
				sum += s;
				found++;
			}
		}
		hj_free(v);
		free(names[i]);
	}
	free(names);
	return found ? sum : NAN;
}

int exp_write_tidy_csv(const char *run_dir, const char *experiment,
                       const struct exp_tidy_family *fams, size_t n_fams, struct hus_err *err)
{
	const char *hdr[NID + NCOLS + 1];
	for (size_t i = 0; i < NID; i++)
		hdr[i] = id_cols[i];
	for (size_t i = 0; i < NCOLS; i++)
		hdr[NID + i] = cols[i].name;
	hdr[NID + NCOLS] = "runtime_sec";
	char path[PATH_MAX + 32];
	snprintf(path, sizeof(path), "%s/conditions.csv", run_dir);
	struct csvw *w;
	int rc = csvw_open(&w, path, hdr, NID + NCOLS + 1, err);
	if (rc)
		return rc;
	for (size_t f = 0; f < n_fams; f++)
		for (size_t i = 0; i < (hj_is_arr(fams[f].records) ? hj_len(fams[f].records)
								   : fams[f].records != NULL); i++) {
			hj *rec = hj_is_arr(fams[f].records) ? hj_at(fams[f].records, i)
							     : fams[f].records;
			const char *cond = hj_get_str(rec, RJK_CONDITION);
			if (!cond)
				cond = fams[f].condition ? fams[f].condition : "";
			const char *grid = hj_get_str(rec, "grid");
			double nseeds = exp_jnum(rec, RJK_N_SEEDS);
			if (isnan(nseeds))
				nseeds = exp_jnum(rec, RJK_N_MODELS);
			if (isnan(nseeds))
				nseeds = exp_jnum(rec, RJ_PATH2(RJK_SEED_LEVEL, RJK_N_MODELS_TRAINED));
			csvw_str(w, experiment);
			csvw_str(w, fams[f].family);
			csvw_str(w, cond);
			csvw_str(w, grid ? grid : "");
			double d_sae = exp_jnum(rec, RJK_D_SAE), k = exp_jnum(rec, RJK_K);
			csvw_f64(w, isnan(d_sae) ? exp_jnum(rec, "architecture.d_sae") : d_sae);
			csvw_f64(w, isnan(k) ? exp_jnum(rec, "architecture.k") : k);
			csvw_f64(w, exp_jnum(rec, RJK_LAMBDA_CONSISTENCY));
			csvw_f64(w, nseeds);
			for (size_t c = 0; c < NCOLS; c++) {
				if (!strncmp(cols[c].paths[0], "=str:", 5))
					csvw_str(w, first_str(rec, cols[c].paths));
				else
					csvw_f64(w, first_num(rec, cols[c].paths));
			}
			/* the condition's jobs: its own training (or the one it shares), its analysis */
			const char *src = hj_get_str(rec, "sae_shared_with");
			char train[200], analysis[200];
			if (fams[f].train_job)
				snprintf(train, sizeof(train), "%s", fams[f].train_job);
			else
				snprintf(train, sizeof(train), "sae_%s", src ? src : cond);
			snprintf(analysis, sizeof(analysis), "analysis_%s", cond);
			csvw_f64(w, runtime_sec(run_dir, train, analysis));
			if ((rc = csvw_end_row(w, err))) {
				csvw_abort(w);
				return rc;
			}
		}
	return csvw_commit(w, err);
}
