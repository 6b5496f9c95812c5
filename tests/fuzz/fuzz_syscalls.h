/*
 * The fuzz target's entry points: pm_fuzz_one runs one input (see fuzz_syscalls.c) and
 * aborts on a broken invariant or a leak; LLVMFuzzerTestOneInput is libFuzzer's name for it.
 */
#ifndef PM_TESTS_FUZZ_SYSCALLS_H
#define PM_TESTS_FUZZ_SYSCALLS_H

#include <stddef.h>
#include <stdint.h>

int pm_fuzz_one(const uint8_t *data, size_t len);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
