/*
 * Page-size arithmetic and the few helpers every layer uses. Addresses are uint64_t virtual
 * addresses of a simulated process, never host pointers. Nothing here allocates.
 */
#ifndef PM_LIB_COMMON_H
#define PM_LIB_COMMON_H

#include <stdint.h>
#include <stdbool.h>
#include <stddef.h>

#define PAGE_SHIFT	12
#define PAGE_SIZE	(1ULL << PAGE_SHIFT)
#define PAGE_MASK	(~(PAGE_SIZE - 1))
#define PMD_SHIFT	21
#define PMD_SIZE	(1ULL << PMD_SHIFT)
#define PUD_SHIFT	30
#define PUD_SIZE	(1ULL << PUD_SHIFT)

static inline uint64_t page_align_up(uint64_t x) { return (x + PAGE_SIZE - 1) & PAGE_MASK; }
static inline uint64_t page_align_down(uint64_t x) { return x & PAGE_MASK; }
static inline bool page_aligned(uint64_t x) { return (x & (PAGE_SIZE - 1)) == 0; }
static inline uint64_t min_u64(uint64_t a, uint64_t b) { return a < b ? a : b; }
static inline uint64_t max_u64(uint64_t a, uint64_t b) { return a > b ? a : b; }

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif
