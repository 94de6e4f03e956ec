/*
 * h5guard.c — the validator process that keeps libhdf5's own crashes out of husai.
 *
 * libhdf5 1.10.8 can crash on a corrupt file (fuzzing finds out-of-bounds reads in attribute
 * decoding: tests/fuzz/corpus/h5/hdf5_lib_crash_*.h5).  husai must never crash on input, so
 * every HDF5 file is first walked (h5_guard_walk: every object, attribute and dataset read
 * once) in a separate process; when that process dies, the file is refused with a named error
 * and husai goes on.
 *
 * The validator is forked once, at the first open, and then serves one file after another
 * over a socket: a fork per file cost ~7 ms in an ASan build (copying the page tables and the
 * copy-on-write faults afterwards: RELIABILITY.md), the walk itself well under one.  Only a
 * crash pays a new fork:
 *   - a validator that dies on its first file is a libhdf5 crash on that file: refused;
 *   - one that dies later may have been left in a bad state by an earlier corrupt file, so
 *     the file is walked again in a fresh validator, and only its death refuses the file;
 *   - a validator retires itself (and the next file gets a fresh one) after RECYCLE files,
 *     or when libhdf5 holds more objects after a walk than before, so state cannot pile up.
 * The validator closes every descriptor it inherited but its socket (it must not keep the
 * parent's pipes or deleted temporaries alive), ignores SIGINT/SIGTERM/SIGHUP (the parent
 * decides; the validator ends when the parent's end of the socket closes, also when the
 * parent is killed; and by SIGKILL when the parent dies while the validator is stuck inside
 * libhdf5), and leaves through _exit (no exit handlers, no sanitizer report).
 * Not thread-safe, like the serial libhdf5 it protects.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "h5_internal.h"

#define RECYCLE 4096        /* files one validator walks before it retires */
/* reply: one byte, H5G_WALK_OK / _INVALID / _UNWALKABLE (then a length byte and libhdf5's
 * reason), or'ed with REPLY_RETIRING when the validator exits after it */
#define REPLY_RETIRING 0x80
#define NO_FORMAT UINT32_MAX

struct request {
	uint64_t n;          /* image bytes that follow (0: open `path` from disk) */
	uint32_t path_len;   /* bytes of the path (or image name) that follow */
	uint32_t format_len; /* bytes of the expected format name, or NO_FORMAT */
	int32_t max_version;
	uint32_t image; /* 1: an image follows */
};

static struct {
	pid_t pid;   /* 0: no validator running */
	pid_t owner; /* the process that forked it (a forked copy of husai must not use it) */
	int fd;
	unsigned served; /* files this validator has answered */
} v = { 0, 0, -1, 0 };

/* Sanitizer runtimes (ASan, libFuzzer) register death callbacks; the validator must not run
 * them (libFuzzer's would save the parent's input as a crash of its own). */
void __sanitizer_set_death_callback(void (*cb)(void)) __attribute__((weak));

static int write_all(int fd, const void *buf, size_t n)
{
	const char *p = buf;
	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int read_all(int fd, void *buf, size_t n)
{
	char *p = buf;
	while (n) {
		ssize_t r = recv(fd, p, n, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

/* Close every inherited descriptor but `keep` (and stdin/stdout/stderr). */
static void close_inherited(int keep)
{
	DIR *d = opendir("/proc/self/fd");
	if (!d)
		return;
	int fds[256], nfds;
	do { /* collect, then close: closing while reading the directory skips entries */
		nfds = 0;
		struct dirent *e;
		rewinddir(d);
		while ((e = readdir(d)) && nfds < 256) {
			int fd = atoi(e->d_name);
			if (e->d_name[0] != '.' && fd > 2 && fd != keep && fd != dirfd(d))
				fds[nfds++] = fd;
		}
		for (int i = 0; i < nfds; i++)
			close(fds[i]);
	} while (nfds == 256);
	closedir(d);
}

static char *read_str(int fd, uint32_t len)
{
	char *s = malloc((size_t)len + 1);
	if (s && read_all(fd, s, len)) {
		free(s);
		return NULL;
	}
	if (s)
		s[len] = 0;
	return s;
}

/* The validator's loop: one request in, one status byte out, until the socket closes. */
static void serve(int fd, pid_t owner) __attribute__((noreturn));
static void serve(int fd, pid_t owner)
{
	/* a validator stuck in libhdf5 never reads the socket's end: die with the owner instead */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != owner)
		_exit(0);
	if (__sanitizer_set_death_callback)
		__sanitizer_set_death_callback(NULL);
	static const int crash[] = { SIGSEGV, SIGBUS, SIGABRT, SIGILL, SIGFPE };
	for (size_t i = 0; i < sizeof(crash) / sizeof(crash[0]); i++)
		signal(crash[i], SIG_DFL); /* die plainly: no sanitizer or fuzzer report */
	static const int ignored[] = { SIGINT, SIGTERM, SIGHUP, SIGPIPE, SIGALRM };
	for (size_t i = 0; i < sizeof(ignored) / sizeof(ignored[0]); i++)
		signal(ignored[i], SIG_IGN);
	int null = open("/dev/null", O_RDWR);
	if (null >= 0) {
		dup2(null, STDOUT_FILENO);
		dup2(null, STDERR_FILENO);
		if (null > 2)
			close(null);
	}
	close_inherited(fd);
	long held = h5_guard_open_objects(); /* the parent's, inherited: never touched here */
	for (unsigned k = 1;; k++) {
		struct request q;
		if (read_all(fd, &q, sizeof(q)))
			_exit(0); /* the parent closed its end (or is gone) */
		char *path = read_str(fd, q.path_len);
		char *format = q.format_len == NO_FORMAT ? NULL : read_str(fd, q.format_len);
		void *image = q.image ? malloc(q.n ? q.n : 1) : NULL;
		if (!path || (q.format_len != NO_FORMAT && !format) || (q.image && !image) ||
		    (q.image && read_all(fd, image, q.n)))
			_exit(2);
		if (hus_fault("h5_guard_walk")) /* tests: a library crash on this file */
			raise(SIGSEGV);
		char why[256] = "";
		unsigned char reply =
			(unsigned char)h5_guard_walk(path, image, q.n, format, q.max_version, why, 200);
		free(path);
		free(format);
		free(image);
		int retire = k >= RECYCLE || h5_guard_open_objects() != held;
		if (retire)
			reply |= REPLY_RETIRING;
		unsigned char len = (unsigned char)strlen(why);
		if (write_all(fd, &reply, 1) ||
		    ((reply & ~REPLY_RETIRING) == H5G_WALK_UNWALKABLE &&
		     (write_all(fd, &len, 1) || write_all(fd, why, len))) ||
		    retire)
			_exit(0);
	}
}

static int spawn(void)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		return -1;
	fflush(NULL); /* nothing buffered may be written twice */
	pid_t owner = getpid();
	pid_t pid = fork();
	if (pid < 0) {
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	if (pid == 0) {
		close(sv[0]);
		serve(sv[1], owner);
	}
	close(sv[1]);
	v.pid = pid;
	v.owner = getpid();
	v.fd = sv[0];
	v.served = 0;
	return 0;
}

/* End the validator (closing its socket ends its loop; `kill` when it may be stuck) and
 * return its wait status. */
static int reap(int kill_it)
{
	int status = 0;
	close(v.fd);
	if (kill_it)
		kill(v.pid, SIGKILL);
	while (waitpid(v.pid, &status, 0) < 0 && errno == EINTR)
		;
	v.pid = 0;
	v.fd = -1;
	return status;
}

/* One walk in the validator: its reply byte (and in `why` the reason of an unwalkable file),
 * or -1 when it died (or broke the protocol). */
static int ask(const char *path, const void *image, size_t n, const char *format,
               int max_version, char *why)
{
	struct request q = { image ? n : 0, (uint32_t)strlen(path),
			     format ? (uint32_t)strlen(format) : NO_FORMAT, max_version, image != NULL };
	unsigned char reply, len = 0;
	if (write_all(v.fd, &q, sizeof(q)) || write_all(v.fd, path, q.path_len) ||
	    (format && write_all(v.fd, format, q.format_len)) ||
	    (image && write_all(v.fd, image, n)) || read_all(v.fd, &reply, 1))
		return -1;
	int walk = reply & ~REPLY_RETIRING;
	if (walk != H5G_WALK_OK && walk != H5G_WALK_INVALID && walk != H5G_WALK_UNWALKABLE)
		return -1;
	if (walk == H5G_WALK_UNWALKABLE && (read_all(v.fd, &len, 1) || read_all(v.fd, why, len)))
		return -1;
	why[len] = 0;
	return reply;
}

pid_t h5_guard_pid(void) { return v.owner == getpid() ? v.pid : 0; }

void h5_guard_stop(void)
{
	if (v.pid && v.owner == getpid())
		reap(0);
	else if (v.pid)
		close(v.fd);
	v.pid = 0;
	v.fd = -1;
}

int h5_guard(const char *path, const void *image, size_t n, const char *format,
             int max_version, struct hus_err *err)
{
	const char *off = getenv("HUSAI_H5_NO_GUARD");
	if ((off && *off == '1') || strlen(path) > 4096 || (format && strlen(format) > 4096))
		return 0;
	if (v.pid && v.owner != getpid())
		h5_guard_stop(); /* a forked copy of the owner: leave its validator alone */
	for (;;) {
		if (v.pid == 0 && spawn())
			return 0; /* cannot isolate: the caller reads the file in-process */
		int fresh = v.served == 0;
		char why[256];
		int reply = ask(path, image, n, format, max_version, why);
		if (reply >= 0) {
			v.served++;
			if (reply & REPLY_RETIRING)
				reap(0);
			if ((reply & ~REPLY_RETIRING) == H5G_WALK_UNWALKABLE)
				return hus_errf(err, HUS_EINPUT, path, NULL,
						"corrupt HDF5 file, libhdf5 cannot walk it (%s); refusing it",
						why);
			return 0; /* valid, or invalid: the caller opens it and names the error */
		}
		int status = reap(1);
		if (!fresh)
			continue; /* an older validator died: walk the file again in a fresh one */
		return hus_errf(err, HUS_EINPUT, path, NULL,
				"corrupt HDF5 file: the HDF5 library crashed reading it (%s %d); refusing it",
				WIFSIGNALED(status) ? "signal" : "status",
				WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
	}
}
