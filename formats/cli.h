/*
 * cli.h — the one command-line parser every `husai` verb uses (formats/cli.c), after git's
 * parse-options: a verb describes its options in a table (name, short letter, kind, where the
 * value goes, its range), and hus_cli_parse fills the verb's request from argv, checking every
 * number (the option and the bad value are named), collecting repeated `--set key=value`,
 * answering --help with the usage on stdout (status 0) and misuse with a one-line error and
 * the usage on stderr (status 2).  A verb is then: parse into a request, check what the table
 * cannot, one library call, print the outcome (docs/architecture.md "Verbs").
 */
#ifndef HUSAI_CLI_H
#define HUSAI_CLI_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct cfg;
struct hus_err;

/* Print a verb's usage lines (a NULL-terminated array), one per line. */
void hus_print_lines(FILE *out, const char *const *lines);

/* Repeated `--set section.key=value`, in command-line order (config.c's cfg_set syntax). */
#define HUS_MAX_SETS 64
struct hus_sets {
	const char *v[HUS_MAX_SETS];
	size_t n;
};
/* Apply every override to `c` in order (cfg_set); the first failure's code. */
int hus_sets_apply(const struct hus_sets *s, struct cfg *c, struct hus_err *err);

enum hus_opt_kind {
	HUS_OPT_FLAG,   /* no value: *(int *)value = 1 */
	HUS_OPT_UNFLAG, /* no value: *(int *)value = 0 (--no-<something>) */
	HUS_OPT_STR,    /* *(const char **)value = the argument (argv's own string) */
	HUS_OPT_I64,    /* *(int64_t *)value, a whole number in [lo, hi] */
	HUS_OPT_U64,    /* *(uint64_t *)value, a whole number in [0, umax] */
	HUS_OPT_SIZE,   /* *(size_t *)value, a whole number in [0, umax] */
	HUS_OPT_F64,    /* *(double *)value, a finite number in [flo, fhi] (flo excluded if open) */
	HUS_OPT_CHOICE, /* *(int *)value = the index of the argument in `choices` */
	HUS_OPT_SET,    /* appended to *(struct hus_sets *)value */
	HUS_OPT_FN,     /* fn(value, argument): 0, HUS_EUSAGE (a bad value, named with `expect`),
	                 * or another HUS_E* code after printing its own error */
};

struct hus_opt {
	const char *name; /* the long name, without "--"; NULL ends the table */
	int short_name;   /* 'j' for -j, or 0 */
	enum hus_opt_kind kind;
	void *value;
	int64_t lo, hi;                 /* HUS_OPT_I64 */
	uint64_t umax;                  /* HUS_OPT_U64, HUS_OPT_SIZE */
	double flo, fhi;                /* HUS_OPT_F64 */
	int open_lo;                    /* HUS_OPT_F64: flo itself is refused */
	const char *const *choices;     /* HUS_OPT_CHOICE, NULL-terminated */
	int (*fn)(void *value, const char *arg); /* HUS_OPT_FN */
	const char *expect;             /* HUS_OPT_FN: what a good value is, for the error */
	int early;                      /* handled before every other option (a config file that
	                                 * the other options override) */
};

#define HUS_OPT_FLAG(n, s, p) { .name = (n), .short_name = (s), .kind = HUS_OPT_FLAG, .value = (p) }
#define HUS_OPT_UNFLAG(n, s, p) { .name = (n), .short_name = (s), .kind = HUS_OPT_UNFLAG, .value = (p) }
#define HUS_OPT_STR(n, s, p) { .name = (n), .short_name = (s), .kind = HUS_OPT_STR, .value = (p) }
#define HUS_OPT_I64(n, s, p, l, h)                                                              \
	{ .name = (n), .short_name = (s), .kind = HUS_OPT_I64, .value = (p), .lo = (l), .hi = (h) }
#define HUS_OPT_U64(n, s, p, m)                                                                 \
	{ .name = (n), .short_name = (s), .kind = HUS_OPT_U64, .value = (p), .umax = (m) }
#define HUS_OPT_SIZE(n, s, p, m)                                                                \
	{ .name = (n), .short_name = (s), .kind = HUS_OPT_SIZE, .value = (p), .umax = (m) }
#define HUS_OPT_F64(n, s, p, l, h)                                                              \
	{ .name = (n), .short_name = (s), .kind = HUS_OPT_F64, .value = (p), .flo = (l), .fhi = (h) }
/* a number above l (l itself refused) and at most h */
#define HUS_OPT_F64_ABOVE(n, s, p, l, h)                                                        \
	{ .name = (n), .short_name = (s), .kind = HUS_OPT_F64, .value = (p), .flo = (l), .fhi = (h), \
	  .open_lo = 1 }
#define HUS_OPT_CHOICE(n, s, p, c)                                                              \
	{ .name = (n), .short_name = (s), .kind = HUS_OPT_CHOICE, .value = (p), .choices = (c) }
/* an FN option handled before all others, e.g. a config file the other options override */
#define HUS_OPT_EARLY_FN(n, s, p, f, e)                                                         \
	{ .name = (n), .short_name = (s), .kind = HUS_OPT_FN, .value = (p), .fn = (f), .expect = (e), \
	  .early = 1 }
#define HUS_OPT_SET(n, s, p) { .name = (n), .short_name = (s), .kind = HUS_OPT_SET, .value = (p) }
#define HUS_OPT_FN(n, s, p, f, e)                                                               \
	{ .name = (n), .short_name = (s), .kind = HUS_OPT_FN, .value = (p), .fn = (f), .expect = (e) }
#define HUS_OPT_END { .name = NULL }

struct hus_cli {
	const char *verb;           /* "train-sae": named in every error */
	const char *const *usage;   /* printed by --help (stdout) and on misuse (stderr) */
	const struct hus_opt *opts; /* ends with HUS_OPT_END; --help and -h are implied */
	int min_args, max_args;     /* positional arguments accepted (max -1: any number) */
};

/* What hus_cli_parse returns when the verb should go on; anything else is the exit status
 * to return at once (0 after --help, 2 for misuse, 1 when an FN option failed). */
#define HUS_CLI_GO_ON (-1)
/* Parse argv[1..] with getopt_long (GNU order: options and arguments may mix; a long option
 * may be abbreviated while unambiguous; `--` ends the options).  On HUS_CLI_GO_ON the
 * positional arguments are argv[*first .. argc). */
int hus_cli_parse(const struct hus_cli *cli, int argc, char **argv, int *first);
/* Misuse the table cannot see: print "husai: <verb>: <message>" and the usage on stderr;
 * returns 2, the exit status. */
int hus_cli_misuse(const struct hus_cli *cli, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* "a,b,c" as non-negative whole numbers (malloc'ed in *out, at least one); 0, or HUS_EUSAGE
 * for an empty list, a bad number or a negative one; HUS_ENOMEM. */
int hus_cli_int_list(const char *arg, int64_t **out, size_t *n);
/* "husai argv[0] argv[1] ..." into buf (truncated to n), as recorded in manifests. */
void hus_cli_command_line(char *buf, size_t n, int argc, char **argv);

#endif
