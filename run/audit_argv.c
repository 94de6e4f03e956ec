/*
 * audit_argv.c — the `husai analyze` command `husai audit --recompute` runs for one analysis
 * job, read strictly and mapped into the audited run.  The command comes from the plan (the
 * jobs this husai declares for the run's config.yaml, audit_aggregate.c), never from a done
 * record, and its paths name the audit's mirror of the run; it is still checked as untrusted
 * (the job's jobs/<job>.yaml comes from the archive).  Only the options of `husai analyze`
 * (cmd_analyze.c; keep the two lists together) are accepted, each written --name VALUE or
 * --name=VALUE, at most once apart from --group and --r2-from; no abbreviation, no positional
 * argument.  --out names the run directory as the command spells it (the outputs' directory
 * below it); every input path must lie in that directory and is read from the same place in
 * the audited run directory instead, resolving inside it; the output always goes to the
 * audit's scratch directory.  The command handed to husai spells every option --name=value,
 * so no value is ever read as an option.
 */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit_internal.h"

/* An error at argv.<i> of the record rec. */
static int bad_arg(struct hus_err *err, const char *rec, size_t i, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int bad_arg(struct hus_err *err, const char *rec, size_t i, const char *fmt, ...)
{
	char where[32], msg[1024];
	snprintf(where, sizeof(where), "argv.%zu", i);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return hus_errf(err, HUS_EINPUT, rec, where, "%s", msg);
}

enum arg_kind {
	ARG_VALUE,  /* a setting, passed on as it is */
	ARG_FLAG,   /* no value */
	ARG_INPUT,  /* one input file */
	ARG_INPUTS, /* <name>=<file>[,<file>...] */
	ARG_OUT,    /* the output directory: replaced by the scratch directory */
	ARG_DROP,   /* a value not passed on: --pair-cache, so that every product is recomputed
	             * from the checkpoints, never read from the run's pair caches */
};

struct audit_opt {
	const char *name;
	enum arg_kind kind;
	int repeat;
};
static const struct audit_opt analyze_options[] = {
	{ "config", ARG_INPUT, 0 },      { "group", ARG_INPUTS, 1 },
	{ "r2-from", ARG_INPUTS, 1 },    { "out", ARG_OUT, 0 },
	{ "activations", ARG_INPUT, 0 }, { "control", ARG_VALUE, 0 },
	{ "r1-seeds", ARG_VALUE, 0 },    { "r1-offset", ARG_VALUE, 0 },
	{ "bootstrap", ARG_VALUE, 0 },   { "seed-trained", ARG_VALUE, 0 },
	{ "seed-random", ARG_VALUE, 0 }, { "seed-r2", ARG_VALUE, 0 },
	{ "seed-level", ARG_VALUE, 0 },  { "threshold", ARG_VALUE, 0 },
	{ "mnn-threshold", ARG_VALUE, 0 }, { "subspace-k", ARG_VALUE, 0 },
	{ "hungarian-max", ARG_VALUE, 0 }, { "act-rows", ARG_VALUE, 0 },
	{ "no-matchings", ARG_FLAG, 0 },
	{ "truth", ARG_INPUT, 0 },       { "truth-rows", ARG_VALUE, 0 },
	{ "stability-threshold", ARG_VALUE, 0 },
	{ "pair-cache", ARG_DROP, 0 },
};
#define N_OPTIONS (sizeof(analyze_options) / sizeof(analyze_options[0]))
/* `husai functional` (train/cmd_functional.c; keep the two lists together) */
static const struct audit_opt functional_options[] = {
	{ "transformer", ARG_INPUT, 0 }, { "activations", ARG_INPUT, 0 },
	{ "matching", ARG_INPUT, 0 },    { "group", ARG_INPUTS, 0 },
	{ "out", ARG_OUT, 0 },           { "seed", ARG_VALUE, 0 },
};
#define N_FUNCTIONAL_OPTIONS (sizeof(functional_options) / sizeof(functional_options[0]))
_Static_assert(N_FUNCTIONAL_OPTIONS <= N_OPTIONS, "first[] is sized by the longer list");

void audit_job_free(struct audit_job *job)
{
	for (size_t i = 0; job->argv && job->argv[i]; i++)
		free(job->argv[i]);
	free(job->argv);
	for (size_t i = 0; i < job->n_outputs; i++)
		free(job->outputs[i]);
	free(job->outputs);
	memset(job, 0, sizeof(*job));
}

/* A group name becomes part of output file names: letters, digits, '_', '-', '.', '+' only,
 * not starting with '.'. */
static int plain_name(const char *s, size_t n)
{
	if (!n || s[0] == '.' || n > 200)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-' || c == '.' || c == '+'))
			return 0;
	}
	return 1;
}

struct ctx {
	const char *rec_path, *run_abs, *prefix;
	char run_real[PATH_MAX];
	struct hus_err *err;
};

/* The recorded input path `p` (argv.<i>, option --<opt>) mapped into the audited run. */
static int map_input(struct ctx *x, size_t i, const char *opt, const char *p, char *out,
                     size_t n)
{
	size_t pl = strlen(x->prefix);
	if (strncmp(p, x->prefix, pl) || p[pl] != '/' || !hus_path_is_below(p + pl + 1))
		return bad_arg(x->err, x->rec_path, i,
				"--%s names '%.300s', which is not a file inside the run "
				"directory '%.300s' its --out names; the audit reads inputs only from "
				"the audited run", opt, p, x->prefix);
	if ((size_t)snprintf(out, n, "%s/%s", x->run_abs, p + pl + 1) >= n)
		return bad_arg(x->err, x->rec_path, i, "path too long");
	char real[PATH_MAX];
	size_t rl = strlen(x->run_real);
	if (!realpath(out, real))
		return bad_arg(x->err, x->rec_path, i,
				"--%s names '%.300s', expected at '%.300s' in the audited run, "
				"which has no such file", opt, p, out);
	if (strncmp(real, x->run_real, rl) || real[rl] != '/')
		return bad_arg(x->err, x->rec_path, i,
				"--%s names '%.300s', which in the audited run leads outside it "
				"(to '%.300s', through a symbolic link)", opt, p, real);
	return 0;
}

/* "<name>=<file>[,<file>...]" with each file mapped. */
static int map_inputs(struct ctx *x, size_t i, const char *opt, const char *v, char **out)
{
	const char *eq = strchr(v, '=');
	if (!eq || !plain_name(v, (size_t)(eq - v)))
		return bad_arg(x->err, x->rec_path, i,
				"--%s expects <name>=<file>[,<file>...] with a plain name "
				"(letters, digits, _ - . +), found '%.300s'", opt, v);
	size_t cap = strlen(v) + 64, len = (size_t)(eq - v) + 1;
	char *r = malloc(cap);
	if (!r)
		return hus_errf(x->err, HUS_ENOMEM, NULL, NULL, "out of memory");
	memcpy(r, v, len);
	r[len] = 0;
	for (const char *s = eq + 1;;) {
		size_t n = strcspn(s, ",");
		char one[PATH_MAX], mapped[PATH_MAX * 2];
		if (!n || n >= sizeof(one)) {
			free(r);
			return bad_arg(x->err, x->rec_path, i,
					"--%s has an empty or overlong file in '%.300s'", opt,
					v);
		}
		memcpy(one, s, n);
		one[n] = 0;
		if (map_input(x, i, opt, one, mapped, sizeof(mapped))) {
			free(r);
			return x->err->code;
		}
		size_t ml = strlen(mapped);
		if (len + ml + 2 > cap) {
			cap = 2 * (len + ml + 2);
			char *t = realloc(r, cap);
			if (!t) {
				free(r);
				return hus_errf(x->err, HUS_ENOMEM, NULL, NULL, "out of memory");
			}
			r = t;
		}
		if (r[len - 1] != '=')
			r[len++] = ',';
		memcpy(r + len, mapped, ml + 1);
		len += ml;
		s += n;
		if (!*s)
			break;
		s++;
	}
	*out = r;
	return 0;
}

/* The --config file may set the analysis's settings but must name no files of its own: the
 * audit maps the command line's paths, not a config's. */
static int check_config(struct ctx *x, size_t i, const char *path)
{
	static const char *const keys[] = { "analysis.groups", "analysis.r2_from",
					    "analysis.activations", NULL };
	struct cfg *c;
	struct hus_err e = { 0 };
	if (cfg_load(&c, path, &e))
		return bad_arg(x->err, x->rec_path, i,
				"--config '%.300s' cannot be read: %s%s%s", path, e.where,
				*e.where ? ": " : "", e.msg);
	int rc = 0;
	for (size_t k = 0; !rc && keys[k]; k++)
		if (cfg_has(c, keys[k]))
			rc = bad_arg(x->err, x->rec_path, i,
				      "its --config '%.300s' sets %s, which names files; the "
				      "audit reads inputs only through the recorded command line", path, keys[k]);
	cfg_free(c);
	return rc;
}

static int push(char ***argv, size_t *n, char *s)
{
	char **a = realloc(*argv, (*n + 2) * sizeof(*a));
	if (!a || !s) {
		free(s);
		if (a)
			*argv = a;
		return -1;
	}
	*argv = a;
	a[(*n)++] = s;
	a[*n] = NULL;
	return 0;
}

static char *joined(const char *name, const char *value)
{
	size_t n = strlen(name) + strlen(value) + 4;
	char *s = malloc(n);
	if (s)
		snprintf(s, n, "--%s=%s", name, value);
	return s;
}

/* The record's outputs: relative paths, all in one directory, which --out must name. */
static int read_outputs(hj *rec, const char *rec_path, struct audit_job *job, struct hus_err *err)
{
	hj *outs = hj_get(rec, "outputs");
	size_t n = hj_is_arr(outs) ? hj_len(outs) : 0;
	if (!n)
		return hus_errf(err, HUS_EINPUT, rec_path, "outputs",
				"expected a list of {path, sha256}, at least one");
	if (!(job->outputs = calloc(n, sizeof(*job->outputs))))
		return hus_errf(err, HUS_ENOMEM, NULL, NULL, "out of memory");
	for (size_t i = 0; i < n; i++) {
		const char *p = hj_get_str(hj_at(outs, i), "path");
		const char *slash = p ? strrchr(p, '/') : NULL;
		char where[64];
		snprintf(where, sizeof(where), "outputs.%zu.path", i);
		if (!p || !hus_path_is_below(p) || !slash)
			return hus_errf(err, HUS_EINPUT, rec_path, where,
					"expected a file below the run directory (relative, no '..'), "
					"found '%.300s'",
					p ? p : "(none)");
		size_t dl = (size_t)(slash - p);
		if (i == 0) {
			if (dl >= sizeof(job->out_rel))
				return hus_errf(err, HUS_EINPUT, rec_path, where, "path too long");
			memcpy(job->out_rel, p, dl);
			job->out_rel[dl] = 0;
		} else if (strlen(job->out_rel) != dl || strncmp(p, job->out_rel, dl)) {
			return hus_errf(err, HUS_EINPUT, rec_path, where,
					"expected a file in '%s' (the directory of outputs.0), found '%.300s'",
					job->out_rel, p);
		}
		if (!(job->outputs[i] = strdup(p)))
			return hus_errf(err, HUS_ENOMEM, NULL, NULL, "out of memory");
		job->n_outputs = i + 1;
	}
	return 0;
}

int audit_job_read(hj *rec, const char *rec_path, const char *run_abs, const char *scratch,
                   struct audit_job *job, struct hus_err *err)
{
	memset(job, 0, sizeof(*job));
	hj *argv = hj_get(rec, "argv");
	size_t argc = hj_is_arr(argv) ? hj_len(argv) : 0;
	const char **a = calloc(argc + 1, sizeof(*a));
	/* per option given: which option, its value (NULL for a flag), the argv index of the value */
	size_t *opt = calloc(argc + 1, sizeof(*opt)), *at = calloc(argc + 1, sizeof(*at));
	const char **val = calloc(argc + 1, sizeof(*val));
	size_t first[N_OPTIONS] = { 0 }; /* argv index + 1 of each option's first use */
	int rc = 0;
	if (!a || !opt || !at || !val)
		goto oom;
	for (size_t i = 0; i < argc; i++)
		if (!(a[i] = hj_get_str(hj_at(argv, i), ""))) {
			rc = bad_arg(err, rec_path, i, "expected a string");
			goto out;
		}
	if (!argc || (strcmp(a[0], "analyze") && strcmp(a[0], "functional"))) {
		rc = hus_errf(err, HUS_EINPUT, rec_path, "argv",
			      "expected a `husai analyze` or `husai functional` command (argv.0 "
			      "\"analyze\" or \"functional\")");
		goto out;
	}
	const int is_fn = !strcmp(a[0], "functional");
	const struct audit_opt *const options = is_fn ? functional_options : analyze_options;
	const size_t n_options = is_fn ? N_FUNCTIONAL_OPTIONS : N_OPTIONS;
	if ((rc = read_outputs(rec, rec_path, job, err)))
		goto out;
	/* pass 1: the options, strictly */
	size_t nopt = 0, out_k = 0;
	for (size_t i = 1; i < argc; i++) {
		const char *s = a[i];
		if (strncmp(s, "--", 2) || !s[2] || s[2] == '=') {
			rc = bad_arg(err, rec_path, i,
				      "expected an option of `husai %s` (--name or "
				      "--name=value), found '%.200s'", a[0], s);
			goto out;
		}
		const char *eq = strchr(s, '=');
		size_t nl = eq ? (size_t)(eq - s - 2) : strlen(s + 2), o = 0;
		while (o < n_options && (strlen(options[o].name) != nl ||
					 strncmp(options[o].name, s + 2, nl)))
			o++;
		if (o == n_options) {
			rc = bad_arg(err, rec_path, i,
				      "'%.*s' is not an option of `husai %s` (options are "
				      "spelled out in full)", (int)(nl + 2 > 200 ? 200 : nl + 2), s, a[0]);
			goto out;
		}
		const char *name = options[o].name;
		if (first[o] && !options[o].repeat) {
			rc = bad_arg(err, rec_path, i,
				      "a second --%s (the first is argv.%zu); expected each "
				      "option once", name, first[o] - 1);
			goto out;
		}
		if (!first[o])
			first[o] = i + 1;
		opt[nopt] = o;
		at[nopt] = i;
		val[nopt] = eq ? eq + 1 : NULL;
		if (options[o].kind == ARG_FLAG) {
			if (eq) {
				rc = bad_arg(err, rec_path, i,
					      "--%s takes no value, found '%.200s'", name, s);
				goto out;
			}
		} else if (!eq) {
			if (i + 1 >= argc || !strncmp(a[i + 1], "--", 2)) {
				rc = bad_arg(err, rec_path, i,
					      "expected a value after --%s, found %s%.200s%s",
					      name, i + 1 >= argc ? "the end of the command" : "'",
					      i + 1 >= argc ? "" : a[i + 1], i + 1 >= argc ? "" : "'");
				goto out;
			}
			val[nopt] = a[++i];
			at[nopt] = i;
		}
		if (options[o].kind == ARG_OUT)
			out_k = nopt + 1;
		nopt++;
	}
	/* the run directory as the record spells it: --out is <prefix>/<the outputs' directory> */
	if (!out_k) {
		rc = hus_errf(err, HUS_EINPUT, rec_path, "argv",
			      "expected --out <run>/%s (the directory of the job's outputs)",
			      job->out_rel);
		goto out;
	}
	const char *ov = val[out_k - 1];
	size_t vl = strlen(ov), dl = strlen(job->out_rel);
	while (vl > 1 && ov[vl - 1] == '/')
		vl--;
	if (vl <= dl + 1 || strncmp(ov + vl - dl, job->out_rel, dl) || ov[vl - dl - 1] != '/' ||
	    vl - dl - 1 >= sizeof(job->prefix)) {
		rc = bad_arg(err, rec_path, at[out_k - 1],
			      "--out '%.300s' is not <run>/%s, the directory of the job's "
			      "outputs", ov, job->out_rel);
		goto out;
	}
	memcpy(job->prefix, ov, vl - dl - 1);
	job->prefix[vl - dl - 1] = 0;
	struct ctx x = { rec_path, run_abs, job->prefix, "", err };
	if (!realpath(run_abs, x.run_real)) {
		rc = hus_errf(err, HUS_EINPUT, run_abs, NULL, "cannot resolve the run directory");
		goto out;
	}
	/* pass 2: the command to run, every path mapped, the output in scratch */
	size_t n = 0;
	if (push(&job->argv, &n, strdup(a[0])))
		goto oom;
	for (size_t k = 0; k < nopt; k++) {
		const char *name = options[opt[k]].name, *v = val[k];
		char *arg = NULL, mapped[PATH_MAX * 2];
		switch (options[opt[k]].kind) {
		case ARG_FLAG:
			if ((arg = joined(name, "")))
				arg[strlen(arg) - 1] = 0; /* "--name", no '=' */
			break;
		case ARG_VALUE:
			arg = joined(name, v);
			break;
		case ARG_OUT:
		case ARG_DROP:
			continue;
		case ARG_INPUT:
			if ((rc = map_input(&x, at[k], name, v, mapped, sizeof(mapped))))
				goto out;
			if (!strcmp(name, "config") && (rc = check_config(&x, at[k], mapped)))
				goto out;
			arg = joined(name, mapped);
			break;
		case ARG_INPUTS: {
			char *list = NULL;
			if ((rc = map_inputs(&x, at[k], name, v, &list)))
				goto out;
			arg = joined(name, list);
			free(list);
			break;
		}
		}
		if (push(&job->argv, &n, arg))
			goto oom;
	}
	if (push(&job->argv, &n, joined("out", scratch)))
		goto oom;
	goto out;
oom:
	rc = hus_errf(err, HUS_ENOMEM, NULL, NULL, "out of memory");
out:
	free(a);
	free(opt);
	free(at);
	free(val);
	if (rc)
		audit_job_free(job);
	return rc;
}
