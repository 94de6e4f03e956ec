/*
 * audit_recompute.c — `husai audit --recompute`: every analysis a run directory records
 * (RUN/jobs/<job>.done.json with argv[0] = "analyze") is run again from the archived SAE
 * checkpoints into a temporary directory, and its outputs are compared with the archived ones:
 * results.json and the CSVs byte for byte (they hold no timestamps), analysis.h5 dataset by
 * dataset (its attributes carry the creation time).  Every reported pairwise statistic, CI,
 * test and control of the analyses is thereby re-derived from the HDF5 files.
 */
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit_internal.h"

/* Rerun a recorded analysis (argv of its done record) with its --out pointed at tmpdir. */
static int rerun(hj *argv, const char *tmpdir, struct hus_err *err)
{
	size_t n = hj_len(argv);
	char **a = calloc(n + 1, sizeof(*a));
	if (!a)
		return hus_errf(err, HUS_ENOMEM, NULL, NULL, "out of memory");
	for (size_t i = 0; i < n; i++) {
		hj *v = hj_at(argv, i);
		char key[32];
		snprintf(key, sizeof(key), "%zu", i);
		a[i] = (char *)hj_get_str(argv, key);
		if (!v || !a[i]) {
			free(a);
			return hus_errf(err, HUS_EINPUT, NULL, "argv", "expected a list of strings");
		}
		if (i > 0 && !strcmp(a[i - 1], "--out"))
			a[i] = (char *)tmpdir;
	}
	int code, rc = audit_run_husai(a, NULL, &code, err);
	free(a);
	if (!rc && code)
		rc = hus_errf(err, HUS_EINPUT, NULL, NULL, "the recomputation failed");
	return rc;
}

int audit_recompute(const char *run_dir, FILE *out, size_t *checked, size_t *differ,
                    struct hus_err *err)
{
	char jobs[PATH_MAX + 16];
	snprintf(jobs, sizeof(jobs), "%s/jobs", run_dir);
	*checked = *differ = 0;
	DIR *d = opendir(jobs);
	if (!d)
		return hus_errf(err, HUS_EINPUT, jobs, NULL,
				"no job records: is this a `husai run` directory?");
	struct dirent *e;
	int rc = 0;
	while (!rc && (e = readdir(d))) {
		size_t len = strlen(e->d_name);
		if (len < 10 || strcmp(e->d_name + len - 10, ".done.json"))
			continue;
		char path[PATH_MAX * 2];
		snprintf(path, sizeof(path), "%s/%s", jobs, e->d_name);
		hj *rec;
		if ((rc = hj_read_file(path, &rec, err)))
			break;
		const char *verb = hj_get_str(rec, "argv.0");
		if (!verb || strcmp(verb, "analyze")) {
			hj_free(rec);
			continue;
		}
		char tmp[] = "/tmp/husai_audit_XXXXXX";
		if (!mkdtemp(tmp)) {
			hj_free(rec);
			rc = hus_errf(err, HUS_EIO, "/tmp", NULL, "cannot make a temporary directory");
			break;
		}
		rc = rerun(hj_get(rec, "argv"), tmp, err);
		hj *outs = hj_get(rec, "outputs");
		for (size_t i = 0; !rc && i < hj_len(outs); i++) {
			char key[32];
			snprintf(key, sizeof(key), "%zu.path", i);
			const char *rel = hj_get_str(outs, key);
			if (!rel)
				continue;
			const char *base = strrchr(rel, '/') ? strrchr(rel, '/') + 1 : rel;
			char a[PATH_MAX * 2], b[PATH_MAX * 2];
			snprintf(a, sizeof(a), "%s/%s", run_dir, rel);
			snprintf(b, sizeof(b), "%s/%s", tmp, base);
			size_t bl = strlen(base);
			int h5 = bl > 3 && !strcmp(base + bl - 3, ".h5");
			(*checked)++;
			if (!audit_same_file(a, b, h5)) {
				(*differ)++;
				if (out)
					fprintf(out, "differs   %s (recomputed from the archived checkpoints)\n", rel);
			} else if (out) {
				fprintf(out, "same      %s\n", rel);
			}
		}
		if (audit_remove_tree(tmp) != 0 && out)
			fprintf(out, "note: could not remove %s\n", tmp);
		hj_free(rec);
	}
	closedir(d);
	if (!rc && *differ)
		rc = hus_errf(err, HUS_EMISMATCH, run_dir, NULL,
			      "%zu of %zu recomputed analysis outputs differ from the archive", *differ,
			      *checked);
	return rc;
}
