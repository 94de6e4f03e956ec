/*
 * manifest.c — manifest.json of a run directory and its audit.  The manifest lists every input
 * and output with its path relative to the run directory, sha256 (libcrypto) and size, plus the
 * upstream run_metadata keys (docs/formulas.md §7.4), library versions and whatever the stage adds (RNG
 * description, the config-hash fields).  `manifest_audit` recomputes every checksum and lists
 * missing, changed and unlisted files.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "formats.h"

struct manifest {
	char run_dir[PATH_MAX];
	hj *inputs, *artifacts, *extra;
};

struct manifest *manifest_new(const char *run_dir)
{
	struct manifest *m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	snprintf(m->run_dir, sizeof(m->run_dir), "%s", run_dir);
	m->inputs = hj_arr();
	m->artifacts = hj_arr();
	m->extra = hj_obj();
	return m;
}

void manifest_free(struct manifest *m)
{
	if (!m)
		return;
	hj_free(m->inputs);
	hj_free(m->artifacts);
	hj_free(m->extra);
	free(m);
}

/* `path` relative to `dir` (both resolved), e.g. "sae/seed_42.h5" or "../acts.h5". */
static int relative_to(const char *dir, const char *path, char *out, size_t n)
{
	char d[PATH_MAX], p[PATH_MAX];
	if (!realpath(dir, d) || !realpath(path, p))
		return -1;
	size_t common = 0, i = 0;
	for (; d[i] && d[i] == p[i]; i++)
		if (d[i] == '/')
			common = i;
	if (!d[i] && (p[i] == '/' || !p[i]))
		common = i;
	size_t o = 0;
	out[0] = 0;
	for (const char *s = d + common; *s; s++)
		if (*s == '/')
			o += (size_t)snprintf(out + o, n - o, "../");
	const char *rest = p + common + (p[common] == '/');
	snprintf(out + o, n - o, "%s", rest);
	return 0;
}

static int add_entry(struct manifest *m, hj *list, const char *path, const char *role,
                     struct hus_err *err)
{
	char rel[PATH_MAX], hex[65];
	uint64_t bytes;
	int rc = hus_sha256_file(path, hex, &bytes, err);
	if (rc)
		return rc;
	if (relative_to(m->run_dir, path, rel, sizeof(rel)))
		return hus_errf(err, HUS_EIO, path, NULL, "cannot resolve path relative to '%s'",
				m->run_dir);
	hj *e = hj_obj();
	hj_set(e, "path", hj_str(rel));
	hj_set(e, "sha256", hj_str(hex));
	hj_set(e, "bytes", hj_int((int64_t)bytes));
	if (role)
		hj_set(e, "role", hj_str(role));
	return hj_push(list, e) ? hus_errf(err, HUS_ENOMEM, path, NULL, "out of memory") : 0;
}

int manifest_add_input(struct manifest *m, const char *path, struct hus_err *err)
{
	return add_entry(m, m->inputs, path, NULL, err);
}

int manifest_add_input_role(struct manifest *m, const char *path, const char *role,
                            struct hus_err *err)
{
	for (size_t i = 0; i < hj_len(m->inputs); i++) { /* each file once */
		char rel[PATH_MAX];
		const char *p = hj_get_str(hj_at(m->inputs, i), "path");
		if (p && !relative_to(m->run_dir, path, rel, sizeof(rel)) && !strcmp(rel, p))
			return 0;
	}
	return add_entry(m, m->inputs, path, role, err);
}

int manifest_add_artifact(struct manifest *m, const char *path, struct hus_err *err)
{
	return add_entry(m, m->artifacts, path, NULL, err);
}

void manifest_set(struct manifest *m, const char *key, hj *val) { hj_set(m->extra, key, val); }

int manifest_write(struct manifest *m, const char *command, const char *config_hash,
                   struct hus_err *err)
{
	char now[32], path[PATH_MAX + 32];
	hus_utc_now(now);
	hj *root = hj_obj(), *meta = hj_obj(), *ver = hj_obj();
	hj_set(meta, "timestamp_utc", hj_str(now));
	hj_set(meta, "git_commit", hj_str(hus_git_commit()));
	hj_set(meta, "command", hj_str(command ? command : ""));
	hj_set(meta, "config_hash", hj_str(config_hash ? config_hash : ""));
	hj_set(meta, "husai_version", hj_str(hus_version()));
	hj_set(root, "run_metadata", meta);
	static const char *const libs[] = { "hdf5", "gsl", "cairo", "libyaml", "jansson", "numeric" };
	hj_set(ver, "husai", hj_str(hus_version()));
	for (size_t i = 0; i < sizeof(libs) / sizeof(libs[0]); i++)
		hj_set(ver, libs[i], hj_str(hus_library_version(libs[i])));
	hj_set(root, "versions", ver);
	hj *val;
	const char *key;
	for (size_t i = 0; (key = hj_obj_at(m->extra, i, &val)); i++)
		hj_set(root, key, hj_ref(val));
	hj_set(root, "inputs", hj_ref(m->inputs));
	hj_set(root, "artifacts", hj_ref(m->artifacts));
	snprintf(path, sizeof(path), "%s/manifest.json", m->run_dir);
	int rc = hj_write_file(path, root, err);
	hj_free(root);
	return rc;
}

/* ---------------------------------------------------------------- audit ------------- */

struct listed {
	char **paths;
	size_t n, cap;
};

static void listed_add(struct listed *l, const char *p)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 64;
		char **np = realloc(l->paths, l->cap * sizeof(*np));
		if (!np)
			return;
		l->paths = np;
	}
	l->paths[l->n++] = strdup(p);
}

static int is_listed(const struct listed *l, const char *p)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->paths[i] && !strcmp(l->paths[i], p))
			return 1;
	return 0;
}

struct unlisted_ctx {
	const struct listed *l;
	FILE *out;
	struct audit_report *rep;
};

static int note_unlisted(const char *rel, const char *full, void *ctx)
{
	(void)full;
	struct unlisted_ctx *u = ctx;
	if (strcmp(rel, "manifest.json") && !is_listed(u->l, rel)) {
		u->rep->unlisted++;
		if (u->out)
			fprintf(u->out, "unlisted  %s\n", rel);
	}
	return 0;
}

/* Has `rel` a ".." component? */
static int has_dotdot(const char *rel)
{
	for (const char *c = rel; *c;) {
		size_t len = strcspn(c, "/");
		if (len == 2 && c[0] == '.' && c[1] == '.')
			return 1;
		c += len;
		c += *c == '/';
	}
	return 0;
}

/*
 * Open `rel` under `dir` one component at a time, following no symbolic link (not in a
 * directory component either), the last component a regular file: a FIFO is neither opened
 * nor waited for, a device never opened.  The descriptor; -1 when it does not exist; -2 when
 * refused, `why` saying what was found.
 */
static int open_inside(const char *dir, const char *rel, char *why, size_t whylen)
{
	char buf[PATH_MAX];
	if (snprintf(buf, sizeof(buf), "%s", rel) >= (int)sizeof(buf)) {
		snprintf(why, whylen, "path too long");
		return -2;
	}
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		snprintf(why, whylen, "cannot open the run directory: %s", strerror(errno));
		return -2;
	}
	char *c = buf;
	for (;;) {
		while (*c == '/')
			c++;
		char *next = c + strcspn(c, "/");
		int last = 1;
		for (const char *t = next; *t; t++)
			if (*t != '/')
				last = 0;
		*next = 0;
		if (!strcmp(c, ".") && !last) {
			c = next + 1;
			continue;
		}
		struct stat st;
		if (fstatat(dfd, c, &st, AT_SYMLINK_NOFOLLOW)) {
			int e = errno;
			close(dfd);
			if (e == ENOENT)
				return -1;
			snprintf(why, whylen, "cannot read '%.200s': %s", c, strerror(e));
			return -2;
		}
		if (!last) {
			int nfd = S_ISDIR(st.st_mode)
					  ? openat(dfd, c, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
					  : -1;
			if (nfd < 0) {
				snprintf(why, whylen, "'%.200s' is %s, expected a directory", c,
					 hus_file_kind(st.st_mode));
				close(dfd);
				return -2;
			}
			close(dfd);
			dfd = nfd;
			c = next + 1;
			continue;
		}
		int fd = S_ISREG(st.st_mode)
				 ? openat(dfd, c, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
				 : -1;
		close(dfd);
		struct stat st2;
		if (fd >= 0 && (fstat(fd, &st2) || !S_ISREG(st2.st_mode))) { /* replaced meanwhile */
			st.st_mode = st2.st_mode;
			close(fd);
			fd = -1;
		}
		if (fd < 0) {
			snprintf(why, whylen, "%s", hus_file_kind(st.st_mode));
			return -2;
		}
		int fl = fcntl(fd, F_GETFL);
		if (fl >= 0)
			fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
		return fd;
	}
}

/* An input outside the run directory (`rel` has ".."), read only on request: a regular file
 * (opened without blocking: a FIFO or device is refused unread), its sha256 compared. */
static void audit_outside(const char *run_dir, const char *rel, const char *sha, FILE *out,
                          struct audit_report *rep)
{
	char full[PATH_MAX * 2], hex[65];
	snprintf(full, sizeof(full), "%s/%s", run_dir, rel);
	struct stat st;
	int fd = open(full, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		if (fd >= 0) {
			rep->refused++;
			if (out)
				fprintf(out, "refused   %s (%s, expected a regular file: not read)\n", rel,
					hus_file_kind(st.st_mode));
			close(fd);
		} else {
			rep->missing++;
			if (out)
				fprintf(out, "missing   %s (an input outside the run directory)\n", rel);
		}
		return;
	}
	int fl = fcntl(fd, F_GETFL);
	if (fl >= 0)
		fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
	struct hus_err e2 = { 0 };
	int bad = hus_sha256_fd(fd, full, hex, NULL, &e2);
	close(fd);
	if (bad) {
		rep->missing++;
		if (out)
			fprintf(out, "missing   %s (unreadable: %s)\n", rel, e2.msg);
		return;
	}
	rep->checked++;
	rep->inputs_checked++;
	if (strcmp(hex, sha)) {
		rep->changed++;
		if (out)
			fprintf(out, "changed   %s (an input outside the run: sha256 %.12s…, manifest says "
				     "%.12s…)\n", rel, hex, sha);
	}
}

static int audit_list(const char *run_dir, hj *list, const char *kind, struct listed *l,
                      FILE *out, struct audit_report *rep, int outside, struct hus_err *err)
{
	char mpath[PATH_MAX + 32];
	snprintf(mpath, sizeof(mpath), "%s/manifest.json", run_dir);
	if (!list)
		return 0;
	if (!hj_is_arr(list))
		return hus_errf(err, HUS_EINPUT, mpath, kind, "expected a list of {path, sha256, bytes}");
	int inputs = !strcmp(kind, "inputs");
	for (size_t i = 0; i < hj_len(list); i++) {
		hj *e = hj_at(list, i);
		const char *rel = hj_get_str(e, "path"), *sha = hj_get_str(e, "sha256");
		char where[64];
		snprintf(where, sizeof(where), "%s.%zu", kind, i);
		if (!rel || !sha || strlen(sha) != 64 || !rel[0])
			return hus_errf(err, HUS_EINPUT, mpath, where,
					"expected {path, sha256 (64 hex digits), bytes}");
		if (rel[0] == '/')
			return hus_errf(err, HUS_EINPUT, mpath, where,
					"expected a path relative to the run directory, found '%s'", rel);
		if (has_dotdot(rel)) {
			/* never read: the audit reads nothing outside the run directory */
			if (!inputs)
				return hus_errf(err, HUS_EINPUT, mpath, where,
						"expected a path inside the run directory (no '..' "
						"component), found '%s'",
						rel);
			if (outside) {
				audit_outside(run_dir, rel, sha, out, rep);
				continue;
			}
			rep->outside++;
			if (out)
				fprintf(out, "outside   %s (an input outside the run directory: not read; "
					     "`husai audit --inputs` verifies it)\n",
					rel);
			continue;
		}
		listed_add(l, rel);
		char why[300], hex[65];
		int fd = open_inside(run_dir, rel, why, sizeof(why));
		if (fd == -2) {
			rep->refused++;
			if (out)
				fprintf(out, "refused   %s (%s; expected a regular file inside the run "
					     "directory: not read)\n",
					rel, why);
			continue;
		}
		struct hus_err e2 = { 0 };
		char full[PATH_MAX * 2];
		snprintf(full, sizeof(full), "%s/%s", run_dir, rel);
		if (fd < 0 || hus_sha256_fd(fd, full, hex, NULL, &e2)) {
			if (fd >= 0)
				close(fd);
			rep->missing++;
			if (out)
				fprintf(out, "missing   %s\n", rel);
			continue;
		}
		close(fd);
		rep->checked++;
		if (strcmp(hex, sha)) {
			rep->changed++;
			if (out)
				fprintf(out, "changed   %s (sha256 %.12s…, manifest says %.12s…)\n", rel, hex,
					sha);
		}
	}
	return 0;
}

/* A symbolic link, FIFO, socket or device in the run directory that the manifest does not
 * list (a listed one was refused already). */
static int note_special(const char *rel, const char *full, void *ctx)
{
	struct unlisted_ctx *u = ctx;
	struct stat st;
	if (is_listed(u->l, rel) || lstat(full, &st))
		return 0;
	u->rep->refused++;
	if (u->out)
		fprintf(u->out, "refused   %s (%s, not listed; a run directory holds only regular "
				"files: not read)\n",
			rel, hus_file_kind(st.st_mode));
	return 0;
}

int manifest_audit(const char *run_dir, FILE *out, struct audit_report *rep, struct hus_err *err)
{
	return manifest_audit_ex(run_dir, out, rep, 0, err);
}

int manifest_audit_ex(const char *run_dir, FILE *out, struct audit_report *rep, int outside,
                      struct hus_err *err)
{
	char mpath[PATH_MAX + 32];
	snprintf(mpath, sizeof(mpath), "%s/manifest.json", run_dir);
	memset(rep, 0, sizeof(*rep));
	struct stat st;
	if (!lstat(mpath, &st) && !S_ISREG(st.st_mode))
		return hus_errf(err, HUS_EINPUT, mpath, NULL, "%s; expected a regular file",
				hus_file_kind(st.st_mode));
	hj *m;
	int rc = hj_read_file(mpath, &m, err);
	if (rc)
		return rc;
	if (!hj_is_obj(m)) {
		hj_free(m);
		return hus_errf(err, HUS_EINPUT, mpath, NULL, "expected a JSON object");
	}
	struct listed l = { 0 };
	rc = audit_list(run_dir, hj_get(m, "artifacts"), "artifacts", &l, out, rep, 0, err);
	if (!rc)
		rc = audit_list(run_dir, hj_get(m, "inputs"), "inputs", &l, out, rep, outside, err);
	struct unlisted_ctx u = { &l, out, rep };
	if (!rc)
		hus_walk_files(run_dir, note_unlisted, &u);
	if (!rc)
		hus_walk_special(run_dir, note_special, &u);
	for (size_t i = 0; i < l.n; i++)
		free(l.paths[i]);
	free(l.paths);
	hj_free(m);
	if (rc)
		return rc;
	if (rep->missing || rep->changed || rep->unlisted || rep->refused)
		return hus_errf(err, HUS_EMISMATCH, run_dir, NULL,
				"audit failed: %zu missing, %zu changed, %zu unlisted, %zu refused (not "
				"a regular file inside the run) of %zu checked",
				rep->missing, rep->changed, rep->unlisted, rep->refused, rep->checked);
	return 0;
}
