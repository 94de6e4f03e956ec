/*
 * audit_common.c — what both halves of `husai audit --recompute` need: starting this husai
 * executable on a recorded command, removing a scratch tree, and comparing two outputs (bytes,
 * or for HDF5 the checksums of every dataset, since attributes carry creation times).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "audit_internal.h"

extern char **environ;

static int wait_child(pid_t pid)
{
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return 127;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int audit_run_husai(char *const *args, const char *log, int *code, struct hus_err *err)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return hus_errf(err, HUS_EIO, "/proc/self/exe", NULL, "cannot find the husai executable");
	exe[n] = 0;
	size_t na = 0;
	while (args[na])
		na++;
	char **argv = calloc(na + 2, sizeof(*argv));
	if (!argv)
		return hus_errf(err, HUS_ENOMEM, NULL, NULL, "out of memory");
	argv[0] = exe;
	memcpy(argv + 1, args, na * sizeof(*argv));
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	if (log) {
		posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		posix_spawn_file_actions_adddup2(&fa, STDOUT_FILENO, STDERR_FILENO);
	} else {
		posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
	}
	pid_t pid;
	int sp = posix_spawn(&pid, exe, &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	free(argv);
	if (sp)
		return hus_errf(err, HUS_EIO, exe, NULL, "cannot start `husai %s`: %s", args[0],
				strerror(sp));
	*code = wait_child(pid);
	return 0;
}

int audit_remove_tree(const char *dir)
{
	pid_t pid;
	char *argv[] = { "rm", "-rf", (char *)dir, NULL };
	if (posix_spawnp(&pid, "rm", NULL, NULL, argv, environ))
		return -1;
	return wait_child(pid);
}

/* Dataset lines of `husai inspect --checksums` for a file (attributes and the path line out). */
static char *dataset_digest(const char *path)
{
	struct h5r *r;
	struct hus_err err = { 0 };
	if (h5r_open(&r, path, NULL, 0, &err))
		return NULL;
	char *buf = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&buf, &n);
	int rc = f ? h5r_describe_ex(r, f, 1, &err) : -1;
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

int audit_same_file(const char *a, const char *b, int hdf5)
{
	char *x = NULL, *y = NULL;
	size_t nx = 0, ny = 0;
	int same;
	if (hdf5) {
		x = dataset_digest(a);
		y = x ? dataset_digest(b) : NULL;
		same = x && y && !strcmp(x, y);
	} else {
		struct hus_err e = { 0 };
		same = !hus_read_file(a, &x, &nx, &e) && !hus_read_file(b, &y, &ny, &e) && nx == ny &&
		       !memcmp(x, y, nx);
	}
	free(x);
	free(y);
	return same;
}
