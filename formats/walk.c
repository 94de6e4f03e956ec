/*
 * walk.c — every regular file under a directory, recursively, in sorted order (so manifests
 * and audits list files the same way on every machine); symbolic links are not followed.
 * Used by the manifest audit, the run manifest and the cleanup of stale temporaries.  Also
 * the immediate subdirectories holding a given entry (a suite's runs), in sorted order, and
 * the check that a recorded relative path stays below its directory.
 */
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "formats.h"

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* fn for every regular file; special (if non-NULL) for every other entry that is not a
 * directory (symbolic links, FIFOs, sockets, devices), none of them followed */
static int walk(const char *root, const char *sub, hus_walk_fn fn, hus_walk_fn special,
                void *ctx)
{
	char dir[PATH_MAX];
	snprintf(dir, sizeof(dir), "%s%s%s", root, *sub ? "/" : "", sub);
	DIR *d = opendir(dir);
	if (!d)
		return 0;
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 32;
			char **nn = realloc(names, cap * sizeof(*nn));
			if (!nn)
				break;
			names = nn;
		}
		if ((names[n] = strdup(e->d_name)))
			n++;
	}
	closedir(d);
	if (n)
		qsort(names, n, sizeof(*names), cmp_names);
	int rc = 0;
	for (size_t i = 0; i < n && !rc; i++) {
		char rel[PATH_MAX], full[PATH_MAX * 2];
		snprintf(rel, sizeof(rel), "%s%s%s", sub, *sub ? "/" : "", names[i]);
		snprintf(full, sizeof(full), "%s/%s", root, rel);
		struct stat st;
		if (lstat(full, &st))
			continue;
		if (S_ISDIR(st.st_mode))
			rc = walk(root, rel, fn, special, ctx);
		else if (S_ISREG(st.st_mode))
			rc = fn ? fn(rel, full, ctx) : 0;
		else if (special)
			rc = special(rel, full, ctx);
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return rc;
}

int hus_walk_files(const char *root, hus_walk_fn fn, void *ctx)
{
	return walk(root, "", fn, NULL, ctx);
}

int hus_walk_special(const char *root, hus_walk_fn fn, void *ctx)
{
	return walk(root, "", NULL, fn, ctx);
}

int hus_subdirs_having(const char *dir, const char *entry, char ***out, size_t *n)
{
	*out = NULL;
	*n = 0;
	struct dirent **ents = NULL;
	int ne = scandir(dir, &ents, NULL, alphasort);
	int rc = 0;
	for (int i = 0; i < ne; i++) {
		char sub[PATH_MAX], has[PATH_MAX * 2];
		snprintf(sub, sizeof(sub), "%s/%s", dir, ents[i]->d_name);
		snprintf(has, sizeof(has), "%s/%s", sub, entry);
		struct stat st;
		if (!rc && ents[i]->d_name[0] != '.' && !stat(sub, &st) && S_ISDIR(st.st_mode) &&
		    !access(has, F_OK)) {
			char **l = realloc(*out, (*n + 1) * sizeof(*l));
			if (l)
				*out = l;
			if (!l || !(l[*n] = strdup(sub)))
				rc = HUS_ENOMEM;
			else
				(*n)++;
		}
		free(ents[i]);
	}
	free(ents);
	return rc;
}

int hus_path_is_below(const char *p)
{
	if (!*p || *p == '/')
		return 0;
	for (const char *s = p;;) {
		size_t n = strcspn(s, "/");
		if (n == 0 || (n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.'))
			return 0; /* an empty component is also a trailing or doubled '/' */
		s += n;
		if (!*s)
			return 1;
		s++;
	}
}
