/*
 * errors.h — the error record every fallible function of husai fills (struct hus_err, the
 * HUS_E* codes, hus_errf), library error handlers and fault injection (formats/errors.c).
 * It is part of formats.h (the umbrella header every user includes); included alone it brings
 * what it needs.
 */
#ifndef HUSAI_FORMATS_ERRORS_H
#define HUSAI_FORMATS_ERRORS_H

/* ---------------------------------------------------------------- errors ------------ */

enum hus_code {
	HUS_OK = 0,
	HUS_EINPUT = -1,    /* a file or argument is not what was expected */
	HUS_EIO = -2,       /* the operating system refused a read or write */
	HUS_ENOMEM = -3,    /* an allocation failed */
	HUS_EUSAGE = -4,    /* the command line is wrong */
	HUS_EINTR = -5,     /* interrupted by SIGINT/SIGTERM; state was saved */
	HUS_EINTERNAL = -6, /* a library failed in a way input cannot explain */
	HUS_EMISMATCH = -7, /* audit: a checksum or recomputed value differs */
};

struct hus_err {
	int code;        /* one of enum hus_code */
	char file[512];  /* the file read or written, "" when none */
	char where[256]; /* "12:7" in YAML, "/params/W_dec" in HDF5, "" when none */
	char msg[512];   /* what was expected and what was found */
};

/* Fill `err` (if non-NULL) and return `code`.  `file` and `where` may be NULL. */
int hus_errf(struct hus_err *err, int code, const char *file, const char *where,
             const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* Print "husai: <file>:<where>: <msg>" on stderr. */
void hus_err_print(const struct hus_err *err);
/* Exit status for a code: 0 ok, 2 usage, 3 interrupted, 1 otherwise. */
int hus_err_status(int code);
/* Turn off library default error handlers (GSL abort, HDF5 auto-print).  Call once. */
void hus_libs_init(void);

/* Fault injection for tests (SQLite's sqlite3FaultSim): returns non-zero when the named site
 * should fail.  Sites are armed through the environment, HUSAI_FAULT=<site>[:<nth>]. */
int hus_fault(const char *site);

#endif
