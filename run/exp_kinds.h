/*
 * exp_kinds.h — private to run/: the experiment drivers, one file each (exp_<kind>.c),
 * and the helpers they share.
 */
#ifndef HUSAI_EXP_KINDS_H
#define HUSAI_EXP_KINDS_H

#include "run.h"

typedef int (*exp_fn)(struct runner *r, struct cfg *c, const struct experiment *ex,
                      struct hus_err *err);

struct exp_kind {
	const char *name;
	exp_fn run;
	uint64_t estimated_jobs;
	const char *help;
};

int exp_core(struct runner *r, struct cfg *c, const struct experiment *ex, struct hus_err *err);
/* The core-ablation grid (k sweep at fixed_d_sae, d_sae sweep at fixed_k, over seeds) with
 * results.json's `experiment` set to `kind` (core_ablations, stability). */
int exp_core_grid(struct runner *r, struct cfg *c, const struct experiment *ex, const char *kind,
                  struct hus_err *err);
int exp_stability(struct runner *r, struct cfg *c, const struct experiment *ex,
                  struct hus_err *err);
int exp_adaptive(struct runner *r, struct cfg *c, const struct experiment *ex, struct hus_err *err);
int exp_consistency(struct runner *r, struct cfg *c, const struct experiment *ex,
                    struct hus_err *err);
int exp_slice(struct runner *r, struct cfg *c, const struct experiment *ex, struct hus_err *err);
int exp_suite(struct runner *r, struct cfg *c, const struct experiment *ex, struct hus_err *err);
int exp_phase4a(struct runner *r, struct cfg *c, const struct experiment *ex, struct hus_err *err);
int exp_convergence(struct runner *r, struct cfg *c, const struct experiment *ex,
                    struct hus_err *err);
int exp_planted(struct runner *r, struct cfg *c, const struct experiment *ex,
                struct hus_err *err);
int exp_smoke(struct runner *r, struct cfg *c, const struct experiment *ex, struct hus_err *err);

/* Phase-4a presets of docs/formulas.md A2 (exp_preset.c): husai, run29, legacy.  Fill the preset's keys
 * the config leaves out and label extract/sae sections; *deviations (a JSON array, always
 * set) lists keys the config sets to other values. */
extern const char *const exp_preset_names[];
int exp_preset_apply(struct cfg *c, const char *preset, hj **deviations, struct hus_err *err);
/* A given activation set (experiment.activations) must suit the preset: rows train for legacy. */
int exp_preset_check_acts(const char *preset, const char *path, struct hus_err *err);
/* {key: value} of a preset's settings ({} for presets the config spells out). */
hj *exp_preset_settings(const char *preset);

/* Write RUN/jobs/<job>.yaml holding the given sections of the experiment config; path OUT. */
int exp_job_config(struct runner *r, struct cfg *c, const char *job, const char *const *sections,
                   char *path, size_t n, struct hus_err *err);

/* Bootstrap and control settings shared by the statistics of every experiment (docs/formulas.md §6.0). */
struct exp_stats {
	size_t bootstrap;                   /* B, 10000 */
	int64_t seed_trained, seed_random;  /* per-experiment bootstrap seeds (docs/formulas.md §6.0 table) */
	int64_t r1_offset;                  /* R1 seed = trained seed + offset */
	int64_t seed_level;                 /* seed of the model-level bootstrap (41) */
	int64_t *r1_seeds;                  /* explicit R1 seeds instead (phase 4a: 1000..1004) */
	size_t n_r1_seeds;
	const char *controls;               /* r1, r2 or both */
	const char *const *analyze_extra;   /* more `husai analyze` arguments (NULL-terminated) or NULL */
};
int exp_stats_read(struct cfg *c, struct exp_stats *st, uint64_t def_trained, uint64_t def_random,
                   struct hus_err *err);
void exp_stats_release(struct exp_stats *st);

/* A trained SAE's final metrics and per-epoch curve, from its checkpoint. */
struct exp_sae_final {
	double mse, ev, ev_fvu, l0, dead_fraction;
	int64_t steps;
	size_t d_sae;     /* the checkpoint's own shape and k (-1: not recorded), for */
	int64_t k;        /* exp_sae_matches */
	double *curve[5]; /* step, mse, explained_variance, l0, dead_fraction per epoch */
	size_t curve_n;
};
int exp_sae_final(const char *path, struct exp_sae_final *m, struct hus_err *err);
void exp_sae_final_release(struct exp_sae_final *m);
/* The final metrics into a per-seed record, under the keys `keys` names in their order (each
 * kind keeps the key order its results.json has always had): "mse", "explained_variance",
 * "ev_fvu", "l0", "steps_trained", "dead_fraction"; NULL-terminated. */
void exp_sae_final_put(hj *o, const struct exp_sae_final *m, const char *const *keys);
/* mse, explained_variance, l0, steps_trained, dead_fraction: adaptive and consistency records */
extern const char *const exp_sae_final_keys_short[];
/* A record's d_sae and k come from the driver's condition, the analysis reads them from the
 * checkpoints: the two must agree (k only where both have one), or the record would describe
 * SAEs it was not computed from.  0, or HUS_EINPUT naming the checkpoint and both values. */
int exp_sae_matches(const struct exp_sae_final *m, const char *path, int64_t d_sae, int64_t k,
                    struct hus_err *err);

/* An SAE condition a driver generates: its name (no '.') and up to EXP_COND_SETTINGS settings
 * of the sae section (dotted keys below the condition, e.g. "alignment.lambda"), put into the
 * job config through the config API (cfg_put_*), never written as YAML text. */
#define EXP_COND_SETTINGS 4
struct exp_setting {
	const char *key;
	int64_t i;
	double f;
	int is_f64;    /* the value is f, else i */
	const char *s; /* or a string when non-NULL (a list as "1,2,3") */
};
struct exp_cond {
	const char *name;
	struct exp_setting set[EXP_COND_SETTINGS];
	size_t n;
};

/* Jobs: transformer + extraction (or the given files), SAEs (one job per call, any number of
 * conditions in one pass), one analysis per condition (RUN/analysis/<cond>/). */
int exp_activations(struct runner *r, struct cfg *c, const struct experiment *ex, char *acts,
                    size_t n, struct hus_err *err);
int exp_train_saes(struct runner *r, struct cfg *c, const char *job, const char *acts,
                   const struct exp_cond *cond, const int64_t *seeds, size_t nseeds,
                   const char *const *outputs, struct hus_err *err);
/* The same with sae.epochs overridden (0: as configured). */
int exp_train_saes_epochs(struct runner *r, struct cfg *c, const char *job, const char *acts,
                          const struct exp_cond *cond, const int64_t *seeds, size_t nseeds,
                          int64_t epochs, const char *const *outputs, struct hus_err *err);
/* ... and one more --set key=value (NULL: none). */
int exp_train_saes_set(struct runner *r, struct cfg *c, const char *job, const char *acts,
                       const struct exp_cond *cond, const int64_t *seeds, size_t nseeds,
                       int64_t epochs, const char *extra_set, const char *const *outputs,
                       struct hus_err *err);
/* One train-sae job `job` for condition `cond` over all the seeds (docs/formulas.md §6.3: conditions are
 * independent, so the ranks of an MPI run share them): checkpoints sae/<cond>/sae_seed<S>.h5;
 * `cond` names the condition and its settings; epochs 0
 * and extra_set NULL as exp_train_saes_set. */
int exp_train_condition(struct runner *r, struct cfg *c, const char *job, const char *acts,
                        const struct exp_cond *cond, const int64_t *seeds, size_t nseeds,
                        int64_t epochs, const char *extra_set, struct hus_err *err);
/* Analysis of one group whose checkpoint i lives in sae/<dirs[i]>/ (NULL: sae/<cond>/). */
int exp_analyze_dirs(struct runner *r, struct cfg *c, const char *cond, const char *const *dirs,
                     const int64_t *seeds, size_t nseeds, const struct exp_stats *st,
                     struct hus_err *err);
int exp_analyze(struct runner *r, struct cfg *c, const char *cond, const int64_t *seeds,
                size_t nseeds, const struct exp_stats *st, struct hus_err *err);
int exp_read_group(struct runner *r, const char *cond, hj **root, hj **group, struct hus_err *err);

/* {mean, std, min, max, median, ci95_low, ci95_high, n} of x (docs/formulas.md §6.0 summarize). */
hj *exp_summary_json(const double *x, size_t n, size_t B, uint64_t seed, struct hus_err *err);
hj *exp_run_metadata(struct runner *r, const char *run_id);
/* The report's controls block: {r1: summary, r2: summary, analytic_null: number, detail}. */
hj *exp_controls_json(hj *group);
/* Per-feature stability values of all the models of `paths` (docs/formulas.md §5.4), pooled. */
hj *exp_feature_stability(const char *const *paths, size_t n, struct hus_err *err);
/* [{seed_a, seed_b, pwmcc}] from a summary's seeds and pwmcc_values (pairs as §5.2). */
hj *exp_pairwise_json(hj *summary);
/* Seed-level (model-level) bootstrap CI of the trained-minus-control difference, beside the
 * analysis's permutation test over model labels (docs/formulas.md §8.8). */
hj *exp_seed_level(hj *trained, hj *control, hj *permutation, size_t B, uint64_t seed);
/* The verdict of each record (docs/formulas.md §8.8 "verdict"): Holm over the records'
 * finite seed_level.permutation_p (m tests), written into seed_level {alpha, correction,
 * n_tests, effect, permutation_p_adjusted, min_attainable_p[_adjusted], seeds_needed,
 * verdict} and the record's top-level "verdict".  seeds_needed uses seed_level's
 * permutation_max_exact / permutation_samples (exp_seed_level_params; null when absent). */
void exp_apply_verdicts(hj *const *recs, size_t n);
/* The same over the records of several JSON arrays taken as one family of tests. */
void exp_apply_verdicts_lists(hj *const *arrays, size_t n_arrays);
/* RUN/conditions.csv (exp_tidy.c, docs/artifacts.md): one row per record of each family.
 * family: its name in the "family" column; condition: the name when a record has no
 * "condition" key (NULL: empty); train_job: the training job's name (NULL: "sae_<condition>",
 * or the condition named by "sae_shared_with"). */
struct exp_tidy_family {
	const char *family, *condition, *train_job;
	hj *records; /* a JSON array of records, or one record object */
};
int exp_write_tidy_csv(const char *run_dir, const char *experiment,
                       const struct exp_tidy_family *fams, size_t n_fams, struct hus_err *err);
/* Copy the analysis group's permutation settings into a seed_level block. */
void exp_seed_level_params(hj *seed_level, hj *group);

/* The optional functional-consistency step (exp_functional.c, docs/formulas.md §11):
 * experiment.functional (default false), functional_seed (0: the random control's seed),
 * bootstrap_seed_functional (47); refused without a transformer to run. */
int exp_functional_read(struct cfg *c, const struct experiment *ex, int *on, int64_t *seed,
                        int64_t *boot_seed, struct hus_err *err);
/* The `husai functional` job of condition `cond` (its SAEs under sae/<src>/, its matchings in
 * analysis/<cond>/analysis.h5): output functional/<cond>/functional.json. */
int exp_functional_job(struct runner *r, const struct experiment *ex, const char *cond,
                       const char *src, const char *acts, const int64_t *seeds, size_t ns,
                       int64_t seed, struct hus_err *err);
/* The record's `functional` block from functional/<cond>/functional.json; NULL with err set. */
hj *exp_functional_json(struct runner *r, const char *cond, size_t B, uint64_t boot_seed,
                        struct hus_err *err);
/* A record's PWMCC fields from one group of an analysis (docs/formulas.md §6.3-6.5 keys):
 * trained_pwmcc (+ pairwise list), random_pwmcc, delta_pwmcc, its conservative LCB, ratio. */
void exp_record_pwmcc(hj *rec, hj *group);
/* ... and the pairwise value lists, husai's controls block and the seed-level statistics. */
void exp_record_controls(hj *rec, hj *group, const struct exp_stats *st);
/* A number at a dotted path of a JSON value, NaN when absent or null. */
double exp_jnum(hj *v, const char *path);
/* {description, difference, ci95_low, ci95_high, seed}: bootstrap CI of mean(a) − mean(b)
 * over two arrays of pairwise values (docs/formulas.md §6.0); NULL with err set on failure. */
hj *exp_fair_comparison(const char *description, hj *a, hj *b, size_t B, uint64_t seed,
                        struct hus_err *err);

#endif
