/*
 * The seeded pseudo-random generator (xoshiro256**, seeded through splitmix64). All of
 * peimm's randomness comes from one of these inside the system object, so one seed
 * reproduces one run exactly. Not for cryptography.
 */
#ifndef PM_LIB_PRNG_H
#define PM_LIB_PRNG_H

#include <stdint.h>

struct prng {
	uint64_t s[4];		/* generator state; never all zero */
};

void prng_seed(struct prng *r, uint64_t seed);
uint64_t prng_next(struct prng *r);
/* A uniform value in [0, bound); bound 0 returns 0. */
uint64_t prng_below(struct prng *r, uint64_t bound);

#endif
