/*
 * tests/host/support/poke.h — writes into memory kmm marks unaddressable
 * (red zones, free objects) on purpose, as the corruption tests must: on
 * ASan builds the byte is unpoisoned first, so the test itself is not the
 * error ASan reports; kmm's checks then find the damage.
 */
#ifndef KMM_TESTS_SUPPORT_POKE_H
#define KMM_TESTS_SUPPORT_POKE_H

#include <cstddef>
#include <cstdint>
#include <cstring>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#define KMM_TEST_ASAN 1
#else
#define KMM_TEST_ASAN 0
#endif

namespace kmm_test {

inline void poke(void *addr, uint8_t v)
{
#if KMM_TEST_ASAN
	__asan_unpoison_memory_region(addr, 1);
#endif
	*static_cast<volatile uint8_t *>(addr) = v;
}
inline uint8_t peek(const void *addr)
{
#if KMM_TEST_ASAN
	__asan_unpoison_memory_region(addr, 1);
#endif
	return *static_cast<const volatile uint8_t *>(addr);
}
inline void poke_bytes(void *addr, const void *src, size_t n)
{
	for (size_t i = 0; i < n; ++i)
		poke(static_cast<char *>(addr) + i, static_cast<const uint8_t *>(src)[i]);
}
inline void peek_bytes(const void *addr, void *dst, size_t n)
{
	for (size_t i = 0; i < n; ++i)
		static_cast<uint8_t *>(dst)[i] = peek(static_cast<const char *>(addr) + i);
}

} // namespace kmm_test

#endif
