/*
 * fuzz_targets.c — the fuzzed readers: the YAML config loader (with every getter kind, the
 * unknown-key check, the resolved config and the section hand-out, whose output must parse
 * again), the HDF5 artifact reader through a file image (format check, describe, typed reads),
 * the JSON reader (parse, dotted getters, dump), and the readers of `husai import`: safetensors
 * (header, offsets, dtype conversion) and torch .pt (zip container, pickle VM, tensor views;
 * the decoded tree is then walked as the importer does); and whole run directories (a
 * manifest, results.json and done records written from the fuzz bytes into a temporary
 * directory, with special files beside them) given to `husai audit`'s manifest check,
 * `husai report`'s loader and the audit's strict command reader.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit_internal.h"
#include "formats.h"
#include "fuzz_targets.h"
#include "report.h"

int fuzz_config(const uint8_t *data, size_t n)
{
	char *text = malloc(n + 1);
	if (!text)
		return 0;
	memcpy(text, data, n);
	text[n] = 0;
	struct cfg *c = NULL;
	struct hus_err err = { 0 };
	if (cfg_load_string(&c, text, "fuzz.yaml", &err)) {
		free(text);
		return 0;
	}
	int64_t k, *list = NULL;
	double lr, *dl = NULL;
	size_t nl;
	int b;
	const char *s;
	static const char *const choices[] = { "topk", "relu", NULL };
	cfg_set(c, "sae.k=3", &err);
	cfg_int(c, "sae.k", 1, 0, 100, &k, &err);
	cfg_f64(c, "sae.lr", 1e-3, &lr, &err);
	cfg_bool(c, "sae.drop_last", 0, &b, &err);
	cfg_str(c, "sae.architecture", "topk", choices, &s, &err);
	cfg_path(c, "out", "x", &s, &err);
	if (!cfg_int_list(c, "sae.seeds", NULL, 0, &list, &nl, &err))
		free(list);
	if (!cfg_f64_list(c, "a", NULL, 0, &dl, &nl, &err))
		free(dl);
	char **names;
	if (!cfg_keys(c, "", &names, &nl, &err)) {
		char *sub = NULL;
		if (nl) {
			const char **secs = calloc(nl + 1, sizeof(*secs));
			for (size_t i = 0; secs && i < nl; i++)
				secs[i] = names[i];
			if (secs)
				sub = cfg_sections_yaml(c, secs);
			free(secs);
		}
		free(names);
		if (sub) {
			/* invariant: what husai emits, husai reads back */
			struct cfg *again = NULL;
			struct hus_err e2 = { 0 };
			if (cfg_load_string(&again, sub, "emitted.yaml", &e2)) {
				fprintf(stderr, "emitted YAML does not parse: %s: %s\n%s\n", e2.where, e2.msg,
					sub);
				abort();
			}
			cfg_free(again);
			free(sub);
		}
	}
	cfg_finish(c, &err);
	char *y = cfg_resolved_yaml(c);
	free(y);
	char hex[65];
	cfg_hash(c, hex);
	cfg_free(c);
	free(text);
	return 0;
}

int fuzz_h5(const uint8_t *data, size_t n)
{
	struct h5r *r = NULL;
	struct hus_err err = { 0 };
	if (h5r_open_image(&r, data, n, "fuzz.h5", NULL, 0, &err))
		return 0;
	FILE *devnull = fopen("/dev/null", "w");
	if (devnull) {
		h5r_describe(r, devnull, &err);
		fclose(devnull);
	}
	static const char *const paths[] = { "/params/W_dec", "/activations", "/pairs/trained/pwmcc",
					     "/a" };
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		void *buf = NULL;
		size_t dims[2] = { 0, 0 };
		if (!h5r_read_alloc(r, paths[i], HUS_F32, &buf, 2, dims, &err))
			free(buf);
		size_t d1[1] = { 0 };
		if (!h5r_read_alloc(r, paths[i], HUS_I32, &buf, 1, d1, &err))
			free(buf);
	}
	char *s = NULL;
	if (!h5r_attr_str(r, "/", "config_yaml", &s, &err))
		free(s);
	int64_t v;
	h5r_attr_i64(r, "/", "k", &v, &err);
	h5r_close(r);
	return 0;
}

int fuzz_json(const uint8_t *data, size_t n)
{
	hj *v = NULL;
	struct hus_err err = { 0 };
	if (hj_parse((const char *)data, n, "fuzz.json", &v, &err))
		return 0;
	double d;
	int64_t i;
	hj_get_f64(v, "trained.mean", &d);
	hj_get_i64(v, "artifacts.0.bytes", &i);
	hj_get_str(v, "artifacts.0.path");
	hj *val;
	for (size_t k = 0; hj_obj_at(v, k, &val); k++)
		hj_len(val);
	for (size_t k = 0; k < hj_len(v) && hj_is_arr(v); k++)
		hj_as_f64(hj_at(v, k));
	char *s = hj_dumps(v);
	free(s);
	hj_free(v);
	return 0;
}

int fuzz_safetensors(const uint8_t *data, size_t n)
{
	struct imp_tensors ts = { 0 };
	struct hus_err err = { 0 };
	if (st_read_buf(&ts, data, n, "fuzz.safetensors", &err))
		return 0;
	volatile float sink = 0;
	for (size_t i = 0; i < ts.n; i++) /* every element must be readable */
		for (size_t j = 0; j < ts.t[i].numel; j++)
			sink += ts.t[i].data[j];
	(void)sink;
	imp_find(&ts, "W_dec");
	imp_tensors_release(&ts);
	return 0;
}

int fuzz_pt(const uint8_t *data, size_t n)
{
	struct pt_doc *doc = NULL;
	struct hus_err err = { 0 };
	/* a zip goes through the whole reader; anything else is fed to the pickle VM alone */
	int rc = n >= 2 && data[0] == 'P' && data[1] == 'K'
	                 ? pt_read_buf(&doc, data, n, "fuzz.pt", &err)
	                 : pt_read_pickle(&doc, data, n, "fuzz.pkl", &err);
	if (rc)
		return 0;
	struct pt_value *root = pt_root(doc);
	hj *j = pt_to_json(root);
	if (j) {
		char *s = hj_dumps(j);
		free(s);
		hj_free(j);
	}
	static const char *const keys[] = { "sae_state_dict", "model_state_dict", "state_dict" };
	for (size_t i = 0; i < 3; i++) {
		struct imp_tensors ts = { 0 };
		if (!pt_state_dict(&ts, pt_get(root, keys[i]), "fuzz.pt", keys[i], &err))
			imp_tensors_release(&ts);
	}
	struct imp_tensors ts = { 0 };
	if (!pt_state_dict(&ts, root, "fuzz.pt", "/", &err))
		imp_tensors_release(&ts);
	pt_free(doc);
	return 0;
}

/*
 * A run directory from fuzz bytes.  Byte 0 chooses special files: bit 0 `link.h5`, a symbolic
 * link to /dev/zero; bit 1 `fifo.h5`, a FIFO; bit 2 `up`, a symbolic link to the parent
 * directory; bit 3 `jobs/analysis.yaml`, a config naming a file.  The rest is cut at each
 * "\n@@\n" into manifest.json, results.json and jobs/job<i>.done.json (at most 8).
 * `sae/a.h5` always holds FUZZ_ARTIFACT, so a seed's manifest can list it with its checksum.
 */
#define FUZZ_ARTIFACT "husai fuzz artifact\n"
#define FUZZ_SEP "\n@@\n"

static void put(const char *dir, const char *rel, const void *p, size_t n)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	FILE *f = fopen(path, "wb");
	if (!f)
		return;
	if (n)
		fwrite(p, 1, n, f);
	fclose(f);
}

static const uint8_t *find_sep(const uint8_t *p, const uint8_t *end)
{
	size_t sl = strlen(FUZZ_SEP);
	for (; p + sl <= end; p++)
		if (!memcmp(p, FUZZ_SEP, sl))
			return p;
	return NULL;
}

int fuzz_rundir(const uint8_t *data, size_t n)
{
	if (!n)
		return 0;
	char dir[] = "/tmp/husai_fuzz_run_XXXXXX";
	if (!mkdtemp(dir))
		return 0;
	char sub[600], real[4096];
	snprintf(sub, sizeof(sub), "%s/jobs", dir);
	mkdir(sub, 0700);
	snprintf(sub, sizeof(sub), "%s/sae", dir);
	mkdir(sub, 0700);
	put(dir, "sae/a.h5", FUZZ_ARTIFACT, strlen(FUZZ_ARTIFACT));
	uint8_t flags = data[0];
	if (flags & 1) {
		snprintf(sub, sizeof(sub), "%s/link.h5", dir);
		if (symlink("/dev/zero", sub))
			perror(sub);
	}
	if (flags & 2) {
		snprintf(sub, sizeof(sub), "%s/fifo.h5", dir);
		mkfifo(sub, 0600);
	}
	if (flags & 4) {
		snprintf(sub, sizeof(sub), "%s/up", dir);
		if (symlink("..", sub))
			perror(sub);
	}
	if (flags & 8) {
		static const char y[] = "analysis:\n  activations: /etc/passwd\n";
		put(dir, "jobs/analysis.yaml", y, strlen(y));
	}
	const uint8_t *p = data + 1, *end = data + n;
	for (int part = 0; p <= end && part < 10; part++) {
		const uint8_t *q = find_sep(p, end);
		size_t len = (size_t)((q ? q : end) - p);
		char rel[64];
		if (part == 0)
			snprintf(rel, sizeof(rel), "manifest.json");
		else if (part == 1)
			snprintf(rel, sizeof(rel), "results.json");
		else
			snprintf(rel, sizeof(rel), "jobs/job%d.done.json", part - 2);
		put(dir, rel, p, len);
		if (!q)
			break;
		p = q + strlen(FUZZ_SEP);
	}

	/* husai audit: the manifest check */
	FILE *devnull = fopen("/dev/null", "w");
	struct audit_report rep;
	struct hus_err err = { 0 };
	int audit_rc = manifest_audit(dir, devnull, &rep, &err);
	/* invariant: a symbolic link or FIFO in a run, listed or not, fails the audit */
	if (!audit_rc && (flags & 7)) {
		fprintf(stderr, "audit passed a run with special files (flags %u)\n", flags);
		abort();
	}
	/* husai report: the loader, refusing a tampered run and forced past it */
	for (int force = 0; force < 2; force++) {
		struct rep_run r;
		memset(&err, 0, sizeof(err));
		int rc = rep_run_open(&r, dir, force, &err);
		if (!rc && !force && audit_rc) {
			fprintf(stderr, "report opened a run whose audit failed\n");
			abort();
		}
		if (!rc)
			rep_run_close(&r);
	}
	/* the audit's strict reader of a job's command (every record, as if it were planned) */
	if (realpath(dir, real)) {
		for (int i = 0; i < 8; i++) {
			char rec[600];
			snprintf(rec, sizeof(rec), "%s/jobs/job%d.done.json", dir, i);
			hj *d = NULL;
			memset(&err, 0, sizeof(err));
			if (hj_read_file(rec, &d, &err))
				break;
			struct audit_job job;
			memset(&err, 0, sizeof(err));
			if (!audit_job_read(d, rec, real, "/tmp/husai_fuzz_scratch", &job, &err))
				audit_job_free(&job);
			hj_free(d);
		}
	}
	if (devnull)
		fclose(devnull);
	audit_remove_tree(dir);
	return 0;
}

const struct fuzz_target fuzz_targets[] = {
	{ "config", fuzz_config },
	{ "h5", fuzz_h5 },
	{ "json", fuzz_json },
	{ "safetensors", fuzz_safetensors },
	{ "pt", fuzz_pt },
	{ "rundir", fuzz_rundir },
};
const size_t fuzz_ntargets = sizeof(fuzz_targets) / sizeof(fuzz_targets[0]);
