/*
 * atomic.c — files appear complete or not at all.  Invariants (kept by every writer in
 * formats/):
 *  (1) a file never appears under its final name before it is complete and fsync'ed;
 *  (2) the temporary is NAME.tmp-PID in the same directory, so rename(2) is atomic;
 *  (3) on any failure the temporary is unlinked and the final name is untouched;
 *  (4) after the rename the directory is fsync'ed, so the new name survives a crash.
 * Also the small whole-file helpers (read, write, mkdir -p) everyone uses.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "formats.h"

static void dir_of(const char *path, char *dir, size_t n)
{
	char tmp[4096];
	snprintf(tmp, sizeof(tmp), "%s", path);
	snprintf(dir, n, "%s", dirname(tmp));
}

static int fsync_path(const char *path, int directory)
{
	int fd = open(path, directory ? O_RDONLY | O_DIRECTORY : O_RDONLY);
	if (fd < 0)
		return -1;
	int rc = fsync(fd);
	close(fd);
	return rc;
}

int hus_atomic_open(struct hus_atomic *a, const char *path, int open_stdio, struct hus_err *err)
{
	if (strlen(path) >= sizeof(a->final_path))
		return hus_errf(err, HUS_EINPUT, path, NULL, "path too long");
	snprintf(a->final_path, sizeof(a->final_path), "%s", path);
	snprintf(a->tmp_path, sizeof(a->tmp_path), "%s.tmp-%ld", path, (long)getpid());
	a->f = NULL;
	if (open_stdio) {
		a->f = fopen(a->tmp_path, "wb");
		if (!a->f)
			return hus_errf(err, HUS_EIO, path, NULL, "cannot create '%s': %s",
					a->tmp_path, strerror(errno));
	}
	return 0;
}

int hus_fsync_rename(const char *tmp_path, const char *final_path, struct hus_err *err)
{
	if (hus_fault("atomic_fsync") || fsync_path(tmp_path, 0)) {
		int e = errno;
		unlink(tmp_path);
		return hus_errf(err, HUS_EIO, final_path, NULL, "cannot sync '%s': %s", tmp_path,
				strerror(e ? e : EIO));
	}
	if (hus_fault("atomic_rename") || rename(tmp_path, final_path)) {
		int e = errno;
		unlink(tmp_path);
		return hus_errf(err, HUS_EIO, final_path, NULL, "cannot rename '%s' into place: %s",
				tmp_path, strerror(e ? e : EIO));
	}
	char dir[4096];
	dir_of(final_path, dir, sizeof(dir));
	fsync_path(dir, 1); /* best effort: some filesystems refuse directory fsync */
	return 0;
}

int hus_atomic_commit(struct hus_atomic *a, struct hus_err *err)
{
	if (a->f) {
		int bad = fflush(a->f) != 0 || ferror(a->f);
		int e = errno;
		if (fclose(a->f) != 0 && !bad) {
			bad = 1;
			e = errno;
		}
		a->f = NULL;
		if (bad || hus_fault("atomic_write")) {
			unlink(a->tmp_path);
			return hus_errf(err, HUS_EIO, a->final_path, NULL, "cannot write: %s",
					strerror(e ? e : EIO));
		}
	}
	return hus_fsync_rename(a->tmp_path, a->final_path, err);
}

void hus_atomic_abort(struct hus_atomic *a)
{
	if (a->f) {
		fclose(a->f);
		a->f = NULL;
	}
	if (a->tmp_path[0])
		unlink(a->tmp_path);
}

int hus_write_file(const char *path, const void *buf, size_t n, struct hus_err *err)
{
	struct hus_atomic a;
	int rc = hus_atomic_open(&a, path, 1, err);
	if (rc)
		return rc;
	if (n && fwrite(buf, 1, n, a.f) != n) {
		int e = errno;
		hus_atomic_abort(&a);
		return hus_errf(err, HUS_EIO, path, NULL, "cannot write: %s", strerror(e));
	}
	return hus_atomic_commit(&a, err);
}

const char *hus_file_kind(unsigned mode)
{
	if (S_ISREG(mode))
		return "a regular file";
	if (S_ISDIR(mode))
		return "a directory";
	if (S_ISLNK(mode))
		return "a symbolic link";
	if (S_ISFIFO(mode))
		return "a FIFO";
	if (S_ISSOCK(mode))
		return "a socket";
	if (S_ISCHR(mode))
		return "a character device";
	if (S_ISBLK(mode))
		return "a block device";
	return "not a regular file";
}

int hus_open_regular(const char *path, int flags, struct stat *st, struct hus_err *err)
{
	/* O_NONBLOCK: opening a FIFO must not wait for a writer (it is refused just below) */
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | flags);
	if (fd < 0) {
		int e = errno;
		if (e == ELOOP && (flags & O_NOFOLLOW))
			return hus_errf(err, HUS_EINPUT, path, NULL,
					 "a symbolic link; expected a regular file");
		return hus_errf(err, e == ENOENT ? HUS_EINPUT : HUS_EIO, path, NULL,
				 "cannot open: %s", strerror(e));
	}
	struct stat s;
	if (fstat(fd, &s) || !S_ISREG(s.st_mode)) {
		int rc = hus_errf(err, HUS_EINPUT, path, NULL, "%s; expected a regular file",
				  hus_file_kind(s.st_mode));
		close(fd);
		return rc;
	}
	int fl = fcntl(fd, F_GETFL);
	if (fl >= 0)
		fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
	if (st)
		*st = s;
	return fd;
}

int hus_read_file_max(const char *path, size_t max, char **buf, size_t *n, struct hus_err *err)
{
	struct stat st;
	int fd = hus_open_regular(path, 0, &st, err);
	if (fd < 0)
		return fd;
	/* the size is checked before anything is allocated or read; the read stops at the limit
	 * too (a file that grows meanwhile) */
	if ((uint64_t)st.st_size > (uint64_t)max) {
		close(fd);
		return hus_errf(err, HUS_EINPUT, path, NULL,
				"%llu bytes; expected at most %zu bytes for this kind of file",
				(unsigned long long)st.st_size, max);
	}
	size_t cap = (size_t)st.st_size + 1, len = 0;
	char *p = malloc(cap + 1);
	if (!p) {
		close(fd);
		return hus_errf(err, HUS_ENOMEM, path, NULL, "out of memory for %zu bytes", cap);
	}
	for (;;) {
		ssize_t got = read(fd, p + len, cap - len);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			int e = errno;
			free(p);
			close(fd);
			return hus_errf(err, HUS_EIO, path, NULL, "read error: %s", strerror(e));
		}
		if (got == 0)
			break;
		len += (size_t)got;
		if (len == cap) { /* grew since the fstat */
			free(p);
			close(fd);
			return hus_errf(err, HUS_EINPUT, path, NULL,
					"the file grew while it was read (from %llu bytes); refusing it",
					(unsigned long long)st.st_size);
		}
	}
	close(fd);
	p[len] = 0;
	*buf = p;
	if (n)
		*n = len;
	return 0;
}

int hus_read_file(const char *path, char **buf, size_t *n, struct hus_err *err)
{
	return hus_read_file_max(path, HUS_READ_MAX, buf, n, err);
}

int hus_mkdirs(const char *path, struct hus_err *err)
{
	char tmp[4096];
	if (snprintf(tmp, sizeof(tmp), "%s", path) >= (int)sizeof(tmp))
		return hus_errf(err, HUS_EINPUT, path, NULL, "path too long");
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(tmp, 0777) && errno != EEXIST)
			return hus_errf(err, HUS_EIO, path, NULL, "cannot create directory '%s': %s",
					tmp, strerror(errno));
		*p = '/';
	}
	if (mkdir(tmp, 0777) && errno != EEXIST)
		return hus_errf(err, HUS_EIO, path, NULL, "cannot create directory: %s",
				strerror(errno));
	struct stat st;
	if (stat(tmp, &st) || !S_ISDIR(st.st_mode))
		return hus_errf(err, HUS_EIO, path, NULL, "exists and is not a directory");
	return 0;
}

int hus_file_exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}
