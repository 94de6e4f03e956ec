/*
 * errors.c — the shared error record (struct hus_err), exit statuses, library error-handler
 * taming, and the fault-injection hook tests use to fail one named site.
 */
#include <gsl/gsl_errno.h>
#include <hdf5.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "formats.h"

int hus_errf(struct hus_err *err, int code, const char *file, const char *where,
             const char *fmt, ...)
{
	if (!err)
		return code;
	err->code = code;
	snprintf(err->file, sizeof(err->file), "%s", file ? file : "");
	snprintf(err->where, sizeof(err->where), "%s", where ? where : "");
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return code;
}

void hus_err_print(const struct hus_err *err)
{
	char line[1400];
	if (err->file[0] && err->where[0])
		snprintf(line, sizeof(line), "husai: %s:%s: %s\n", err->file, err->where, err->msg);
	else if (err->file[0])
		snprintf(line, sizeof(line), "husai: %s: %s\n", err->file, err->msg);
	else
		snprintf(line, sizeof(line), "husai: %s\n", err->msg);
	int ok = fputs(line, stderr) >= 0 && fflush(stderr) == 0;
	/* a job of husai run writes to its log; when the log cannot take the line (a full disk),
	 * the error goes to the run's own stderr, which the engine handed down as HUSAI_ERR_FD */
	const char *fd = getenv("HUSAI_ERR_FD");
	if (!ok && fd && *fd) {
		ssize_t w = write(atoi(fd), line, strlen(line));
		(void)w;
	}
}

int hus_err_status(int code)
{
	switch (code) {
	case HUS_OK:
		return 0;
	case HUS_EUSAGE:
		return 2;
	case HUS_EINTR:
		return 3;
	default:
		return 1;
	}
}

void hus_libs_init(void)
{
	/* GSL's default handler calls abort(); HDF5 prints a stack on every failed call. */
	gsl_set_error_handler_off();
	/* HDF5 closes every open file at exit; a file whose close already failed (a write error,
	 * e.g. a full disk) makes that second close crash inside libhdf5 1.10.  husai closes or
	 * abandons every file itself, so the library's exit handler is switched off. */
	H5dont_atexit();
	H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
	/* Keep the metadata cache's ~0.6 MB struct on HDF5's free list between file opens: by
	 * default each list keeps 64 KB, so every open allocated and zeroed it afresh (page
	 * faults: a third of the h5 fuzz target's time).  Bounded: 8 MB per list, 16 MB in all;
	 * the array and block lists keep their documented defaults (-1 would mean no limit). */
	H5set_free_list_limits(16 << 20, 8 << 20, 4 << 20, 256 << 10, 16 << 20, 1 << 20);
}

/* HUSAI_FAULT=<site>[:<nth>] makes the nth call (default 1st) at <site> report a failure. */
int hus_fault(const char *site)
{
	static int calls;
	static char armed[128];
	const char *spec = getenv("HUSAI_FAULT");
	if (!spec || !*spec)
		return 0;
	if (strncmp(armed, spec, sizeof(armed) - 1)) { /* a new arming restarts the count */
		snprintf(armed, sizeof(armed), "%s", spec);
		calls = 0;
	}
	size_t len = strcspn(spec, ":");
	if (strlen(site) != len || strncmp(spec, site, len))
		return 0;
	int nth = spec[len] == ':' ? atoi(spec + len + 1) : 1;
	return ++calls == nth;
}
