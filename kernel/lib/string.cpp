/*
 * kernel/lib/string.cpp — the four functions GCC may call on its own even in
 * freestanding code (memcpy, memmove, memset, memcmp; struct copies, big
 * zero-inits, __builtin_mem*), plus the ARM EABI __aeabi_mem* entry points
 * other compilers emit. For -nostdlib images: no libc is linked.
 *
 * Built with -fno-builtin -fno-tree-loop-distribute-patterns so GCC does not
 * recognise the loops below as memcpy/memset and turn them back into calls
 * to themselves. Word-sized inner loops when both pointers allow it: mm
 * zeroes whole pages with memset (__GFP_ZERO).
 */
#include <stddef.h>
#include <stdint.h>

namespace {

typedef uint32_t __attribute__((may_alias)) word_t;
constexpr size_t kWord = sizeof(word_t);

inline bool aligned(const void *p) { return (reinterpret_cast<uintptr_t>(p) & (kWord - 1)) == 0; }
inline word_t *as_words(void *p) { return static_cast<word_t *>(p); }
inline const word_t *as_words(const void *p) { return static_cast<const word_t *>(p); }

void copy_forward(unsigned char *d, const unsigned char *s, size_t n)
{
	if (n >= 4 * kWord && ((reinterpret_cast<uintptr_t>(d) ^ reinterpret_cast<uintptr_t>(s)) & (kWord - 1)) == 0) {
		while (!aligned(d)) {
			*d++ = *s++;
			--n;
		}
		word_t *dw = as_words(static_cast<void *>(d));
		const word_t *sw = as_words(static_cast<const void *>(s));
		for (; n >= 4 * kWord; n -= 4 * kWord, dw += 4, sw += 4) {
			dw[0] = sw[0];
			dw[1] = sw[1];
			dw[2] = sw[2];
			dw[3] = sw[3];
		}
		for (; n >= kWord; n -= kWord)
			*dw++ = *sw++;
		d = reinterpret_cast<unsigned char *>(dw);
		s = reinterpret_cast<const unsigned char *>(sw);
	}
	while (n-- > 0)
		*d++ = *s++;
}

void copy_backward(unsigned char *d, const unsigned char *s, size_t n)
{
	d += n;
	s += n;
	while (n-- > 0)
		*--d = *--s;
}

} // namespace

extern "C" {

void *memcpy(void *__restrict dst, const void *__restrict src, size_t n)
{
	copy_forward(static_cast<unsigned char *>(dst), static_cast<const unsigned char *>(src), n);
	return dst;
}

void *memmove(void *dst, const void *src, size_t n)
{
	uintptr_t d = reinterpret_cast<uintptr_t>(dst), s = reinterpret_cast<uintptr_t>(src);
	if (d - s >= n) /* dst before src, or no overlap: forward is safe */
		copy_forward(static_cast<unsigned char *>(dst), static_cast<const unsigned char *>(src), n);
	else
		copy_backward(static_cast<unsigned char *>(dst), static_cast<const unsigned char *>(src), n);
	return dst;
}

void *memset(void *dst, int c, size_t n)
{
	unsigned char *d = static_cast<unsigned char *>(dst);
	unsigned char byte = static_cast<unsigned char>(c);
	if (n >= 4 * kWord) {
		while (!aligned(d)) {
			*d++ = byte;
			--n;
		}
		word_t pattern = 0x01010101u * byte;
		word_t *dw = as_words(static_cast<void *>(d));
		for (; n >= 4 * kWord; n -= 4 * kWord, dw += 4) {
			dw[0] = pattern;
			dw[1] = pattern;
			dw[2] = pattern;
			dw[3] = pattern;
		}
		for (; n >= kWord; n -= kWord)
			*dw++ = pattern;
		d = reinterpret_cast<unsigned char *>(dw);
	}
	while (n-- > 0)
		*d++ = byte;
	return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const unsigned char *x = static_cast<const unsigned char *>(a);
	const unsigned char *y = static_cast<const unsigned char *>(b);
	for (; n > 0; --n, ++x, ++y)
		if (*x != *y)
			return *x < *y ? -1 : 1;
	return 0;
}

#if defined(__ARM_EABI__)
/* ARM run-time ABI names (armclang/clang emit these; GCC emits the above).
 * Note the argument order of __aeabi_memset: (dst, n, c). */
void __aeabi_memcpy(void *dst, const void *src, size_t n) { memcpy(dst, src, n); }
void __aeabi_memcpy4(void *dst, const void *src, size_t n) { memcpy(dst, src, n); }
void __aeabi_memcpy8(void *dst, const void *src, size_t n) { memcpy(dst, src, n); }
void __aeabi_memmove(void *dst, const void *src, size_t n) { memmove(dst, src, n); }
void __aeabi_memmove4(void *dst, const void *src, size_t n) { memmove(dst, src, n); }
void __aeabi_memmove8(void *dst, const void *src, size_t n) { memmove(dst, src, n); }
void __aeabi_memset(void *dst, size_t n, int c) { memset(dst, c, n); }
void __aeabi_memset4(void *dst, size_t n, int c) { memset(dst, c, n); }
void __aeabi_memset8(void *dst, size_t n, int c) { memset(dst, c, n); }
void __aeabi_memclr(void *dst, size_t n) { memset(dst, 0, n); }
void __aeabi_memclr4(void *dst, size_t n) { memset(dst, 0, n); }
void __aeabi_memclr8(void *dst, size_t n) { memset(dst, 0, n); }
#endif

} // extern "C"
