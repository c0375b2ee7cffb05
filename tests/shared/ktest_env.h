/*
 * tests/shared/ktest_env.h — what a shared test may ask about the system it
 * runs on, beyond kmm's own API: which RAM belongs to which zone. The
 * kernel answers from the board's memory map (kernel/ktest.cpp); the host
 * test binary from the arenas it handed to kmm (tests/host/test_shared.cpp).
 */
#ifndef KMM_TESTS_SHARED_KTEST_ENV_H
#define KMM_TESTS_SHARED_KTEST_ENV_H

#include <stddef.h>
#include <stdint.h>

/* Bytes of RAM handed to kmm in `zone` (KMM_ZONE_NORMAL, KMM_ZONE_DMA). */
size_t ktest_env_zone_bytes(unsigned int zone);
/* Whether addr lies in a region of `zone`. */
bool ktest_env_in_zone(uintptr_t addr, unsigned int zone);

#endif /* KMM_TESTS_SHARED_KTEST_ENV_H */
