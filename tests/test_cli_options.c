/*
 * test_cli_options.c — the verbs' shared option parser (formats/cli.c): numbers are checked
 * whole (garbage, overflow, a sign where none may be, out of range), a missing value is
 * misuse, repeated --set is collected in order up to its limit, --help answers 0, and a
 * second parse in the same process starts afresh.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "formats.h"

static const char *const usage[] = { "usage: husai test [--n <n>] [--u <n>] [--f <x>]", NULL };

struct req {
	int64_t n;
	uint64_t u;
	size_t z;
	double f;
	int flag, choice;
	const char *s;
	struct hus_sets sets;
};

static int parse(struct req *q, int argc, char **argv, int *first)
{
	static const char *const choices[] = { "a", "b", NULL };
	const struct hus_opt opts[] = {
		HUS_OPT_I64("n", 'n', &q->n, -1, 100),  HUS_OPT_U64("u", 0, &q->u, UINT64_MAX),
		HUS_OPT_SIZE("z", 0, &q->z, SIZE_MAX),   HUS_OPT_F64("f", 0, &q->f, 0, 1),
		HUS_OPT_FLAG("flag", 0, &q->flag),       HUS_OPT_CHOICE("c", 0, &q->choice, choices),
		HUS_OPT_STR("s", 0, &q->s),              HUS_OPT_SET("set", 0, &q->sets),
		HUS_OPT_END,
	};
	const struct hus_cli cli = { "test", usage, opts, 0, 1 };
	memset(q, 0, sizeof(*q));
	return hus_cli_parse(&cli, argc, argv, first);
}

#define ARGV(...) (char *[]){ "test", __VA_ARGS__, NULL }
#define NARG(...) ((int)(sizeof((char *[]){ "test", __VA_ARGS__ }) / sizeof(char *)))
#define PARSE(q, first, ...) parse(q, NARG(__VA_ARGS__), ARGV(__VA_ARGS__), first)

static void test_good_values(void **state)
{
	(void)state;
	struct req q;
	int first;
	assert_int_equal(PARSE(&q, &first, "--n", "-1", "--u", "18446744073709551615", "--f", "0.5",
	                       "--flag", "--c", "b", "-n", "7", "pos", "--s=x"), HUS_CLI_GO_ON);
	assert_int_equal(q.n, 7); /* the last one wins */
	assert_true(q.u == UINT64_MAX);
	assert_true(q.f == 0.5);
	assert_int_equal(q.flag, 1);
	assert_int_equal(q.choice, 1);
	assert_string_equal(q.s, "x");
	assert_int_equal(first, NARG("--n", "-1", "--u", "18446744073709551615", "--f", "0.5",
	                             "--flag", "--c", "b", "-n", "7", "pos", "--s=x") - 1);
}

static void test_bad_numbers(void **state)
{
	(void)state;
	struct req q;
	int first;
	assert_int_equal(PARSE(&q, &first, "--n", "12x"), 2);          /* trailing garbage */
	assert_int_equal(PARSE(&q, &first, "--n", ""), 2);             /* empty */
	assert_int_equal(PARSE(&q, &first, "--n", " 5"), 2);           /* a leading blank */
	assert_int_equal(PARSE(&q, &first, "--n", "101"), 2);          /* above the range */
	assert_int_equal(PARSE(&q, &first, "--n", "-2"), 2);           /* below the range */
	assert_int_equal(PARSE(&q, &first, "--n", "99999999999999999999"), 2); /* overflow */
	assert_int_equal(PARSE(&q, &first, "--u", "18446744073709551616"), 2); /* overflow */
	assert_int_equal(PARSE(&q, &first, "--u", "-1"), 2);           /* negative where unsigned */
	assert_int_equal(PARSE(&q, &first, "--z", "-0"), 2);
	assert_int_equal(PARSE(&q, &first, "--f", "1.5"), 2);
	assert_int_equal(PARSE(&q, &first, "--f", "nan"), 2);
	assert_int_equal(PARSE(&q, &first, "--f", "1e999"), 2);
	assert_int_equal(PARSE(&q, &first, "--c", "z"), 2);
	assert_int_equal(q.n, 0); /* nothing stored from a refused value */
}

static void test_misuse(void **state)
{
	(void)state;
	struct req q;
	int first;
	assert_int_equal(PARSE(&q, &first, "--n"), 2);                /* missing value */
	assert_int_equal(PARSE(&q, &first, "--nope"), 2);             /* unknown option */
	assert_int_equal(PARSE(&q, &first, "--flag=1"), 2);           /* a flag takes no value */
	assert_int_equal(PARSE(&q, &first, "a", "b"), 2);             /* too many arguments */
	assert_int_equal(PARSE(&q, &first, "--help"), 0);
	assert_int_equal(PARSE(&q, &first, "-h"), 0);
	assert_int_equal(PARSE(&q, &first, "--n", "3"), HUS_CLI_GO_ON); /* a fresh parse again */
	assert_int_equal(q.n, 3);
}

static void test_repeated_set(void **state)
{
	(void)state;
	struct req q;
	int first;
	assert_int_equal(PARSE(&q, &first, "--set", "a.b=1", "--set=c.d=2", "--set", "a.b=3"),
	                 HUS_CLI_GO_ON);
	assert_int_equal(q.sets.n, 3);
	assert_string_equal(q.sets.v[0], "a.b=1");
	assert_string_equal(q.sets.v[1], "c.d=2");
	assert_string_equal(q.sets.v[2], "a.b=3");
	char *argv[2 * HUS_MAX_SETS + 4] = { "test" };
	int argc = 1;
	for (int i = 0; i <= HUS_MAX_SETS; i++) {
		argv[argc++] = "--set";
		argv[argc++] = "x.y=1";
	}
	argv[argc] = NULL;
	assert_int_equal(parse(&q, argc, argv, &first), 2); /* one more than the limit */
}

static void test_int_list(void **state)
{
	(void)state;
	int64_t *v = NULL;
	size_t n = 0;
	assert_int_equal(hus_cli_int_list("0,12,3", &v, &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(v[1], 12);
	free(v);
	assert_int_equal(hus_cli_int_list("1,,2", &v, &n), HUS_EUSAGE);
	assert_int_equal(hus_cli_int_list("1,-2", &v, &n), HUS_EUSAGE);
	assert_int_equal(hus_cli_int_list("", &v, &n), HUS_EUSAGE);
	assert_int_equal(hus_cli_int_list("99999999999999999999", &v, &n), HUS_EUSAGE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_values), cmocka_unit_test(test_bad_numbers),
		cmocka_unit_test(test_misuse),      cmocka_unit_test(test_repeated_set),
		cmocka_unit_test(test_int_list),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
