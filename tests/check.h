/*
 * The test harness (STYLE rules 14-16). A test is `TEST(sentence_like_name) { ... }`; CMake
 * registers each one with CTest on its own. Checks print the call, the expected value and
 * the value that came back, with errnos by name, and the test goes on so one run shows
 * every broken rule. A test fails if any check failed.
 */
#ifndef PM_TESTS_CHECK_H
#define PM_TESTS_CHECK_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

typedef void (*test_fn)(void);
void test_register(const char *name, test_fn fn);
void check_failed(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
const char *errno_name(long v);
/* Renders v as "-EINVAL" when it is a negative errno, else as decimal and hex. */
const char *val_str(long v, char buf[64]);
extern int test_failures;

#define TEST(name)                                                        \
	static void test_##name(void);                                    \
	__attribute__((constructor)) static void register_##name(void)    \
	{ test_register(#name, test_##name); }                            \
	static void test_##name(void)
#define SLOW_TEST(name) TEST(name)

#define EXPECT_EQ(expr, want)                                                          \
	do {                                                                           \
		long got_ = (long)(expr), want_ = (long)(want);                        \
		if (got_ != want_) {                                                   \
			char g_[64], w_[64];                                           \
			check_failed(__FILE__, __LINE__, "%s = %s, want %s", #expr,    \
				     val_str(got_, g_), val_str(want_, w_));           \
		}                                                                      \
	} while (0)

#define EXPECT_ERRNO(expr, want_neg_errno) EXPECT_EQ(expr, want_neg_errno)

#define EXPECT_TRUE(expr)                                                                  \
	do {                                                                               \
		if (!(expr))                                                               \
			check_failed(__FILE__, __LINE__, "%s is false, want true", #expr); \
	} while (0)

#define EXPECT_STREQ(got, want)                                                            \
	do {                                                                               \
		const char *g_ = (got), *w_ = (want);                                      \
		if (!g_ || strcmp(g_, w_) != 0)                                            \
			check_failed(__FILE__, __LINE__, "%s =\n%s\nwant\n%s", #got,       \
				     g_ ? g_ : "(null)", w_);                               \
	} while (0)

/* Stops the current test at once when a check that later steps depend on fails. */
#define REQUIRE_EQ(expr, want)                                        \
	do {                                                          \
		int before_ = test_failures;                          \
		EXPECT_EQ(expr, want);                                \
		if (test_failures != before_)                         \
			return;                                       \
	} while (0)

#endif
