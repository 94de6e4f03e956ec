/*
 * results_schema.h — the keys of a run's results.json that report/ reads, owned here
 * (formats/results_schema.c): one name per key component (RJK_*), which the writers (run/exp_*.c,
 * analyze/analysis*.c, train/functional_run.c) and the readers (report/) spell through these
 * macros only, and the schema table that lists every key path with its JSON type, the
 * experiment kinds that require it and its meaning, against which report/ validates a
 * results.json when it opens a run (rj_validate).  docs/artifacts.md ("results.json") prints
 * the same table.
 *
 * Keys report/ does not read (provenance, the controls' details, CSV-only numbers, ...) stay
 * spelled where they are written.  The analysis's analysis/<cond>/results.json is read by
 * run/ only; its summaries are copied whole into the run's records, so the summary keys below
 * are the ones analyze/ writes.
 *
 * Notation of a key path (docs/artifacts.md): "a.b" the member b of the object a; "a[]" every
 * element of the list a; "a.<condition>" every member of the object a whatever its name (the
 * word in angle brackets says what names it); "<summary>", "<record>", ... a shape defined
 * once and used at several paths.
 */
#ifndef HUSAI_FORMATS_RESULTS_SCHEMA_H
#define HUSAI_FORMATS_RESULTS_SCHEMA_H

#include <stddef.h>

#include "errors.h"
#include "json.h"

/* ---------------------------------------------------------------- key names --------- */

/* the run and its provenance */
#define RJK_EXPERIMENT "experiment"
#define RJK_RUN_METADATA "run_metadata"
#define RJK_TIMESTAMP_UTC "timestamp_utc"
#define RJK_COMMAND "command"
#define RJK_RUN_ID "run_id"

/* phase 4a's groups and their controls */
#define RJK_TRAINED "trained"
#define RJK_RANDOM "random"
#define RJK_CONTROLS "controls"
#define RJK_R1 "r1"
#define RJK_R2 "r2"
#define RJK_ANALYTIC_NULL "analytic_null"

/* a summary (docs/formulas.md §6.0) and its seed pairs */
#define RJK_MEAN "mean"
#define RJK_STD "std"
#define RJK_MIN "min"
#define RJK_MAX "max"
#define RJK_MEDIAN "median"
#define RJK_CI95_LOW "ci95_low"
#define RJK_CI95_HIGH "ci95_high"
#define RJK_N "n"
#define RJK_PWMCC_VALUES "pwmcc_values"
#define RJK_SEEDS "seeds"
#define RJK_PAIRWISE "pairwise"
#define RJK_SEED_A "seed_a"
#define RJK_SEED_B "seed_b"
#define RJK_PWMCC "pwmcc"

/* the lists of records */
#define RJK_K_SWEEP "k_sweep"
#define RJK_D_SAE_SWEEP "d_sae_sweep"
#define RJK_SEARCH_RECORDS "search_records"
#define RJK_RECORDS "records"
#define RJK_RETRAIN_RECORD "retrain_record"
#define RJK_CONDITIONS "conditions"

/* what a record names */
#define RJK_K "k"
#define RJK_D_SAE "d_sae"
#define RJK_LAMBDA_CONSISTENCY "lambda_consistency"
#define RJK_CONDITION "condition"
#define RJK_N_SEEDS "n_seeds"
#define RJK_N_MODELS "n_models"

/* what a record measures */
#define RJK_TRAINED_PWMCC "trained_pwmcc"
#define RJK_RANDOM_PWMCC "random_pwmcc"
#define RJK_EXPLAINED_VARIANCE "explained_variance"
#define RJK_DELTA_PWMCC "delta_pwmcc"
#define RJK_DELTA_PWMCC_CI_LOW_CONSERVATIVE "delta_pwmcc_ci_low_conservative"
#define RJK_ALIGNMENT_TO_REF "alignment_to_ref"
#define RJK_VERDICT "verdict"

/* the seed-level test of a record */
#define RJK_SEED_LEVEL "seed_level"
#define RJK_N_MODELS_TRAINED "n_models_trained"
#define RJK_MIN_ATTAINABLE_P "min_attainable_p"
#define RJK_MIN_ATTAINABLE_P_ADJUSTED "min_attainable_p_adjusted"
#define RJK_N_TESTS "n_tests"
#define RJK_SEEDS_NEEDED "seeds_needed"
#define RJK_EFFECT "effect"
#define RJK_BOOTSTRAP_CI95_LOW "bootstrap_ci95_low"
#define RJK_BOOTSTRAP_CI95_HIGH "bootstrap_ci95_high"
#define RJK_PERMUTATION_P_ADJUSTED "permutation_p_adjusted"

/* the functional test of matched features (docs/formulas.md §11) */
#define RJK_FUNCTIONAL "functional"
#define RJK_MATCHED_ABS_DLOSS "matched_abs_dloss"
#define RJK_RANDOM_ABS_DLOSS "random_abs_dloss"
#define RJK_FINGERPRINT_COS_MATCHED "fingerprint_cos_matched"
#define RJK_FINGERPRINT_COS_RANDOM "fingerprint_cos_random"
#define RJK_MATCHED_LESS_THAN_RANDOM_PASS "matched_less_than_random_pass"

/* per-seed metrics and the adaptive searches' selection */
#define RJK_PER_SEED_METRICS "per_seed_metrics"
#define RJK_DEAD_FRACTION "dead_fraction"
#define RJK_SELECTION "selection"
#define RJK_SELECTED_K "selected_k"
#define RJK_EV_FLOOR "ev_floor"
#define RJK_SELECTED_LAMBDA "selected_lambda"

/* training curves and per-feature stability */
#define RJK_TRAINING_CURVES "training_curves"
#define RJK_STEP "step"
#define RJK_MSE "mse"
#define RJK_LOSS "loss"
#define RJK_L0 "l0"
#define RJK_PER_FEATURE_STABILITY "per_feature_stability"
#define RJK_CONTROL "control"

/* the convergence sweep */
#define RJK_CURVE "curve"
#define RJK_EXPLAINED_VARIANCE_MEAN "explained_variance_mean"
#define RJK_PWMCC_CHECKPOINTS "pwmcc_checkpoints"
#define RJK_DEFAULT_STEPS "default_steps"
#define RJK_CHOSEN_STEP "chosen_step"

/* planted ground truth (docs/formulas.md §10) */
#define RJK_PER_SEED "per_seed"
#define RJK_MCC_TRUTH "mcc_truth"
#define RJK_PWMCC_MEAN_TO_OTHERS "pwmcc_mean_to_others"
#define RJK_MCC_TRUTH_MEAN "mcc_truth_mean"
#define RJK_CORRELATION_PWMCC_MCC "correlation_pwmcc_mcc"
#define RJK_ACROSS_SEEDS "across_seeds"
#define RJK_SPEARMAN "spearman"
/* A key path from its components: RJ_PATH2(RJK_TRAINED_PWMCC, RJK_MEAN) is "trained_pwmcc.mean",
 * as hj_get reads it. */
#define RJ_PATH2(a, b) a "." b
#define RJ_PATH3(a, b, c) a "." b "." c

/* ---------------------------------------------------------------- the schema -------- */

/* The experiment kinds (results.json "experiment"), as bits of a mask. */
enum rj_kind {
	RJ_PHASE4A = 1u << 0,
	RJ_CORE = 1u << 1,        /* core_ablations */
	RJ_ADAPTIVE = 1u << 2,    /* adaptive_l0 */
	RJ_CONSISTENCY = 1u << 3, /* consistency_sweep */
	RJ_SLICE = 1u << 4,       /* benchmark_slice */
	RJ_SMOKE = 1u << 5,
	RJ_DEMO = 1u << 6,
	RJ_CONVERGENCE = 1u << 7,
	RJ_STABILITY = 1u << 8,
	RJ_PLANTED = 1u << 9,
	RJ_ALL = (1u << 10) - 1,
};
/* The values of "experiment", bit i of the mask being rj_kind_names[i]. */
extern const char *const *const rj_kind_names;
extern const size_t rj_nkinds;
/* The kind bit of an "experiment" value, 0 for an unknown one. */
unsigned rj_kind_bit(const char *experiment);

/* The JSON type a key holds. */
enum rj_type {
	RJ_STR,      /* a string */
	RJ_STR_NULL, /* a string or null */
	RJ_NUM,      /* a number, or null for a value that is not finite */
	RJ_INT,      /* an integer */
	RJ_BOOL,     /* true or false */
	RJ_NUMS,     /* a list of numbers (null for a value that is not finite) */
	RJ_OBJ,      /* an object of the shape `shape` */
	RJ_OBJ_NULL, /* the same, or null (a statistic that could not be computed) */
	RJ_LIST,     /* a list of objects of the shape `shape` */
	RJ_ONE_OR_LIST, /* an object of the shape `shape`, or a list of them */
	RJ_MAP,      /* an object whose every member is an object of the shape `shape` */
};
/* The words for a type in errors and in docs/artifacts.md ("a number or null", ...). */
const char *rj_type_words(enum rj_type t);

struct rj_shape;

/* One key of an object. */
struct rj_key {
	const char *name;             /* the key (an RJK_* name) */
	enum rj_type type;
	const struct rj_shape *shape; /* the members' shape for RJ_OBJ, RJ_LIST, RJ_ONE_OR_LIST, RJ_MAP */
	unsigned kinds;               /* the experiment kinds where the key has this meaning */
	unsigned required;            /* the kinds (within `kinds`) that must write it whenever
	                               * the object holding it is there */
	const char *meaning;          /* one line */
};

/* An object's keys: "<summary>" and the like, or "results.json" for the file itself.
 * `members`: for the shape of an RJ_MAP's members, what their names are ("condition"), for
 * the key paths; `base`: a shape whose keys this one has too (its own keys add to them or
 * make them required). */
struct rj_shape {
	const char *name;
	const char *members;
	const struct rj_shape *base;
	const struct rj_key *keys;
	size_t nkeys;
};

/* results.json itself, and every shape it holds (in the order docs/artifacts.md lists them;
 * ends with NULL). */
extern const struct rj_shape rj_results;
extern const struct rj_shape *const rj_shapes[];

/* Check a parsed results.json (an object) against the schema for its "experiment" kind:
 * every key a shape lists that is present has its type (recursively), and every key the kind
 * requires is present.  Unknown keys are fine.  HUS_EINPUT naming `file`, the key path
 * ("k_sweep.2.trained_pwmcc.mean") and the expected type on the first that is not. */
int rj_validate(hj *res, const char *file, struct hus_err *err);

#endif
