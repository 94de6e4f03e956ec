/*
 * audit_common.c — what both halves of `husai audit --recompute` need: starting this husai
 * executable on a command, showing its log when it fails, and removing a scratch tree.  The
 * outputs are compared in audit_compare.c.
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

