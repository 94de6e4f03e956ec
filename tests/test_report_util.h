/*
 * test_report_util.h — helpers shared by the report tests: a double comparison with a stated
 * tolerance that prints both values when it fails (this cmocka has no assert_double_equal).
 */
#ifndef HUSAI_TEST_REPORT_UTIL_H
#define HUSAI_TEST_REPORT_UTIL_H

#include <math.h>
#include <string.h>
#include <unistd.h>

static inline void close_or_fail(double a, double b, double eps, const char *ea, const char *eb,
                                 const char *file, int line)
{
	if (!(fabs(a - b) <= eps)) {
		print_error("%s:%d: %s = %.17g, %s = %.17g, |diff| %.3g > %.3g\n", file, line, ea, a,
		            eb, b, fabs(a - b), eps);
		_fail(file, line);
	}
}
/* memmem without _GNU_SOURCE: 1 if needle occurs in buf[0..n) */
static inline int has_bytes(const void *buf, size_t n, const char *needle)
{
	size_t m = strlen(needle);
	for (size_t i = 0; i + m <= n; i++)
		if (!memcmp((const char *)buf + i, needle, m))
			return 1;
	return 0;
}
#define assert_double_equal(a, b, eps) close_or_fail((a), (b), (eps), #a, #b, __FILE__, __LINE__)

#endif
