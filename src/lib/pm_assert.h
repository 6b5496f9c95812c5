/*
 * The two strengths of assertion (STYLE rule 11). PM_ASSERT is compiled into debug builds
 * only and guards cheap preconditions. PM_ENFORCE stays on in every build and aborts: it
 * guards invariants whose breach would leak data or break isolation (an unzeroed frame,
 * a W+X PTE under W^X, a mapcount underflow). Code never continues past a broken invariant.
 */
#ifndef PM_LIB_ASSERT_H
#define PM_LIB_ASSERT_H

_Noreturn void pm_assert_fail(const char *expr, const char *file, int line, const char *func);

#define PM_ENFORCE(expr) \
	((expr) ? (void)0 : pm_assert_fail(#expr, __FILE__, __LINE__, __func__))

#ifdef PM_DEBUG
#define PM_ASSERT(expr) PM_ENFORCE(expr)
#else
#define PM_ASSERT(expr) ((void)0)
#endif

#endif
