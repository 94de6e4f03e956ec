/*
 * sae_train_run.c — the work of `husai train-sae` (struct train_sae_request in train.h; the
 * verb, cmd_train_sae.c, only parses the command line): one SAE per (condition, seed) over an
 * activation set, all in one pass over the data (train/sae_trainer.c), with a step-0 checkpoint of each seed
 * (the matched random control R2), periodic checkpoints every sae.checkpoint_every steps, a
 * final checkpoint, exact resume, and SIGINT/SIGTERM handled by finishing the step,
 * checkpointing every run and exiting with status 3 and the command that resumes.
 *
 * Files: OUT/[<condition>/]sae_seed<S>_step<T>.h5 (step0, periodic, interrupt) and
 * OUT/[<condition>/]sae_seed<S>.h5 (final).  Nothing is written before the config, the
 * activation set and every hyper-parameter have been validated.
 */
#include <dirent.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "train.h"

static volatile sig_atomic_t stop_signal;
static void on_signal(int sig) { stop_signal = sig; }

struct job {
	struct sae_run *run; /* into the contiguous runs[] that sae_train steps */
	char dir[4096];
	int64_t last_written;
};

struct ctx {
	struct job *jobs;
	size_t n;
	size_t N;
	const char *sha;
	struct hus_provenance prov;
	int64_t every, stop_after;
	struct hus_err *err;
	const char *resume_cmd;
	struct hus_progress *prog; /* the terminal's progress line (silent when piped) */
	int64_t step0;             /* the step training started (resumed) from */
};

static int write_ckpt(struct ctx *c, struct job *j, const char *kind)
{
	char path[4300];
	struct sae_ckpt ck;
	struct sae_model *s = j->run->s;
	if (!strcmp(kind, "final"))
		snprintf(path, sizeof(path), "%s/sae_seed%llu.h5", j->dir, (unsigned long long)s->seed);
	else
		snprintf(path, sizeof(path), "%s/sae_seed%llu_step%lld.h5", j->dir,
			 (unsigned long long)s->seed, (long long)s->step);
	sae_run_ckpt_view(j->run, &ck, c->N, kind, c->sha);
	if (hus_fault("train_sae_write_nan")) /* tests: what a trainer without the checks wrote */
		ck.params[s->h.d_sae * s->h.d_model + s->h.d_sae] = NAN; /* W_dec[0, 0] */
	int rc = sae_ckpt_write(path, &ck, &c->prov, c->err);
	if (!rc)
		j->last_written = s->step;
	return rc;
}

/* A diverged run (a learning rate too high, a bad input) must fail, never be saved: its
 * last step's loss is checked after every step and every parameter before every checkpoint
 * (`scan`); the error names the seed, the step and the first tensor holding a non-finite
 * value. */
static int check_finite(struct ctx *c, const struct job *j, int scan)
{
	const struct sae_run *r = j->run;
	const struct sae_model *s = r->s;
	double loss = s->step > 0 ? r->last_loss : 0.0;
	size_t md = s->h.d_sae * s->h.d_model;
	const struct {
		const char *name;
		const float *p;
		size_t n;
	} t[] = {
		{ "W_enc", s->p.W_enc, md },        { "b_enc", s->p.b_enc, s->h.d_sae },
		{ "W_dec", s->p.W_decT, md },       { "b_dec", s->p.b_dec, s->h.d_model },
		{ "threshold", s->p.threshold, s->h.d_sae },
	};
	const char *bad = NULL;
	size_t nbad = 0, tensors = 0;
	for (size_t i = 0; (scan || !isfinite(loss)) && i < sizeof(t) / sizeof(t[0]); i++) {
		size_t k = 0;
		for (size_t q = 0; q < t[i].n; q++)
			k += !isfinite(t[i].p[q]);
		if (k && !bad) {
			bad = t[i].name;
			nbad = k;
		}
		tensors += k > 0;
	}
	if (isfinite(loss) && !bad)
		return 0;
	char what[160] = "", who[300];
	if (bad)
		snprintf(what, sizeof(what), "%s has %zu non-finite entries%s", bad, nbad,
			 tensors > 1 ? ", and other tensors too" : "");
	snprintf(who, sizeof(who), "%s%sseed %llu", r->condition[0] ? r->condition : "",
		 r->condition[0] ? " " : "", (unsigned long long)s->seed);
	if (!isfinite(loss))
		return hus_errf(c->err, HUS_EINPUT, "train-sae", NULL,
				"%s: step %lld: loss is %s%s%s%s; the run diverged: lower sae.lr (now %g)",
				who, (long long)s->step, isnan(loss) ? "NaN" : "infinite", bad ? " (" : "",
				what, bad ? ")" : "", s->h.lr);
	return hus_errf(c->err, HUS_EINPUT, "train-sae", NULL,
			"%s: step %lld: %s; the run diverged: lower sae.lr (now %g)", who,
			(long long)s->step, what, s->h.lr);
}

static int hook(void *vctx, struct sae_run *runs, size_t n, int final)
{
	(void)runs, (void)n;
	struct ctx *c = vctx;
	int rc;
	if (hus_fault("train_sae_diverge")) /* tests: runs whose optimizer blows up */
		for (size_t i = 0; i < c->n; i++)
			c->jobs[i].run->s->h.lr = INFINITY;
	for (size_t i = 0; i < c->n; i++) {
		struct job *j = &c->jobs[i];
		int64_t step = j->run->s->step;
		int writes = final || stop_signal || (c->stop_after > 0 && step >= c->stop_after) ||
			     (c->every > 0 && step % c->every == 0 && step != j->last_written);
		if ((rc = check_finite(c, j, writes || j->run->pos == 0)))
			return rc;
		if (c->every > 0 && step % c->every == 0 && step != j->last_written &&
		    (rc = write_ckpt(c, j, "periodic")))
			return rc;
		if (final && (rc = write_ckpt(c, j, "final")))
			return rc;
	}
	int64_t step = c->jobs[0].run->s->step;
	if (c->prog && !final) { /* steps, the first run's loss, steps/s; ETA from the line */
		double el = hus_now() - c->prog->t_start, loss = c->jobs[0].run->last_loss;
		char detail[96];
		snprintf(detail, sizeof(detail), "steps, loss %.4g, %.1f steps/s", loss,
			 el > 0 ? (double)(step - c->step0) / el : 0.0);
		hus_progress_update(c->prog, (uint64_t)step, detail);
	}
	if (!final && stop_signal && getenv("HUSAI_JOB")) /* a job of husai run, which reruns */
		return hus_errf(c->err, HUS_EINTR, NULL, NULL, /* an unfinished job from its start */
				"interrupted at step %lld (a job of husai run: no interrupt checkpoint)",
				(long long)step);
	if (!final && (stop_signal || (c->stop_after > 0 && step >= c->stop_after))) {
		for (size_t i = 0; i < c->n; i++)
			if (c->jobs[i].last_written != c->jobs[i].run->s->step &&
			    (rc = write_ckpt(c, &c->jobs[i], "interrupt")))
				return rc;
		fprintf(stderr, "husai: train-sae: %s after step %lld; every run is checkpointed.\n"
			"resume with:\n  %s\n", stop_signal ? "interrupted" : "stopped",
			(long long)step, c->resume_cmd);
		return hus_errf(c->err, HUS_EINTR, NULL, NULL, "interrupted at step %lld",
				(long long)step);
	}
	return 0;
}

/* newest sae_seed<S>_step<T>.h5 (or the final file) in dir; path empty if none */
/* The newest checkpoint of `seed` in `dir` whose step is at most max_step (the final file
 * counts as the newest of all); its step, or -1 with path "" when there is none. */
static long long newest_ckpt(const char *dir, uint64_t seed, long long max_step, char *path,
                             size_t cap)
{
	char final_name[128], prefix[128];
	snprintf(final_name, sizeof(final_name), "sae_seed%llu.h5", (unsigned long long)seed);
	snprintf(prefix, sizeof(prefix), "sae_seed%llu_step", (unsigned long long)seed);
	path[0] = 0;
	DIR *d = opendir(dir);
	if (!d)
		return -1;
	long long best = -1;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, final_name)) {
			if ((1LL << 62) <= max_step) {
				snprintf(path, cap, "%s/%s", dir, e->d_name);
				best = 1LL << 62;
			}
			continue;
		}
		size_t pl = strlen(prefix), nl = strlen(e->d_name);
		if (strncmp(e->d_name, prefix, pl) || nl < pl + 4 || strcmp(e->d_name + nl - 3, ".h5"))
			continue;
		char *end;
		long long t = strtoll(e->d_name + pl, &end, 10);
		if (end != e->d_name + nl - 3 || t <= best || t > max_step)
			continue;
		best = t;
		snprintf(path, cap, "%s/%s", dir, e->d_name);
	}
	closedir(d);
	return best;
}

static int load_reference(const char *path, float **ref_T, size_t *m_ref, size_t d_model,
                          struct hus_err *err)
{
	struct sae_ckpt ck;
	int rc = sae_ckpt_read(path, &ck, err);
	if (rc)
		return rc;
	if (ck.d_model != d_model) {
		sae_ckpt_release(&ck);
		return hus_errf(err, HUS_EINPUT, path, "d_model",
				"reference decoder has d_model %zu, the activations %zu", ck.d_model,
				d_model);
	}
	size_t m = ck.d_sae, d = d_model;
	float *r = malloc(m * d * sizeof(float));
	if (!r) {
		sae_ckpt_release(&ck);
		return hus_errf(err, HUS_ENOMEM, path, NULL, "out of memory");
	}
	memcpy(r, ck.params + m * d + m, m * d * sizeof(float)); /* W_decT block */
	sae_renorm_decoder(r, m, d); /* §6.5: R̂ column-normalised */
	sae_ckpt_release(&ck);
	*ref_T = r;
	*m_ref = m;
	return 0;
}

/* Everything one train-sae call holds, released by session_release. */
struct session {
	const struct train_sae_request *q;
	struct cfg *cfg;
	struct sae_data data; /* the activation set, whole or streamed (sae_batches.c) */
	float *ref_T;
	size_t N, d, m_ref;
	char sha[65], hash[65];
	int64_t *seeds;
	size_t nseeds;
	char **conds;
	size_t nconds, ncond_eff;
	struct sae_hparams base, *hs;
	struct sae_train_opts o;
	char *yaml;
	struct job *jobs;
	struct sae_run *runs;
	size_t njobs;
	char resume_cmd[8192];
};

/* sae.seeds (or --seeds over it): at least one, distinct, non-negative */
static int read_seeds(struct session *S, struct hus_err *err)
{
	static const int64_t def_seeds[3] = { 42, 123, 456 };
	const char *config = S->q->config;
	int rc;
	if (S->q->seeds) {
		char *assign = malloc(strlen(S->q->seeds) + 16);
		if (!assign)
			return hus_errf(err, HUS_ENOMEM, NULL, NULL, "out of memory");
		sprintf(assign, "sae.seeds=%s", S->q->seeds);
		rc = cfg_set(S->cfg, assign, err);
		free(assign);
		if (rc)
			return rc;
	}
	if ((rc = cfg_int_list(S->cfg, "sae.seeds", def_seeds, 3, &S->seeds, &S->nseeds, err)))
		return rc;
	if (S->nseeds == 0)
		return hus_errf(err, HUS_EINPUT, config, "sae.seeds", "expected at least one seed");
	for (size_t i = 0; i < S->nseeds; i++)
		for (size_t k = 0; k < i; k++)
			if (S->seeds[i] == S->seeds[k] || S->seeds[i] < 0)
				return hus_errf(err, HUS_EINPUT, config, "sae.seeds",
				                "seeds must be distinct and non-negative (%lld)",
				                (long long)S->seeds[i]);
	return 0;
}

/* The config, the activation set, the seeds, each condition's hyper-parameters and the
 * alignment reference, all validated before anything is written. */
static int read_inputs(struct session *S, struct hus_err *err)
{
	const struct train_sae_request *q = S->q;
	const char *config = q->config;
	int rc;
	if ((rc = cfg_load(&S->cfg, config, err)) || (rc = hus_sets_apply(&q->sets, S->cfg, err)))
		return rc;
	if ((rc = sae_data_open(&S->data, q->activations, q->memory, S->cfg, err)) ||
	    (rc = cfg_add_input(S->cfg, "activations", q->activations, err)))
		return rc;
	S->N = S->data.N, S->d = S->data.d;
	memcpy(S->sha, S->data.sha, sizeof(S->sha));
	if ((rc = sae_config_read(S->cfg, S->d, &S->base, &S->o, err)) || (rc = read_seeds(S, err)) ||
	    (rc = cfg_keys(S->cfg, "sae.conditions", &S->conds, &S->nconds, err)))
		return rc;
	S->ncond_eff = S->nconds ? S->nconds : 1;
	if (!(S->hs = calloc(S->ncond_eff, sizeof(*S->hs))))
		return hus_errf(err, HUS_ENOMEM, NULL, NULL, "out of memory");
	int need_ref = 0;
	for (size_t ci = 0; ci < S->ncond_eff; ci++) {
		if (S->nconds &&
		    (rc = sae_config_condition(S->cfg, S->conds[ci], &S->base, &S->hs[ci], err)))
			return rc;
		if (!S->nconds)
			S->hs[ci] = S->base;
		need_ref |= S->hs[ci].align_lambda > 0;
	}
	const char *ref_path = NULL;
	if ((rc = cfg_path(S->cfg, "sae.alignment.reference", "", &ref_path, err)))
		return rc;
	if (need_ref) {
		if (!ref_path[0])
			return hus_errf(err, HUS_EINPUT, config, "sae.alignment.reference",
			                "alignment.lambda > 0 needs a reference SAE checkpoint");
		if ((rc = cfg_add_input(S->cfg, "alignment_reference", ref_path, err)) ||
		    (rc = load_reference(ref_path, &S->ref_T, &S->m_ref, S->d, err)))
			return rc;
	}
	if ((rc = cfg_finish(S->cfg, err)))
		return rc;
	if (S->o.batch > S->N) { /* before any workspace of that size is asked for */
		char where[300] = "";
		cfg_where(S->cfg, "sae.batch_size", where, sizeof(where));
		return hus_errf(err, HUS_EINPUT, config, where[0] ? where : "sae.batch_size",
		                "'sae.batch_size': a batch of %zu rows is larger than the activation "
		                "set '%s' (%zu rows); use at most %zu",
		                S->o.batch, q->activations, S->N, S->N);
	}
	if (S->o.drop_last && S->N < S->o.batch)
		return hus_errf(err, HUS_EINPUT, config, "sae.batch_size",
		                "drop_last with batch %zu > %zu rows leaves no step", S->o.batch, S->N);
	S->yaml = cfg_resolved_yaml(S->cfg);
	cfg_hash(S->cfg, S->hash);
	return 0;
}

/* One run per (condition, seed), conditions outermost; each one's output directory. */
static int make_runs(struct session *S, struct hus_err *err)
{
	S->njobs = S->ncond_eff * S->nseeds;
	S->jobs = calloc(S->njobs, sizeof(*S->jobs));
	S->runs = calloc(S->njobs, sizeof(*S->runs));
	if (!S->jobs || !S->runs || !S->yaml) {
		S->njobs = 0;
		return hus_errf(err, HUS_ENOMEM, NULL, NULL, "out of memory");
	}
	for (size_t ci = 0, q = 0; ci < S->ncond_eff; ci++)
		for (size_t si = 0; si < S->nseeds; si++, q++) {
			struct sae_model *s = NULL;
			int rc;
			if ((rc = sae_model_alloc(&s, &S->hs[ci], (uint64_t)S->seeds[si], err)) ||
			    (rc = sae_run_init(&S->runs[q], s, S->N, &S->o, err))) {
				sae_model_free(s);
				S->njobs = q;
				return rc;
			}
			s->ref_T = S->ref_T;
			s->m_ref = S->m_ref;
			struct job *j = &S->jobs[q];
			j->run = &S->runs[q];
			j->run->condition = S->nconds ? S->conds[ci] : "";
			j->last_written = -1;
			if (S->nconds)
				snprintf(j->dir, sizeof(j->dir), "%s/%s", S->q->out, S->conds[ci]);
			else
				snprintf(j->dir, sizeof(j->dir), "%s", S->q->out);
		}
	return 0;
}

/* The command that resumes this training, printed when it is interrupted. */
static void resume_command(struct session *S)
{
	const struct train_sae_request *q = S->q;
	char *b = S->resume_cmd;
	size_t n = sizeof(S->resume_cmd);
	size_t off = (size_t)snprintf(b, n, "husai train-sae --config %s --activations %s --out %s",
	                              q->config, q->activations, q->out);
	if (q->seeds)
		off += (size_t)snprintf(b + off, n - off, " --seeds %s", q->seeds);
	for (size_t i = 0; i < q->sets.n && off < n; i++)
		off += (size_t)snprintf(b + off, n - off, " --set %s", q->sets.v[i]);
	if (off < n)
		snprintf(b + off, n - off, " --resume");
}

/* --resume: every run continues from its newest checkpoint in its directory. */
static int resume_runs(struct session *S, struct hus_err *err)
{
	struct job *jobs = S->jobs;
	size_t njobs = S->njobs;
	int rc;
	/* a kill during the checkpoint writes of one step leaves some runs a step ahead:
	 * resume every run from the newest step they all have (periodic checkpoints are
	 * kept, so each run has it) */
	long long common = 1LL << 62;
	for (size_t q = 0; q < njobs && !S->o.per_seed_order; q++) {
		char path[4400];
		long long t = newest_ckpt(jobs[q].dir, jobs[q].run->s->seed, 1LL << 62, path,
		                          sizeof(path));
		if (t < common)
			common = t;
	}
	for (size_t q = 0; q < njobs; q++) {
		char path[4400];
		newest_ckpt(jobs[q].dir, jobs[q].run->s->seed, common, path, sizeof(path));
		if (!path[0])
			continue; /* nothing saved yet: start this run from its init */
		struct sae_ckpt ck;
		if ((rc = sae_ckpt_read(path, &ck, err)))
			return rc;
		rc = sae_run_restore(jobs[q].run, &ck, S->N, S->hash, path, err);
		if (!rc && strcmp(ck.activation_sha256, S->sha))
			rc = hus_errf(err, HUS_EINPUT, path, "activation_sha256",
			              "checkpoint trained on activations %.12s…, '%s' is %.12s…",
			              ck.activation_sha256, S->q->activations, S->sha);
		sae_ckpt_release(&ck);
		if (rc)
			return rc;
		jobs[q].last_written = jobs[q].run->s->step;
	}
	for (size_t q = 1; q < njobs; q++)
		if (jobs[q].run->s->step != jobs[0].run->s->step && !S->o.per_seed_order)
			return hus_errf(err, HUS_EINPUT, jobs[q].dir, NULL,
			                "runs were saved at different steps (%lld vs %lld); "
			                "cannot resume them in one pass",
			                (long long)jobs[q].run->s->step, (long long)jobs[0].run->s->step);
	return 0;
}

/* Step-0 checkpoints, then every step of every run under SIGINT/SIGTERM handlers that
 * checkpoint and stop; one line per finished run. */
static int train_runs(struct session *S, struct hus_err *err)
{
	struct job *jobs = S->jobs;
	size_t njobs = S->njobs;
	const struct sae_train_opts *o = &S->o;
	int rc;
	if ((rc = sae_data_ready(&S->data, njobs, o, err)))
		return rc;
	int64_t total = sae_total_steps(S->N, o);
	struct ctx c = { jobs, njobs, S->N, S->sha, { S->yaml, S->hash }, o->checkpoint_every,
	                 S->q->stop_after, err, S->resume_cmd, NULL, 0 };
	for (size_t q = 0; q < njobs; q++) /* step 0: the matched random control R2 */
		if (jobs[q].run->s->step == 0 && (rc = write_ckpt(&c, &jobs[q], "step0")))
			return rc;
	struct sigaction sa, sa_old_int, sa_old_term;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	stop_signal = 0;
	sigaction(SIGINT, &sa, &sa_old_int);
	sigaction(SIGTERM, &sa, &sa_old_term);
	printf("train-sae: %zu run(s) (%zu condition(s) x %zu seed(s)), %zu rows x %zu, batch %zu%s, "
	       "%lld optimizer steps (%lld per epoch)\n",
	       njobs, S->ncond_eff, S->nseeds, S->N, S->d, o->batch, o->drop_last ? " drop_last" : "",
	       (long long)total, (long long)sae_steps_per_epoch(S->N, o->batch, o->drop_last));
	struct hus_progress prog;
	hus_progress_begin(&prog, "train-sae", (uint64_t)total);
	c.prog = &prog;
	c.step0 = jobs[0].run->s->step;
	rc = 0;
	if (jobs[0].run->s->step < total)
		rc = sae_data_train(&S->data, S->runs, njobs, o, hook, &c, err);
	hus_progress_end(&prog);
	sigaction(SIGINT, &sa_old_int, NULL);
	sigaction(SIGTERM, &sa_old_term, NULL);
	if (rc)
		return rc;
	for (size_t q = 0; q < njobs; q++) {
		struct sae_run *r = jobs[q].run;
		if (!r->have_final) /* resumed from a final checkpoint written by an older run */
			continue;
		printf("%s%sseed %llu: %lld steps, mse %.6g, explained_variance %.6f, ev_fvu %.6f, "
		       "l0 %.3f, dead %lld/%zu -> %s/sae_seed%llu.h5\n",
		       r->condition[0] ? r->condition : "", r->condition[0] ? " " : "",
		       (unsigned long long)r->s->seed, (long long)r->s->step, r->final.mse,
		       r->final.explained_variance, r->final.ev_fvu, r->final.l0,
		       (long long)r->final.dead, r->s->h.d_sae, jobs[q].dir,
		       (unsigned long long)r->s->seed);
	}
	return 0;
}

int sae_train_run(const struct train_sae_request *q, struct hus_err *err)
{
	struct session S;
	memset(&S, 0, sizeof(S));
	S.q = q;
	int rc = read_inputs(&S, err);
	if (!rc)
		rc = make_runs(&S, err);
	if (!rc) {
		resume_command(&S);
		for (size_t i = 0; i < S.njobs && !rc; i++)
			rc = hus_mkdirs(S.jobs[i].dir, err);
	}
	if (!rc && q->resume)
		rc = resume_runs(&S, err);
	if (!rc)
		rc = train_runs(&S, err);
	for (size_t i = 0; i < S.njobs && S.runs; i++) {
		sae_model_free(S.runs[i].s);
		sae_run_release(&S.runs[i]);
	}
	sae_data_release(&S.data);
	free(S.runs), free(S.jobs), free(S.ref_T), free(S.seeds), free(S.conds);
	free(S.yaml), free(S.hs);
	cfg_free(S.cfg);
	return rc;
}
