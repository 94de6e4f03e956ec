/*
 * results_schema.c — owns the keys of a run's results.json that report/ reads: the schema
 * table (one shape per kind of object, each key with its JSON type, the experiment kinds
 * where it means what it says and those that must write it, and its meaning) and the check
 * of a parsed results.json against it (rj_validate).  The key names are the RJK_* macros of
 * results_schema.h; writers and readers use them, never the spelled-out key.  The table is
 * printed in docs/artifacts.md ("results.json"), and tests/test_results_keys.c keeps the two
 * and the code in step.
 */
#include <stdio.h>
#include <string.h>

#include "results_schema.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define SHAPE(var, name, members, base, keys) \
	const struct rj_shape var = { name, members, base, keys, N(keys) }

/* the kinds whose results.json has phase 4a's groups at its top level */
#define GROUPS (RJ_PHASE4A | RJ_SMOKE | RJ_DEMO)
#define GRIDS (RJ_CORE | RJ_STABILITY)

static const char *const kind_names[] = {
	"phase4a", "core_ablations", "adaptive_l0", "consistency_sweep", "benchmark_slice",
	"smoke", "demo", "convergence", "stability", "planted",
};
const char *const *const rj_kind_names = kind_names;
const size_t rj_nkinds = N(kind_names);

unsigned rj_kind_bit(const char *experiment)
{
	for (size_t i = 0; experiment && i < N(kind_names); i++)
		if (!strcmp(experiment, kind_names[i]))
			return 1u << i;
	return 0;
}

const char *rj_type_words(enum rj_type t)
{
	switch (t) {
	case RJ_STR: return "a string";
	case RJ_STR_NULL: return "a string or null";
	case RJ_NUM: return "a number or null";
	case RJ_INT: return "an integer";
	case RJ_BOOL: return "true or false";
	case RJ_NUMS: return "a list of numbers";
	case RJ_OBJ: return "an object";
	case RJ_OBJ_NULL: return "an object or null";
	case RJ_LIST: return "a list of objects";
	case RJ_ONE_OR_LIST: return "an object or a list of objects";
	case RJ_MAP: return "an object of objects";
	}
	return "?";
}

/* ------------------------------------------------------------------ shapes ----------- */

static const struct rj_key pair_keys[] = {
	{ RJK_SEED_A, RJ_INT, NULL, RJ_ALL, RJ_ALL, "the first seed of the pair" },
	{ RJK_SEED_B, RJ_INT, NULL, RJ_ALL, RJ_ALL, "the second seed" },
	{ RJK_PWMCC, RJ_NUM, NULL, RJ_ALL, RJ_ALL, "the PWMCC of the two seeds' decoders" },
};
static SHAPE(pair, "<pair>", NULL, NULL, pair_keys);

static const struct rj_key summary_keys[] = {
	{ RJK_MEAN, RJ_NUM, NULL, RJ_ALL, RJ_ALL, "the mean over the values" },
	{ RJK_CI95_LOW, RJ_NUM, NULL, RJ_ALL, RJ_ALL, "the 95% bootstrap CI's lower end" },
	{ RJK_CI95_HIGH, RJ_NUM, NULL, RJ_ALL, RJ_ALL, "its upper end" },
	{ RJK_STD, RJ_NUM, NULL, RJ_ALL, 0, "the standard deviation (ddof 1)" },
	{ RJK_MIN, RJ_NUM, NULL, RJ_ALL, 0, "the smallest value" },
	{ RJK_MAX, RJ_NUM, NULL, RJ_ALL, 0, "the largest value" },
	{ RJK_MEDIAN, RJ_NUM, NULL, RJ_ALL, 0, "the median" },
	{ RJK_N, RJ_NUM, NULL, RJ_ALL, 0, "how many values" },
	{ RJK_SEEDS, RJ_NUMS, NULL, RJ_ALL, 0, "the seeds of the group's models" },
	{ RJK_PWMCC_VALUES, RJ_NUMS, NULL, RJ_ALL, 0, "every pair's PWMCC (pwmcc summaries)" },
	{ RJK_PAIRWISE, RJ_LIST, &pair, RJ_ALL, 0, "the same values by seed pair (F6)" },
};
static SHAPE(summary, "<summary>", NULL, NULL, summary_keys);

static const struct rj_key controls_keys[] = {
	{ RJK_R1, RJ_OBJ, &summary, RJ_ALL, 0, "PWMCC of random Gaussian decoders (R1)" },
	{ RJK_R2, RJ_OBJ, &summary, RJ_ALL, 0, "PWMCC of the same SAEs untrained (R2)" },
	{ RJK_ANALYTIC_NULL, RJ_NUM, NULL, RJ_ALL, 0, "the analytic null's expected PWMCC" },
};
static SHAPE(controls, "<controls>", NULL, NULL, controls_keys);

static const struct rj_key seed_level_keys[] = {
	{ RJK_N_MODELS_TRAINED, RJ_NUM, NULL, RJ_ALL, 0, "trained models in the test" },
	{ RJK_EFFECT, RJ_NUM, NULL, RJ_ALL, 0, "the seed-level effect, trained minus control" },
	{ RJK_BOOTSTRAP_CI95_LOW, RJ_NUM, NULL, RJ_ALL, 0, "the effect's 95% bootstrap CI, lower end" },
	{ RJK_BOOTSTRAP_CI95_HIGH, RJ_NUM, NULL, RJ_ALL, 0, "its upper end" },
	{ RJK_PERMUTATION_P_ADJUSTED, RJ_NUM, NULL, RJ_ALL, 0, "the permutation p, Holm-adjusted over the conditions" },
	{ RJK_N_TESTS, RJ_NUM, NULL, RJ_ALL, 0, "conditions in the Holm family" },
	{ RJK_MIN_ATTAINABLE_P, RJ_NUM, NULL, RJ_ALL, 0, "the smallest p the design can reach" },
	{ RJK_MIN_ATTAINABLE_P_ADJUSTED, RJ_NUM, NULL, RJ_ALL, 0, "the same after Holm" },
	{ RJK_SEEDS_NEEDED, RJ_NUM, NULL, RJ_ALL, 0, "seeds per group that could reach alpha (null: enough)" },
};
static SHAPE(seed_level, "<seed level>", NULL, NULL, seed_level_keys);

static const struct rj_key functional_keys[] = {
	{ RJK_MATCHED_ABS_DLOSS, RJ_OBJ_NULL, &summary, RJ_ALL, 0, "|Δloss| substituting a matched feature (docs/formulas.md §11)" },
	{ RJK_RANDOM_ABS_DLOSS, RJ_OBJ_NULL, &summary, RJ_ALL, 0, "|Δloss| substituting a random one" },
	{ RJK_FINGERPRINT_COS_MATCHED, RJ_OBJ_NULL, &summary, RJ_ALL, 0, "ablation fingerprint cosine of matched features" },
	{ RJK_FINGERPRINT_COS_RANDOM, RJ_OBJ_NULL, &summary, RJ_ALL, 0, "the same for random pairs" },
	{ RJK_MATCHED_LESS_THAN_RANDOM_PASS, RJ_BOOL, NULL, RJ_ALL, 0, "the seed-level CI of matched minus random lies below 0" },
};
static SHAPE(functional, "<functional>", NULL, NULL, functional_keys);

static const struct rj_key seed_metrics_keys[] = {
	{ RJK_DEAD_FRACTION, RJ_NUM, NULL, RJ_ALL, 0, "the fraction of latents that never fire" },
};
static SHAPE(seed_metrics, "<seed metrics>", NULL, NULL, seed_metrics_keys);

static const struct rj_key record_keys[] = {
	{ RJK_CONDITION, RJ_STR, NULL, RJ_ALL, 0, "the condition's id (\"k_sweep_dsae256_k8\")" },
	{ RJK_K, RJ_NUM, NULL, RJ_ALL, 0, "TopK's k" },
	{ RJK_D_SAE, RJ_NUM, NULL, RJ_ALL, 0, "the SAE's width" },
	{ RJK_LAMBDA_CONSISTENCY, RJ_NUM, NULL, RJ_ALL, 0, "the decoder-alignment weight λ" },
	{ RJK_N_SEEDS, RJ_NUM, NULL, RJ_ALL, 0, "models (seeds) behind the numbers" },
	{ RJK_N_MODELS, RJ_NUM, NULL, RJ_ALL, 0, "the same, where the record counts models" },
	{ RJK_TRAINED_PWMCC, RJ_OBJ, &summary, RJ_ALL, 0, "cross-seed PWMCC of the trained SAEs" },
	{ RJK_RANDOM_PWMCC, RJ_OBJ, &summary, RJ_ALL, 0, "the same of the primary random control" },
	{ RJK_CONTROLS, RJ_OBJ, &controls, RJ_ALL, 0, "every control's PWMCC" },
	{ RJK_EXPLAINED_VARIANCE, RJ_OBJ, &summary, RJ_ALL, 0, "explained variance over the seeds" },
	{ RJK_DELTA_PWMCC, RJ_NUM, NULL, RJ_ALL, 0, "trained minus random mean PWMCC" },
	{ RJK_DELTA_PWMCC_CI_LOW_CONSERVATIVE, RJ_NUM, NULL, RJ_ALL, 0, "trained CI low minus random CI high" },
	{ RJK_ALIGNMENT_TO_REF, RJ_OBJ, &summary, RJ_ALL, 0, "PWMCC of each seed to the reference SAE" },
	{ RJK_VERDICT, RJ_STR_NULL, NULL, RJ_ALL, 0, "the seed-level verdict (training_signal_present, underpowered, ...)" },
	{ RJK_SEED_LEVEL, RJ_OBJ, &seed_level, RJ_ALL, 0, "the seed-level test against R1" },
	{ RJK_FUNCTIONAL, RJ_OBJ, &functional, RJ_ALL, 0, "the functional test of matched features" },
	{ RJK_PER_SEED_METRICS, RJ_LIST, &seed_metrics, RJ_ALL, 0, "each seed's final metrics" },
	{ RJK_PAIRWISE, RJ_LIST, &pair, RJ_ALL, 0, "the trained PWMCC by seed pair, in older archives" },
};
static SHAPE(record, "<record>", NULL, NULL, record_keys);

static const struct rj_key k_record_keys[] = {
	{ RJK_K, RJ_NUM, NULL, RJ_ALL, RJ_ALL, "the x of F2" },
	{ RJK_TRAINED_PWMCC, RJ_OBJ, &summary, RJ_ALL, RJ_ALL, "F2's trained series" },
	{ RJK_RANDOM_PWMCC, RJ_OBJ, &summary, RJ_ALL, RJ_ALL, "F2's random series" },
};
static SHAPE(k_record, "<k sweep record>", NULL, &record, k_record_keys);

static const struct rj_key d_record_keys[] = {
	{ RJK_D_SAE, RJ_NUM, NULL, RJ_ALL, RJ_ALL, "the x of F3" },
	{ RJK_TRAINED_PWMCC, RJ_OBJ, &summary, RJ_ALL, RJ_ALL, "F3's trained series" },
	{ RJK_RANDOM_PWMCC, RJ_OBJ, &summary, RJ_ALL, RJ_ALL, "F3's random series" },
};
static SHAPE(d_record, "<d_sae sweep record>", NULL, &record, d_record_keys);

static const struct rj_key search_record_keys[] = {
	{ RJK_K, RJ_NUM, NULL, RJ_ALL, RJ_ALL, "the x of F4" },
	{ RJK_TRAINED_PWMCC, RJ_OBJ, &summary, RJ_ALL, RJ_ALL, "F4's trained series" },
	{ RJK_RANDOM_PWMCC, RJ_OBJ, &summary, RJ_ALL, RJ_ALL, "F4's random series" },
	{ RJK_DELTA_PWMCC, RJ_NUM, NULL, RJ_ALL, RJ_ALL, "F4's delta" },
	{ RJK_DELTA_PWMCC_CI_LOW_CONSERVATIVE, RJ_NUM, NULL, RJ_ALL, RJ_ALL, "F4's conservative LCB" },
};
static SHAPE(search_record, "<search record>", NULL, &record, search_record_keys);

static const struct rj_key lambda_record_keys[] = {
	{ RJK_LAMBDA_CONSISTENCY, RJ_NUM, NULL, RJ_ALL, RJ_ALL, "the x of F5" },
	{ RJK_DELTA_PWMCC, RJ_NUM, NULL, RJ_ALL, RJ_ALL, "F5's delta" },
};
static SHAPE(lambda_record, "<λ record>", NULL, &record, lambda_record_keys);

static const struct rj_key selection_keys[] = {
	{ RJK_SELECTED_K, RJ_NUM, NULL, RJ_ADAPTIVE, 0, "the k the search selected (null: none)" },
	{ RJK_EV_FLOOR, RJ_NUM, NULL, RJ_ADAPTIVE, 0, "the explained-variance floor of the selection" },
	{ RJK_SELECTED_LAMBDA, RJ_NUM, NULL, RJ_CONSISTENCY, 0, "the λ the sweep selected (null: none)" },
};
static SHAPE(selection, "<selection>", NULL, NULL, selection_keys);

static const struct rj_key ev_curve_keys[] = {
	{ RJK_STEP, RJ_NUMS, NULL, RJ_ALL, RJ_ALL, "the logged SAE steps" },
	{ RJK_EXPLAINED_VARIANCE_MEAN, RJ_NUMS, NULL, RJ_ALL, RJ_ALL, "the seed-mean EV at each step" },
};
static SHAPE(ev_curve, "<EV curve>", NULL, NULL, ev_curve_keys);

static const struct rj_key checkpoint_keys[] = {
	{ RJK_STEP, RJ_NUM, NULL, RJ_ALL, RJ_ALL, "the checkpoint's step" },
	{ RJK_PWMCC, RJ_OBJ, &summary, RJ_ALL, RJ_ALL, "cross-seed PWMCC at that step" },
};
static SHAPE(checkpoint, "<checkpoint>", NULL, NULL, checkpoint_keys);

static const struct rj_key conv_record_keys[] = {
	{ RJK_CONDITION, RJ_STR, NULL, RJ_ALL, 0, "the condition's id" },
	{ RJK_K, RJ_NUM, NULL, RJ_ALL, RJ_ALL, "TopK's k (F10's series)" },
	{ RJK_SEEDS, RJ_NUMS, NULL, RJ_ALL, 0, "the seeds" },
	{ RJK_CURVE, RJ_OBJ, &ev_curve, RJ_ALL, RJ_ALL, "EV against steps" },
	{ RJK_PWMCC_CHECKPOINTS, RJ_LIST, &checkpoint, RJ_ALL, RJ_ALL, "PWMCC at each checkpoint" },
};
static SHAPE(conv_record, "<convergence record>", NULL, NULL, conv_record_keys);

static const struct rj_key curve_keys[] = {
	{ RJK_STEP, RJ_NUMS, NULL, RJ_ALL, RJ_ALL, "the logged steps" },
	{ RJK_MSE, RJ_NUMS, NULL, RJ_ALL, 0, "reconstruction MSE at each step" },
	{ RJK_LOSS, RJ_NUMS, NULL, RJ_ALL, 0, "the training loss, where a history has no mse" },
	{ RJK_EXPLAINED_VARIANCE, RJ_NUMS, NULL, RJ_ALL, 0, "explained variance at each step" },
	{ RJK_L0, RJ_NUMS, NULL, RJ_ALL, 0, "mean active latents at each step" },
	{ RJK_DEAD_FRACTION, RJ_NUMS, NULL, RJ_ALL, 0, "fraction of dead latents at each step" },
};
static SHAPE(curve, "<training curve>", "condition>/<seed", NULL, curve_keys);

static const struct rj_key feature_keys[] = {
	{ RJK_TRAINED, RJ_NUMS, NULL, RJ_ALL, RJ_ALL, "each feature's best-match similarity across seeds" },
	{ RJK_CONTROL, RJ_NUMS, NULL, RJ_ALL, 0, "the same for the random control" },
};
static SHAPE(feature, "<feature stability>", "condition", NULL, feature_keys);

static const struct rj_key run_metadata_keys[] = {
	{ RJK_TIMESTAMP_UTC, RJ_STR, NULL, RJ_ALL, 0, "when the results were written (figures' date)" },
	{ RJK_COMMAND, RJ_STR, NULL, RJ_ALL, 0, "the command that made the run" },
	{ RJK_RUN_ID, RJ_STR, NULL, RJ_ALL, 0, "the run's id" },
};
static SHAPE(run_metadata, "<run metadata>", NULL, NULL, run_metadata_keys);

static const struct rj_key planted_seed_keys[] = {
	{ RJK_MCC_TRUTH, RJ_NUM, NULL, RJ_ALL, 0, "the seed's MCC to the true dictionary" },
	{ RJK_PWMCC_MEAN_TO_OTHERS, RJ_NUM, NULL, RJ_ALL, 0, "its mean PW-MCC to the other seeds" },
};
static SHAPE(planted_seed, "<planted seed>", NULL, NULL, planted_seed_keys);

static const struct rj_key planted_keys[] = {
	{ RJK_CONDITION, RJ_STR, NULL, RJ_ALL, 0, "the architecture" },
	{ RJK_MCC_TRUTH_MEAN, RJ_NUM, NULL, RJ_ALL, 0, "the seeds' mean MCC to the truth" },
	{ RJK_TRAINED_PWMCC, RJ_OBJ, &summary, RJ_ALL, 0, "cross-seed PW-MCC" },
	{ RJK_PER_SEED, RJ_LIST, &planted_seed, RJ_ALL, 0, "each seed (F11's points)" },
};
static SHAPE(planted, "<planted condition>", NULL, NULL, planted_keys);

static const struct rj_key across_keys[] = {
	{ RJK_SPEARMAN, RJ_NUM, NULL, RJ_ALL, 0, "Spearman's ρ of PW-MCC and MCC over the seeds" },
};
static SHAPE(across, "<across seeds>", NULL, NULL, across_keys);

static const struct rj_key correlation_keys[] = {
	{ RJK_ACROSS_SEEDS, RJ_OBJ, &across, RJ_ALL, 0, "over every (architecture, seed)" },
};
static SHAPE(correlation, "<correlation>", NULL, NULL, correlation_keys);

static const struct rj_key results_keys[] = {
	{ RJK_EXPERIMENT, RJ_STR, NULL, RJ_ALL, RJ_ALL, "the experiment kind (phase4a, core_ablations, ...)" },
	{ RJK_RUN_METADATA, RJ_OBJ, &run_metadata, RJ_ALL, 0, "provenance (left out when runs are compared)" },
	{ RJK_TRAINED, RJ_OBJ, &summary, GROUPS, RJ_PHASE4A, "cross-seed PWMCC of the trained SAEs (F1)" },
	{ RJK_RANDOM, RJ_OBJ, &summary, GROUPS, RJ_PHASE4A, "the same of the primary random control (F1)" },
	{ RJK_CONTROLS, RJ_OBJ, &controls, GROUPS, 0, "every control (F1: r2, analytic_null)" },
	{ RJK_K_SWEEP, RJ_LIST, &k_record, GRIDS, 0, "the k sweep at fixed d_sae (F2)" },
	{ RJK_D_SAE_SWEEP, RJ_LIST, &d_record, GRIDS, 0, "the d_sae sweep at fixed k (F3)" },
	{ RJK_SEARCH_RECORDS, RJ_LIST, &search_record, RJ_ADAPTIVE, RJ_ADAPTIVE, "the k search (F4)" },
	{ RJK_RETRAIN_RECORD, RJ_ONE_OR_LIST, &record, RJ_ADAPTIVE, 0, "the selected k retrained" },
	{ RJK_SELECTION, RJ_OBJ, &selection, RJ_ADAPTIVE | RJ_CONSISTENCY, 0, "what the search or sweep selected" },
	{ RJK_RECORDS, RJ_LIST, &lambda_record, RJ_CONSISTENCY, RJ_CONSISTENCY, "the λ sweep (F5)" },
	{ RJK_RECORDS, RJ_LIST, &conv_record, RJ_CONVERGENCE, RJ_CONVERGENCE, "one record per k (F10)" },
	{ RJK_DEFAULT_STEPS, RJ_NUM, NULL, RJ_CONVERGENCE, 0, "the configured step count (F10's mark)" },
	{ RJK_CHOSEN_STEP, RJ_NUM, NULL, RJ_CONVERGENCE, 0, "the step the criterion chose (null: not converged)" },
	{ RJK_ANALYTIC_NULL, RJ_NUM, NULL, RJ_CONVERGENCE, 0, "the analytic null's expected PWMCC" },
	{ RJK_CONDITIONS, RJ_LIST, &planted, RJ_PLANTED, 0, "one record per architecture (F11)" },
	{ RJK_CORRELATION_PWMCC_MCC, RJ_OBJ, &correlation, RJ_PLANTED, 0, "how PW-MCC and MCC agree" },
	{ RJK_TRAINING_CURVES, RJ_MAP, &curve, RJ_ALL, 0, "checkpoint histories (F8)" },
	{ RJK_PER_FEATURE_STABILITY, RJ_MAP, &feature, RJ_ALL, 0, "per-feature best-match similarity (F9)" },
};
SHAPE(rj_results, "results.json", NULL, NULL, results_keys);

const struct rj_shape *const rj_shapes[] = {
	&rj_results, &run_metadata, &summary, &pair, &controls, &record, &k_record, &d_record,
	&search_record, &lambda_record, &seed_level, &functional, &seed_metrics, &selection,
	&conv_record, &ev_curve, &checkpoint, &curve, &feature, &planted, &planted_seed,
	&correlation, &across, NULL,
};

/* ------------------------------------------------------------------ the check -------- */

struct check {
	const char *file;
	unsigned kind;
	struct hus_err *err;
};

/* the value at path is not of type t (missing: absent where the kind requires it) */
static int wrong(const struct check *c, const char *path, int missing, enum rj_type t)
{
	return hus_errf(c->err, HUS_EINPUT, c->file, path, "%sexpected %s",
	                missing ? "missing required key: " : "", rj_type_words(t));
}

static int check_shape(const struct check *c, hj *obj, const struct rj_shape *s, const char *path);

static int is_type(hj *v, enum rj_type t)
{
	enum hj_kind k = hj_kind_of(v);
	switch (t) {
	case RJ_STR: return k == HJ_STR;
	case RJ_STR_NULL: return k == HJ_STR || k == HJ_NULL;
	case RJ_NUM: return k == HJ_INT || k == HJ_REAL || k == HJ_NULL;
	case RJ_INT: return k == HJ_INT;
	case RJ_BOOL: return k == HJ_TRUE || k == HJ_FALSE;
	case RJ_NUMS: case RJ_LIST: return k == HJ_ARR;
	case RJ_OBJ: case RJ_MAP: return k == HJ_OBJ;
	case RJ_OBJ_NULL: return k == HJ_OBJ || k == HJ_NULL;
	case RJ_ONE_OR_LIST: return k == HJ_OBJ || k == HJ_ARR;
	}
	return 0;
}

/* v (at path) against key: its type, then what it holds */
static int check_value(const struct check *c, hj *v, const struct rj_key *key, const char *path)
{
	char p[1024];
	if (!is_type(v, key->type))
		return wrong(c, path, 0, key->type);
	switch (key->type) {
	case RJ_NUMS:
		for (size_t i = 0; i < hj_len(v); i++) {
			enum hj_kind k = hj_kind_of(hj_at(v, i));
			if (k != HJ_INT && k != HJ_REAL && k != HJ_NULL) {
				snprintf(p, sizeof(p), "%.960s.%zu", path, i);
				return wrong(c, p, 0, RJ_NUM);
			}
		}
		return 0;
	case RJ_OBJ:
		return check_shape(c, v, key->shape, path);
	case RJ_OBJ_NULL:
		return hj_kind_of(v) == HJ_NULL ? 0 : check_shape(c, v, key->shape, path);
	case RJ_LIST:
	case RJ_ONE_OR_LIST:
		if (!hj_is_arr(v))
			return check_shape(c, v, key->shape, path);
		for (size_t i = 0; i < hj_len(v); i++) {
			snprintf(p, sizeof(p), "%.960s.%zu", path, i);
			if (!hj_is_obj(hj_at(v, i)))
				return wrong(c, p, 0, RJ_OBJ);
			int rc = check_shape(c, hj_at(v, i), key->shape, p);
			if (rc)
				return rc;
		}
		return 0;
	case RJ_MAP: {
		hj *m;
		const char *name;
		for (size_t i = 0; (name = hj_obj_at(v, i, &m)); i++) {
			snprintf(p, sizeof(p), "%.900s.%.100s", path, name);
			if (!hj_is_obj(m))
				return wrong(c, p, 0, RJ_OBJ);
			int rc = check_shape(c, m, key->shape, p);
			if (rc)
				return rc;
		}
		return 0;
	}
	default:
		return 0;
	}
}

static int check_shape(const struct check *c, hj *obj, const struct rj_shape *s, const char *path)
{
	if (s->base) {
		int rc = check_shape(c, obj, s->base, path);
		if (rc)
			return rc;
	}
	for (size_t i = 0; i < s->nkeys; i++) {
		const struct rj_key *key = &s->keys[i];
		if (!(key->kinds & c->kind))
			continue;
		char p[1024];
		if (path[0])
			snprintf(p, sizeof(p), "%.900s.%.100s", path, key->name);
		else
			snprintf(p, sizeof(p), "%s", key->name);
		hj *v = hj_member(obj, key->name);
		if (!v) {
			if (key->required & c->kind)
				return wrong(c, p, 1, key->type);
			continue;
		}
		int rc = check_value(c, v, key, p);
		if (rc)
			return rc;
	}
	return 0;
}

int rj_validate(hj *res, const char *file, struct hus_err *err)
{
	if (!hj_is_obj(res))
		return hus_errf(err, HUS_EINPUT, file, NULL, "expected a JSON object");
	const char *kind = hj_get_str(res, RJK_EXPERIMENT);
	if (!kind)
		return hus_errf(err, HUS_EINPUT, file, RJK_EXPERIMENT,
		                "expected a string naming the experiment kind");
	struct check c = { file, rj_kind_bit(kind), err };
	if (!c.kind)
		return hus_errf(err, HUS_EINPUT, file, RJK_EXPERIMENT, "unknown experiment kind '%s'",
		                kind);
	return check_shape(&c, res, &rj_results, "");
}
