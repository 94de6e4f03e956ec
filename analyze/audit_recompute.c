/*
 * audit_recompute.c — `husai audit --recompute`: every analysis a run directory records
 * (RUN/jobs/<job>.done.json with argv[0] = "analyze") is run again from the archived SAE
 * checkpoints into a temporary directory, and its outputs are compared with the archived ones:
 * results.json and the CSVs byte for byte (they hold no timestamps), analysis.h5 dataset by
 * dataset (its attributes carry the creation time).  Every reported pairwise statistic, CI,
 * test and control of the analyses is thereby re-derived from the HDF5 files.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "analyze.h"

extern char **environ;

/* Dataset lines of `husai inspect --checksums` for a file (attributes and the path line out). */
static char *dataset_digest(const char *path, struct hus_err *err)
{
	struct h5r *r;
	if (h5r_open(&r, path, NULL, 0, err))
		return NULL;
	char *buf = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&buf, &n);
	int rc = f ? h5r_describe_ex(r, f, 1, err) : -1;
	if (f)
		fclose(f);
	h5r_close(r);
	if (rc) {
		free(buf);
		return NULL;
	}
	/* keep only dataset lines: they start with two spaces and a slash */
	size_t o = 0;
	for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n"))
		if (!strncmp(line, "  /", 3))
			o += (size_t)sprintf(buf + o, "%s\n", line);
	buf[o] = 0;
	return buf;
}

static int same_file(const char *a, const char *b, int hdf5, struct hus_err *err)
{
	char *x = NULL, *y = NULL;
	size_t nx = 0, ny = 0;
	int same;
	if (hdf5) {
		x = dataset_digest(a, err);
		y = x ? dataset_digest(b, err) : NULL;
		same = x && y && !strcmp(x, y);
	} else {
		same = !hus_read_file(a, &x, &nx, err) && !hus_read_file(b, &y, &ny, err) && nx == ny &&
		       !memcmp(x, y, nx);
	}
	free(x);
	free(y);
	return same;
}

static int rerun(const char *exe, hj *argv, const char *tmpdir, struct hus_err *err)
{
	size_t n = hj_len(argv);
	char **a = calloc(n + 2, sizeof(*a));
	if (!a)
		return hus_errf(err, HUS_ENOMEM, NULL, NULL, "out of memory");
	a[0] = (char *)exe;
	for (size_t i = 0; i < n; i++) {
		hj *v = hj_at(argv, i);
		char key[32];
		snprintf(key, sizeof(key), "%zu", i);
		a[i + 1] = (char *)hj_get_str(argv, key);
		if (!v || !a[i + 1]) {
			free(a);
			return hus_errf(err, HUS_EINPUT, NULL, "argv", "expected a list of strings");
		}
		if (i > 0 && !strcmp(a[i], "--out"))
			a[i + 1] = (char *)tmpdir;
	}
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
	pid_t pid;
	int sp = posix_spawn(&pid, exe, &fa, NULL, a, environ);
	posix_spawn_file_actions_destroy(&fa);
	free(a);
	if (sp)
		return hus_errf(err, HUS_EIO, exe, NULL, "cannot start the recomputation: %s", strerror(sp));
	int status;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		return hus_errf(err, HUS_EINPUT, NULL, NULL, "the recomputation failed");
	return 0;
}

int audit_recompute(const char *run_dir, FILE *out, size_t *checked, size_t *differ,
                    struct hus_err *err)
{
	char exe[PATH_MAX], jobs[PATH_MAX + 16];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return hus_errf(err, HUS_EIO, "/proc/self/exe", NULL, "cannot find the husai executable");
	exe[n] = 0;
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
		rc = rerun(exe, hj_get(rec, "argv"), tmp, err);
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
			struct hus_err e2 = { 0 };
			(*checked)++;
			if (!same_file(a, b, h5, &e2)) {
				(*differ)++;
				if (out)
					fprintf(out, "differs   %s (recomputed from the archived checkpoints)\n", rel);
			} else if (out) {
				fprintf(out, "same      %s\n", rel);
			}
		}
		char cmd[64 + sizeof(tmp)];
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
		if (system(cmd) != 0 && out)
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
