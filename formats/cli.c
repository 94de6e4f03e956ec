/*
 * cli.c — the command-line parser every verb uses (cli.h): an option table turned into
 * getopt_long's, checked numbers (strtoll/strtoull/strtod with the whole string, the range and
 * overflow checked, the option and the value named in the error), repeated --set collected,
 * --help, and the usage printed on misuse.  getopt's state is reset here, once per parse, so a
 * verb can run twice in one process (the unit tests do).
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats.h"

#define OPT_VAL0 256 /* getopt_long's value for table entry i is OPT_VAL0 + i; --help is n */

void hus_print_lines(FILE *out, const char *const *lines)
{
	for (const char *const *l = lines; *l; l++)
		fprintf(out, "%s\n", *l);
}

int hus_sets_apply(const struct hus_sets *s, struct cfg *c, struct hus_err *err)
{
	int rc = 0;
	for (size_t i = 0; !rc && i < s->n; i++)
		rc = cfg_set(c, s->v[i], err);
	return rc;
}

int hus_cli_misuse(const struct hus_cli *cli, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "husai: %s: ", cli->verb);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	hus_print_lines(stderr, cli->usage);
	return 2;
}

void hus_cli_command_line(char *buf, size_t n, int argc, char **argv)
{
	snprintf(buf, n, "husai");
	for (int i = 0; i < argc; i++) {
		size_t l = strlen(buf);
		snprintf(buf + l, n - l, " %s", argv[i]);
	}
}

/* A whole number, the whole string, no leading blank (strtoll would skip it). */
static int parse_i64(const char *s, int64_t *v)
{
	char *end;
	if (!*s || isspace((unsigned char)*s))
		return -1;
	errno = 0;
	long long x = strtoll(s, &end, 10);
	if (errno || *end)
		return -1;
	*v = x;
	return 0;
}

/* strtoull would take "-1" as 2^64 - 1: a sign is refused */
static int parse_u64(const char *s, uint64_t *v)
{
	char *end;
	if (!isdigit((unsigned char)*s) && *s != '+')
		return -1;
	errno = 0;
	unsigned long long x = strtoull(s, &end, 10);
	if (errno || *end || end == s)
		return -1;
	*v = x;
	return 0;
}

int hus_cli_int_list(const char *arg, int64_t **out, size_t *n)
{
	size_t cap = 1;
	for (const char *c = arg; *c; c++)
		cap += *c == ',';
	int64_t *v = malloc(cap * sizeof(*v));
	char *copy = strdup(arg);
	if (!v || !copy) {
		free(v), free(copy);
		return HUS_ENOMEM;
	}
	size_t k = 0;
	int rc = 0;
	for (char *p = copy, *comma; !rc; p = comma + 1) {
		comma = strchr(p, ',');
		if (comma)
			*comma = 0;
		if (parse_i64(p, &v[k]) || v[k] < 0)
			rc = HUS_EUSAGE;
		k++;
		if (!comma)
			break;
	}
	free(copy);
	if (rc) {
		free(v);
		return rc;
	}
	*out = v;
	*n = k;
	return 0;
}

/* What a good value of option o is, for the error. */
static void expectation(const struct hus_opt *o, char *buf, size_t n)
{
	switch (o->kind) {
	case HUS_OPT_I64:
		if (o->hi == INT64_MAX && o->lo == 0)
			snprintf(buf, n, "a whole number, 0 or more");
		else if (o->hi == INT64_MAX)
			snprintf(buf, n, "a whole number, %" PRId64 " or more", o->lo);
		else
			snprintf(buf, n, "a whole number from %" PRId64 " to %" PRId64, o->lo, o->hi);
		break;
	case HUS_OPT_U64:
	case HUS_OPT_SIZE:
		if (o->umax == UINT64_MAX || o->umax == SIZE_MAX)
			snprintf(buf, n, "a whole number, 0 or more");
		else
			snprintf(buf, n, "a whole number from 0 to %" PRIu64, o->umax);
		break;
	case HUS_OPT_F64:
		if (isinf(o->flo) && isinf(o->fhi))
			snprintf(buf, n, "a number");
		else if (o->open_lo)
			snprintf(buf, n, "a number above %g and at most %g", o->flo, o->fhi);
		else
			snprintf(buf, n, "a number from %g to %g", o->flo, o->fhi);
		break;
	case HUS_OPT_CHOICE: {
		size_t l = (size_t)snprintf(buf, n, "one of");
		for (size_t i = 0; o->choices[i] && l < n; i++)
			l += (size_t)snprintf(buf + l, n - l, "%s %s", i ? "," : "", o->choices[i]);
		break;
	}
	default:
		snprintf(buf, n, "%s", o->expect ? o->expect : "another value");
	}
}

/* Store arg into o's value; 0, HUS_EUSAGE for a bad value, or an FN's other error code. */
static int store(const struct hus_opt *o, const char *arg)
{
	int64_t i;
	uint64_t u;
	double f;
	char *end;
	switch (o->kind) {
	case HUS_OPT_FLAG:
	case HUS_OPT_UNFLAG:
		*(int *)o->value = o->kind == HUS_OPT_FLAG;
		return 0;
	case HUS_OPT_STR:
		*(const char **)o->value = arg;
		return 0;
	case HUS_OPT_I64:
		if (parse_i64(arg, &i) || i < o->lo || i > o->hi)
			return HUS_EUSAGE;
		*(int64_t *)o->value = i;
		return 0;
	case HUS_OPT_U64:
	case HUS_OPT_SIZE:
		if (parse_u64(arg, &u) || u > o->umax || (o->kind == HUS_OPT_SIZE && u > SIZE_MAX))
			return HUS_EUSAGE;
		if (o->kind == HUS_OPT_U64)
			*(uint64_t *)o->value = u;
		else
			*(size_t *)o->value = (size_t)u;
		return 0;
	case HUS_OPT_F64:
		if (!*arg || isspace((unsigned char)*arg))
			return HUS_EUSAGE;
		errno = 0;
		f = strtod(arg, &end);
		if (errno || *end || !isfinite(f) || f < o->flo || f > o->fhi ||
		    (o->open_lo && f == o->flo))
			return HUS_EUSAGE;
		*(double *)o->value = f;
		return 0;
	case HUS_OPT_CHOICE:
		for (int k = 0; o->choices[k]; k++)
			if (!strcmp(arg, o->choices[k])) {
				*(int *)o->value = k;
				return 0;
			}
		return HUS_EUSAGE;
	case HUS_OPT_SET: {
		struct hus_sets *s = o->value;
		if (s->n == HUS_MAX_SETS)
			return HUS_EUSAGE;
		s->v[s->n++] = arg;
		return 0;
	}
	case HUS_OPT_FN:
		return o->fn(o->value, arg);
	}
	return HUS_EUSAGE;
}

static int bad_value(const struct hus_cli *cli, const struct hus_opt *o, const char *arg)
{
	char want[256];
	if (o->kind == HUS_OPT_SET) {
		fprintf(stderr, "husai: %s: at most %d --%s options\n", cli->verb, HUS_MAX_SETS,
		        o->name);
		return 2;
	}
	int range = errno == ERANGE; /* set by the strto* call that refused it */
	expectation(o, want, sizeof(want));
	fprintf(stderr, "husai: %s: bad value '%s' for option '--%s': expected %s%s\n", cli->verb,
	        arg, o->name, want, range ? " (this one is out of range)" : "");
	return 2;
}

/* The option getopt_long stopped at, as the user wrote it. */
static void offending(const struct hus_cli *cli, int argc, char **argv, char *buf, size_t n)
{
	if (optopt >= OPT_VAL0 && cli->opts[optopt - OPT_VAL0].name)
		snprintf(buf, n, "--%s", cli->opts[optopt - OPT_VAL0].name);
	else if (optopt > 0 && optopt < OPT_VAL0)
		snprintf(buf, n, "-%c", optopt);
	else
		snprintf(buf, n, "%s", optind > 0 && optind <= argc ? argv[optind - 1] : "?");
}

/* One getopt_long pass over argv; `early` picks which options are stored in this pass (the
 * others are recognised and skipped).  HUS_CLI_GO_ON or an exit status. */
static int pass(const struct hus_cli *cli, const struct option *lo, const char *shorts, int early,
                int argc, char **argv)
{
	size_t nopt = 0;
	while (cli->opts[nopt].name)
		nopt++;
	optind = 0; /* glibc: a full re-initialisation, so a verb can run twice in a process */
	opterr = 0;
	int c;
	while ((c = getopt_long(argc, argv, shorts, lo, NULL)) != -1) {
		char what[300];
		if (c == ':' || c == '?') {
			if (early)
				continue; /* reported by the main pass */
			offending(cli, argc, argv, what, sizeof(what));
			if (c == ':')
				return hus_cli_misuse(cli, "option '%s' needs a value", what);
			if (optopt >= OPT_VAL0)
				return hus_cli_misuse(cli, "option '%s' takes no value", what);
			return hus_cli_misuse(cli, "'%s' is not an option of husai %s; the options "
			                      "are below", what, cli->verb);
		}
		size_t i = c >= OPT_VAL0 ? (size_t)(c - OPT_VAL0) : nopt;
		for (size_t k = 0; k < nopt && c < OPT_VAL0; k++)
			if (cli->opts[k].short_name == c)
				i = k;
		if (i == nopt) { /* --help or -h */
			if (early)
				continue;
			hus_print_lines(stdout, cli->usage);
			return 0;
		}
		const struct hus_opt *o = &cli->opts[i];
		if (!o->early != !early)
			continue;
		errno = 0;
		int rc = store(o, optarg);
		if (rc == HUS_EUSAGE)
			return bad_value(cli, o, optarg);
		if (rc)
			return hus_err_status(rc);
	}
	return HUS_CLI_GO_ON;
}

int hus_cli_parse(const struct hus_cli *cli, int argc, char **argv, int *first)
{
	size_t nopt = 0;
	int any_early = 0;
	while (cli->opts[nopt].name)
		any_early |= cli->opts[nopt++].early;
	struct option *lo = calloc(nopt + 2, sizeof(*lo));
	char *shorts = malloc(3 * nopt + 4);
	if (!lo || !shorts) {
		free(lo), free(shorts);
		fprintf(stderr, "husai: %s: out of memory\n", cli->verb);
		return 1;
	}
	/* ':' first: a missing value is told apart from an unknown option */
	size_t ns = (size_t)sprintf(shorts, ":h");
	for (size_t i = 0; i < nopt; i++) {
		const struct hus_opt *o = &cli->opts[i];
		int has_arg = o->kind == HUS_OPT_FLAG || o->kind == HUS_OPT_UNFLAG ? no_argument
		                                                                 : required_argument;
		lo[i] = (struct option){ o->name, has_arg, NULL, OPT_VAL0 + (int)i };
		if (o->short_name) {
			shorts[ns++] = (char)o->short_name;
			if (has_arg == required_argument)
				shorts[ns++] = ':';
		}
	}
	shorts[ns] = 0;
	lo[nopt] = (struct option){ "help", no_argument, NULL, OPT_VAL0 + (int)nopt };
	int st = any_early ? pass(cli, lo, shorts, 1, argc, argv) : HUS_CLI_GO_ON;
	if (st == HUS_CLI_GO_ON)
		st = pass(cli, lo, shorts, 0, argc, argv);
	free(lo);
	free(shorts);
	if (st != HUS_CLI_GO_ON)
		return st;
	int npos = argc - optind;
	if (npos < cli->min_args || (cli->max_args >= 0 && npos > cli->max_args)) {
		if (npos > 0 && cli->max_args >= 0 && npos > cli->max_args)
			return hus_cli_misuse(cli, "unexpected argument '%s'",
			                      argv[optind + cli->max_args]);
		return hus_cli_misuse(cli, "expected %s%d argument%s after the options, found %d",
		                      cli->max_args == cli->min_args ? "" : "at least ",
		                      cli->min_args, cli->min_args == 1 ? "" : "s", npos);
	}
	*first = optind;
	return HUS_CLI_GO_ON;
}
