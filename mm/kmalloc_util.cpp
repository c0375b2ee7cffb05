/*
 * mm/kmalloc_util.cpp — Linux's small helpers over kmalloc and the object
 * caches (kmm/slab.h): kmemdup, kvmemdup, kmemdup_array, kmemdup_nul, kstrdup,
 * kstrndup, kstrdup_const/kfree_const, krealloc_array, kmm_kmalloc_aligned
 * (and its _track_caller form) and the kvmalloc family with kvrealloc
 * (kmalloc_size_roundup and kfree_sensitive need
 * mm's insides: slab_api.cpp). Only the public C API is used; the file is
 * its own object, so an image that calls none of them links none of them.
 * The helpers that allocate for their caller pass that caller on
 * (kmalloc_track_caller), so slub_debug U and T name it, not this file.
 */
#include <kmm/kmm.h>

namespace {

size_t bounded_strlen(const char *s, size_t max)
{
	size_t n = 0;
	while (n < max && s[n] != '\0')
		++n;
	return n;
}

/* kmemdup_nul for `caller`, whom slub_debug U/T name as the allocator
 * (kmalloc_track_caller, as Linux's helpers: not this file). */
char *dup_nul(const char *s, size_t len, gfp_t gfp, const void *caller)
{
	if (s == nullptr || len == static_cast<size_t>(-1))
		return nullptr;
	char *p = static_cast<char *>(kmm_kmalloc_track_caller(len + 1, gfp, caller));
	if (p != nullptr) {
		__builtin_memcpy(p, s, len);
		p[len] = '\0';
	}
	return p;
}

} // namespace

extern "C" {


void *kmm_kmalloc_aligned_track_caller(size_t size, size_t align, gfp_t gfp, const void *caller)
{
	if (align == 0 || (align & (align - 1)) != 0)
		return nullptr;
	size_t bytes = size != 0 ? size : 1;
	if (__builtin_add_overflow(bytes, align - 1, &bytes))
		return nullptr;
	bytes &= ~(align - 1);
	const auto aligned = [align](const void *p) { return (reinterpret_cast<uintptr_t>(p) & (align - 1)) == 0; };
	void *p = kmm_kmalloc_track_caller(bytes, gfp, caller);
	if (p == nullptr || aligned(p))
		return p;
	kfree(p); /* not expected (above): a power-of-two size is aligned to itself */
	size_t pow2 = size_t{1} << (sizeof(size_t) * 8 - static_cast<unsigned>(__builtin_clzl(bytes - 1)));
	if (pow2 < bytes)
		return nullptr;
	p = kmm_kmalloc_track_caller(pow2, gfp, caller);
	if (p != nullptr && !aligned(p)) {
		kfree(p);
		p = nullptr;
	}
	return p;
}

void *kmm_kmalloc_aligned(size_t size, size_t align, gfp_t gfp)
{
	return kmm_kmalloc_aligned_track_caller(size, align, gfp, __builtin_return_address(0));
}

void *kmemdup(const void *src, size_t len, gfp_t gfp)
{
	void *p = kmalloc_track_caller(len, gfp);
	if (p != nullptr && len != 0)
		__builtin_memcpy(p, src, len);
	return p;
}

char *kmemdup_nul(const char *s, size_t len, gfp_t gfp) { return dup_nul(s, len, gfp, __builtin_return_address(0)); }

char *kstrdup(const char *s, gfp_t gfp)
{
	if (s == nullptr)
		return nullptr;
	return dup_nul(s, bounded_strlen(s, static_cast<size_t>(-2)), gfp, __builtin_return_address(0));
}

/* The firmware's read-only data (kmm/slab.h, kstrdup_const): weak, so an
 * image whose linker script does not define them links, and sees NULL. */
extern const char kmm_rodata_start[] __attribute__((weak));
extern const char kmm_rodata_end[] __attribute__((weak));

static bool in_rodata(const void *x)
{
	const uintptr_t a = reinterpret_cast<uintptr_t>(x);
	const uintptr_t lo = reinterpret_cast<uintptr_t>(kmm_rodata_start);
	const uintptr_t hi = reinterpret_cast<uintptr_t>(kmm_rodata_end);
	return lo != 0 && a >= lo && a < hi;
}

const char *kstrdup_const(const char *s, gfp_t gfp)
{
	if (s == nullptr || in_rodata(s))
		return s;
	return dup_nul(s, bounded_strlen(s, static_cast<size_t>(-2)), gfp, __builtin_return_address(0));
}

void kfree_const(const void *x)
{
	if (!in_rodata(x))
		kfree(x);
}

char *kstrndup(const char *s, size_t max, gfp_t gfp)
{
	if (s == nullptr)
		return nullptr;
	return dup_nul(s, bounded_strlen(s, max), gfp, __builtin_return_address(0));
}

void *krealloc_array(void *p, size_t n, size_t size, gfp_t gfp)
{
	size_t bytes;
	if (__builtin_mul_overflow(n, size, &bytes))
		return nullptr;
	return kmm_krealloc_track_caller(p, bytes, gfp, __builtin_return_address(0));
}

void *kvmemdup(const void *src, size_t len, gfp_t gfp)
{
	void *p = kmalloc_track_caller(len, gfp);
	if (p != nullptr && len != 0)
		__builtin_memcpy(p, src, len);
	return p;
}

void *kmemdup_array(const void *src, size_t count, size_t element_size, gfp_t gfp)
{
	size_t len;
	if (__builtin_mul_overflow(count, element_size, &len))
		return nullptr;
	void *p = kmalloc_track_caller(len, gfp);
	if (p != nullptr && len != 0)
		__builtin_memcpy(p, src, len);
	return p;
}

void *kvrealloc(const void *p, size_t size, gfp_t gfp)
{
	return kmm_krealloc_track_caller(p, size, gfp, __builtin_return_address(0));
}

/* The kv forms pass their caller on themselves rather than rely on a tail
 * call into kmalloc (an -O0 build makes none, and recorded this file). */
void *kvmalloc(size_t size, gfp_t gfp) { return kmalloc_track_caller(size, gfp); }
void *kvzalloc(size_t size, gfp_t gfp) { return kmalloc_track_caller(size, gfp | __GFP_ZERO); }
void *kvmalloc_array(size_t n, size_t size, gfp_t gfp)
{
	size_t bytes;
	if (__builtin_mul_overflow(n, size, &bytes))
		return nullptr;
	return kmalloc_track_caller(bytes, gfp);
}
void *kvcalloc(size_t n, size_t size, gfp_t gfp)
{
	size_t bytes;
	if (__builtin_mul_overflow(n, size, &bytes))
		return nullptr;
	return kmalloc_track_caller(bytes, gfp | __GFP_ZERO);
}
void kvfree(const void *p) { kfree(p); }

} // extern "C"
