/*
 * cmd_train_sae.c — `husai train-sae`: one SAE per (condition, seed) over an activation set,
 * all in one pass over the data (train/sae_trainer.c), with a step-0 checkpoint of each seed
 * (the matched random control R2), periodic checkpoints every sae.checkpoint_every steps, a
 * final checkpoint, exact resume, and SIGINT/SIGTERM handled by finishing the step,
 * checkpointing every run and exiting with status 3 and the command that resumes.
 *
 * Files: OUT/[<condition>/]sae_seed<S>_step<T>.h5 (step0, periodic, interrupt) and
 * OUT/[<condition>/]sae_seed<S>.h5 (final).  Nothing is written before the config, the
 * activation set and every hyper-parameter have been validated.
 */
#include <dirent.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "builtin.h"
#include "train.h"

static const char *const train_sae_usage[] = {
	"husai train-sae --config <config.yaml> --activations <acts.h5> --out <dir>",
	"                [--seeds <s1,s2,...>] [--set <key=value>]... [--resume]",
	"",
	"    --config <file>       experiment config; the `sae:` section is read",
	"    --activations <file>  husai.activation_set to train on (sha256 recorded)",
	"    --out <dir>           output directory for the checkpoints",
	"    --seeds <list>        comma-separated seeds (default: sae.seeds, else 42,123,456)",
	"    --set <key=value>     override a config key, e.g. --set sae.k=16",
	"    --resume              continue each run from its newest checkpoint in <dir>",
	"    --memory <size>       keep the activation data within this much memory, e.g. 4G",
	"                          (default: sae.memory, else no limit); a larger set is read",
	"                          from disk as training goes, which needs sae.shuffle: blocks;",
	"                          the models' own memory comes on top.  Changes no result.",
	"    --stop-after <n>      behave as if interrupted after n steps (tests)",
	NULL,
};

static void usage(FILE *f)
{
	fprintf(f, "usage: %s\n", train_sae_usage[0]);
	for (int i = 1; train_sae_usage[i]; i++)
		fprintf(f, "%s\n", train_sae_usage[i]);
}

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

int cmd_train_sae(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "activations", required_argument, NULL, 'a' },
		{ "out", required_argument, NULL, 'o' },
		{ "seeds", required_argument, NULL, 's' },
		{ "set", required_argument, NULL, 'S' },
		{ "resume", no_argument, NULL, 'r' },
		{ "stop-after", required_argument, NULL, 'T' },
		{ "memory", required_argument, NULL, 'M' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *config = NULL, *acts = NULL, *out = NULL, *seeds_arg = NULL, *memory = NULL;
	const char *sets[64];
	int nsets = 0, resume = 0;
	long long stop_after = 0;
	optind = 0; /* glibc: full re-initialisation, so the verb can run twice in a process */
	opterr = 0;
	int ch;
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case 'c': config = optarg; break;
		case 'a': acts = optarg; break;
		case 'o': out = optarg; break;
		case 's': seeds_arg = optarg; break;
		case 'S':
			if (nsets == 64) {
				fprintf(stderr, "husai: train-sae: too many --set options\n");
				return 2;
			}
			sets[nsets++] = optarg;
			break;
		case 'r': resume = 1; break;
		case 'T': stop_after = atoll(optarg); break;
		case 'M': memory = optarg; break;
		case 'h': usage(stdout); return 0;
		default:
			fprintf(stderr, "husai: train-sae: unknown or incomplete option '%s'\n",
				argv[optind - 1]);
			usage(stderr);
			return 2;
		}
	}
	if (!config || !acts || !out || optind != argc) {
		fprintf(stderr, "husai: train-sae: --config, --activations and --out are required\n");
		usage(stderr);
		return 2;
	}

	struct hus_err err = { 0 };
	struct cfg *cfg = NULL;
	float *ref_T = NULL;
	struct sae_data data = { 0 }; /* the activation set, whole or streamed (sae_batches.c) */
	size_t N = 0, d = 0, m_ref = 0, njobs = 0;
	const char *sha = data.sha;
	int64_t *seeds = NULL;
	size_t nseeds = 0;
	char **conds = NULL;
	size_t nconds = 0;
	struct job *jobs = NULL;
	struct sae_run *runs = NULL;
	char *yaml = NULL;
	char resume_cmd[8192];
	struct sigaction sa_old_int, sa_old_term;
	int handlers = 0, rc;

	if ((rc = cfg_load(&cfg, config, &err)))
		goto done;
	for (int i = 0; i < nsets; i++)
		if ((rc = cfg_set(cfg, sets[i], &err)))
			goto done;
	if ((rc = sae_data_open(&data, acts, memory, cfg, &err)) ||
	    (rc = cfg_add_input(cfg, "activations", acts, &err)))
		goto done;
	N = data.N, d = data.d;
	struct sae_hparams base;
	struct sae_train_opts o;
	if ((rc = sae_config_read(cfg, d, &base, &o, &err)))
		goto done;
	static const int64_t def_seeds[3] = { 42, 123, 456 };
	if (seeds_arg) {
		char *assign = malloc(strlen(seeds_arg) + 16);
		if (!assign) {
			rc = hus_errf(&err, HUS_ENOMEM, NULL, NULL, "out of memory");
			goto done;
		}
		sprintf(assign, "sae.seeds=%s", seeds_arg);
		rc = cfg_set(cfg, assign, &err);
		free(assign);
		if (rc)
			goto done;
	}
	if ((rc = cfg_int_list(cfg, "sae.seeds", def_seeds, 3, &seeds, &nseeds, &err)))
		goto done;
	if (nseeds == 0) {
		rc = hus_errf(&err, HUS_EINPUT, config, "sae.seeds", "expected at least one seed");
		goto done;
	}
	for (size_t i = 0; i < nseeds; i++)
		for (size_t k = 0; k < i; k++)
			if (seeds[i] == seeds[k] || seeds[i] < 0) {
				rc = hus_errf(&err, HUS_EINPUT, config, "sae.seeds",
					      "seeds must be distinct and non-negative (%lld)",
					      (long long)seeds[i]);
				goto done;
			}
	if ((rc = cfg_keys(cfg, "sae.conditions", &conds, &nconds, &err)))
		goto done;
	size_t ncond_eff = nconds ? nconds : 1;
	struct sae_hparams *hs = calloc(ncond_eff, sizeof(*hs));
	if (!hs) {
		rc = hus_errf(&err, HUS_ENOMEM, NULL, NULL, "out of memory");
		goto done;
	}
	int need_ref = 0;
	for (size_t ci = 0; ci < ncond_eff; ci++) {
		if (nconds && (rc = sae_config_condition(cfg, conds[ci], &base, &hs[ci], &err))) {
			free(hs);
			goto done;
		}
		if (!nconds)
			hs[ci] = base;
		need_ref |= hs[ci].align_lambda > 0;
	}
	const char *ref_path = NULL;
	if ((rc = cfg_path(cfg, "sae.alignment.reference", "", &ref_path, &err))) {
		free(hs);
		goto done;
	}
	if (need_ref) {
		if (!ref_path[0]) {
			free(hs);
			rc = hus_errf(&err, HUS_EINPUT, config, "sae.alignment.reference",
				      "alignment.lambda > 0 needs a reference SAE checkpoint");
			goto done;
		}
		if ((rc = cfg_add_input(cfg, "alignment_reference", ref_path, &err)) ||
		    (rc = load_reference(ref_path, &ref_T, &m_ref, d, &err))) {
			free(hs);
			goto done;
		}
	}
	if ((rc = cfg_finish(cfg, &err))) {
		free(hs);
		goto done;
	}
	if (o.batch > N) { /* before any workspace of that size is asked for */
		char where[300] = "";
		cfg_where(cfg, "sae.batch_size", where, sizeof(where));
		free(hs);
		rc = hus_errf(&err, HUS_EINPUT, config, where[0] ? where : "sae.batch_size",
			      "'sae.batch_size': a batch of %zu rows is larger than the activation "
			      "set '%s' (%zu rows); use at most %zu",
			      o.batch, acts, N, N);
		goto done;
	}
	if (o.drop_last && N < o.batch) {
		free(hs);
		rc = hus_errf(&err, HUS_EINPUT, config, "sae.batch_size",
			      "drop_last with batch %zu > %zu rows leaves no step", o.batch, N);
		goto done;
	}
	yaml = cfg_resolved_yaml(cfg);
	char hash[65];
	cfg_hash(cfg, hash);

	/* the runs */
	njobs = ncond_eff * nseeds;
	jobs = calloc(njobs, sizeof(*jobs));
	runs = calloc(njobs, sizeof(*runs));
	if (!jobs || !runs || !yaml) {
		free(hs);
		rc = hus_errf(&err, HUS_ENOMEM, NULL, NULL, "out of memory");
		goto done;
	}
	for (size_t ci = 0, q = 0; ci < ncond_eff; ci++)
		for (size_t si = 0; si < nseeds; si++, q++) {
			struct sae_model *s = NULL;
			if ((rc = sae_model_alloc(&s, &hs[ci], (uint64_t)seeds[si], &err)) ||
			    (rc = sae_run_init(&runs[q], s, N, &o, &err))) {
				sae_model_free(s);
				free(hs);
				njobs = q;
				goto done;
			}
			s->ref_T = ref_T;
			s->m_ref = m_ref;
			jobs[q].run = &runs[q];
			jobs[q].run->condition = nconds ? conds[ci] : "";
			jobs[q].last_written = -1;
			if (nconds)
				snprintf(jobs[q].dir, sizeof(jobs[q].dir), "%s/%s", out, conds[ci]);
			else
				snprintf(jobs[q].dir, sizeof(jobs[q].dir), "%s", out);
		}
	free(hs);
	if ((rc = sae_data_ready(&data, njobs, &o, &err)))
		goto done;
	int64_t total = sae_total_steps(N, &o);
	struct ctx c = { jobs, njobs, N, sha, { yaml, hash }, o.checkpoint_every, stop_after, &err,
			 resume_cmd, NULL, 0 };
	{
		size_t off = (size_t)snprintf(resume_cmd, sizeof(resume_cmd),
					      "husai train-sae --config %s --activations %s --out %s",
					      config, acts, out);
		if (seeds_arg)
			off += (size_t)snprintf(resume_cmd + off, sizeof(resume_cmd) - off,
						" --seeds %s", seeds_arg);
		for (int i = 0; i < nsets && off < sizeof(resume_cmd); i++)
			off += (size_t)snprintf(resume_cmd + off, sizeof(resume_cmd) - off,
						" --set %s", sets[i]);
		if (off < sizeof(resume_cmd))
			snprintf(resume_cmd + off, sizeof(resume_cmd) - off, " --resume");
	}
	for (size_t q = 0; q < njobs; q++)
		if ((rc = hus_mkdirs(jobs[q].dir, &err)))
			goto done;
	if (resume) {
		/* a kill during the checkpoint writes of one step leaves some runs a step ahead:
		 * resume every run from the newest step they all have (periodic checkpoints are
		 * kept, so each run has it) */
		long long common = 1LL << 62;
		for (size_t q = 0; q < njobs && !o.per_seed_order; q++) {
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
			if ((rc = sae_ckpt_read(path, &ck, &err)))
				goto done;
			rc = sae_run_restore(jobs[q].run, &ck, N, hash, path, &err);
			if (!rc && strcmp(ck.activation_sha256, sha))
				rc = hus_errf(&err, HUS_EINPUT, path, "activation_sha256",
					      "checkpoint trained on activations %.12s…, '%s' is %.12s…",
					      ck.activation_sha256, acts, sha);
			sae_ckpt_release(&ck);
			if (rc)
				goto done;
			jobs[q].last_written = jobs[q].run->s->step;
		}
		for (size_t q = 1; q < njobs; q++)
			if (jobs[q].run->s->step != jobs[0].run->s->step && !o.per_seed_order) {
				rc = hus_errf(&err, HUS_EINPUT, jobs[q].dir, NULL,
					      "runs were saved at different steps (%lld vs %lld); "
					      "cannot resume them in one pass",
					      (long long)jobs[q].run->s->step,
					      (long long)jobs[0].run->s->step);
				goto done;
			}
	}
	for (size_t q = 0; q < njobs; q++) /* step 0: the matched random control R2 */
		if (jobs[q].run->s->step == 0 && (rc = write_ckpt(&c, &jobs[q], "step0")))
			goto done;

	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	stop_signal = 0;
	sigaction(SIGINT, &sa, &sa_old_int);
	sigaction(SIGTERM, &sa, &sa_old_term);
	handlers = 1;
	printf("train-sae: %zu run(s) (%zu condition(s) x %zu seed(s)), %zu rows x %zu, batch %zu%s, "
	       "%lld optimizer steps (%lld per epoch)\n",
	       njobs, ncond_eff, nseeds, N, d, o.batch, o.drop_last ? " drop_last" : "",
	       (long long)total, (long long)sae_steps_per_epoch(N, o.batch, o.drop_last));
	struct hus_progress prog;
	hus_progress_begin(&prog, "train-sae", (uint64_t)total);
	c.prog = &prog;
	c.step0 = jobs[0].run->s->step;
	if (jobs[0].run->s->step < total)
		rc = sae_data_train(&data, runs, njobs, &o, hook, &c, &err);
	hus_progress_end(&prog);
	c.prog = NULL;
	if (rc)
		goto done;
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
done:
	if (handlers) {
		sigaction(SIGINT, &sa_old_int, NULL);
		sigaction(SIGTERM, &sa_old_term, NULL);
	}
	if (rc)
		hus_err_print(&err);
	for (size_t q = 0; q < njobs && runs; q++) {
		sae_model_free(runs[q].s);
		sae_run_release(&runs[q]);
	}
	sae_data_release(&data);
	free(runs), free(jobs), free(ref_T), free(seeds), free(conds), free(yaml);
	cfg_free(cfg);
	return rc ? hus_err_status(rc) : 0;
}
