/*
 * tests/host/test_libc_shim_caller.cpp — the libc shim (kernel/lib/
 * libc_shim.cpp, new_delete.cpp) records the firmware's call site, not
 * itself, as the code that allocated each object: with slub_debug T on a
 * kmalloc class, the TRACE line of an object from malloc, calloc, realloc,
 * the aligned forms, newlib's _r forms or any operator new names the
 * caller of that function (what U's track and a leak report show too).
 * The shim's objects are linked with every symbol renamed kmm_shim_<name>
 * (rename_shim_symbols.cmake), so this binary keeps the host's malloc.
 */
#include <gtest/gtest.h>

#include <new>
#include <string>

#include <kmm/kmm.h>

#include "support/arena.h"
#include "support/global_kmm.h"

/* The shim's entry points, renamed (C++ ones by their mangled names). */
extern "C" {
void *kmm_shim_malloc(size_t size);
void *kmm_shim_calloc(size_t n, size_t size);
void *kmm_shim_realloc(void *p, size_t size);
void *kmm_shim_reallocf(void *p, size_t size);
void *kmm_shim_aligned_alloc(size_t align, size_t size);
int kmm_shim_posix_memalign(void **out, size_t align, size_t size);
void *kmm_shim_memalign(size_t align, size_t size);
void *kmm_shim_valloc(size_t size);
void *kmm_shim_pvalloc(size_t size);
void *kmm_shim__malloc_r(void *reent, size_t size);
void *kmm_shim__calloc_r(void *reent, size_t n, size_t size);
void *kmm_shim__realloc_r(void *reent, void *p, size_t size);
void *kmm_shim__reallocf_r(void *reent, void *p, size_t size);
void *kmm_shim__memalign_r(void *reent, size_t align, size_t size);
void *kmm_shim__valloc_r(void *reent, size_t size);
void *kmm_shim__pvalloc_r(void *reent, size_t size);
void kmm_shim_free(void *p);
/* operator new / new[]: plain, nothrow, aligned, aligned + nothrow */
void *kmm_shim__Znwm(size_t size);
void *kmm_shim__Znam(size_t size);
void *kmm_shim__ZnwmRKSt9nothrow_t(size_t size, const std::nothrow_t &);
void *kmm_shim__ZnamRKSt9nothrow_t(size_t size, const std::nothrow_t &);
void *kmm_shim__ZnwmSt11align_val_t(size_t size, std::align_val_t align);
void *kmm_shim__ZnamSt11align_val_t(size_t size, std::align_val_t align);
void *kmm_shim__ZnwmSt11align_val_tRKSt9nothrow_t(size_t size, std::align_val_t align, const std::nothrow_t &);
void *kmm_shim__ZnamSt11align_val_tRKSt9nothrow_t(size_t size, std::align_val_t align, const std::nothrow_t &);
}
static_assert(sizeof(size_t) == sizeof(unsigned long), "the mangled names above take size_t as unsigned long (m)");

namespace {

constexpr size_t kArenaBytes = size_t{8} << 20;
constexpr size_t kSize = 20; /* kmalloc-32, whatever the minimum alignment */

class LibcShimCaller : public kmm_test::GlobalKmm {
protected:
	LibcShimCaller() : GlobalKmm(kArenaBytes) {}
};

/* Each call site, in a function of its own: the traced caller must lie
 * inside it. `old` is a block to realloc (a moving one) or NULL. */
#define SHIM_CALL(name, expr)                                                                                          \
	__attribute__((noinline)) void *name(void *old)                                                                \
	{                                                                                                              \
		(void)old;                                                                                             \
		void *q = (expr);                                                                                      \
		__asm__ __volatile__("" : : "r"(q) : "memory"); /* no tail call */                                     \
		return q;                                                                                              \
	}

SHIM_CALL(call_malloc, kmm_shim_malloc(kSize))
SHIM_CALL(call_calloc, kmm_shim_calloc(4, kSize / 4))
SHIM_CALL(call_realloc_null, kmm_shim_realloc(nullptr, kSize))
SHIM_CALL(call_realloc_grow, kmm_shim_realloc(old, kSize))
SHIM_CALL(call_realloc_shrink, kmm_shim_realloc(old, kSize))
SHIM_CALL(call_reallocf_grow, kmm_shim_reallocf(old, kSize))
SHIM_CALL(call_aligned_alloc, kmm_shim_aligned_alloc(32, kSize))
SHIM_CALL(call_aligned_alloc_small, kmm_shim_aligned_alloc(8, kSize))
__attribute__((noinline)) void *call_posix_memalign(void *)
{
	void *q = nullptr;
	int rc = kmm_shim_posix_memalign(&q, 32, kSize);
	__asm__ __volatile__("" : : "r"(rc), "r"(q) : "memory");
	return q;
}
SHIM_CALL(call_memalign, kmm_shim_memalign(32, kSize))
SHIM_CALL(call_memalign_small, kmm_shim_memalign(8, kSize))
SHIM_CALL(call_valloc, kmm_shim_valloc(kSize))
SHIM_CALL(call_pvalloc, kmm_shim_pvalloc(kSize))
SHIM_CALL(call_malloc_r, kmm_shim__malloc_r(nullptr, kSize))
SHIM_CALL(call_calloc_r, kmm_shim__calloc_r(nullptr, 4, kSize / 4))
SHIM_CALL(call_realloc_r_grow, kmm_shim__realloc_r(nullptr, old, kSize))
SHIM_CALL(call_reallocf_r_grow, kmm_shim__reallocf_r(nullptr, old, kSize))
SHIM_CALL(call_memalign_r, kmm_shim__memalign_r(nullptr, 32, kSize))
SHIM_CALL(call_valloc_r, kmm_shim__valloc_r(nullptr, kSize))
SHIM_CALL(call_pvalloc_r, kmm_shim__pvalloc_r(nullptr, kSize))
SHIM_CALL(call_new, kmm_shim__Znwm(kSize))
SHIM_CALL(call_new_array, kmm_shim__Znam(kSize))
SHIM_CALL(call_new_nothrow, kmm_shim__ZnwmRKSt9nothrow_t(kSize, std::nothrow))
SHIM_CALL(call_new_array_nothrow, kmm_shim__ZnamRKSt9nothrow_t(kSize, std::nothrow))
SHIM_CALL(call_new_aligned, kmm_shim__ZnwmSt11align_val_t(kSize, std::align_val_t{32}))
SHIM_CALL(call_new_array_aligned, kmm_shim__ZnamSt11align_val_t(kSize, std::align_val_t{32}))
SHIM_CALL(call_new_aligned_small, kmm_shim__ZnwmSt11align_val_t(kSize, std::align_val_t{8}))
SHIM_CALL(call_new_aligned_nothrow, kmm_shim__ZnwmSt11align_val_tRKSt9nothrow_t(kSize, std::align_val_t{32}, std::nothrow))
SHIM_CALL(call_new_array_aligned_nothrow,
	  kmm_shim__ZnamSt11align_val_tRKSt9nothrow_t(kSize, std::align_val_t{32}, std::nothrow))

enum class Old { kNone, kSmall, kLarge }; /* the block realloc starts from */

struct Case {
	const char *name;
	void *(*call)(void *);
	Old old;
	bool page; /* page-aligned: the PAGE_SIZE class */
};

const Case kCases[] = {
	{"malloc", call_malloc, Old::kNone, false},
	{"calloc", call_calloc, Old::kNone, false},
	{"realloc(NULL)", call_realloc_null, Old::kNone, false},
	{"realloc (moves up)", call_realloc_grow, Old::kSmall, false},
	{"realloc (moves down)", call_realloc_shrink, Old::kLarge, false},
	{"reallocf (moves up)", call_reallocf_grow, Old::kSmall, false},
	{"aligned_alloc(32)", call_aligned_alloc, Old::kNone, false},
	{"aligned_alloc(8)", call_aligned_alloc_small, Old::kNone, false},
	{"posix_memalign(32)", call_posix_memalign, Old::kNone, false},
	{"memalign(32)", call_memalign, Old::kNone, false},
	{"memalign(8)", call_memalign_small, Old::kNone, false},
	{"valloc", call_valloc, Old::kNone, true},
	{"pvalloc", call_pvalloc, Old::kNone, true},
	{"_malloc_r", call_malloc_r, Old::kNone, false},
	{"_calloc_r", call_calloc_r, Old::kNone, false},
	{"_realloc_r (moves up)", call_realloc_r_grow, Old::kSmall, false},
	{"_reallocf_r (moves up)", call_reallocf_r_grow, Old::kSmall, false},
	{"_memalign_r(32)", call_memalign_r, Old::kNone, false},
	{"_valloc_r", call_valloc_r, Old::kNone, true},
	{"_pvalloc_r", call_pvalloc_r, Old::kNone, true},
	{"new", call_new, Old::kNone, false},
	{"new[]", call_new_array, Old::kNone, false},
	{"new(nothrow)", call_new_nothrow, Old::kNone, false},
	{"new[](nothrow)", call_new_array_nothrow, Old::kNone, false},
	{"new(align 32)", call_new_aligned, Old::kNone, false},
	{"new[](align 32)", call_new_array_aligned, Old::kNone, false},
	{"new(align 8)", call_new_aligned_small, Old::kNone, false},
	{"new(align 32, nothrow)", call_new_aligned_nothrow, Old::kNone, false},
	{"new[](align 32, nothrow)", call_new_array_aligned_nothrow, Old::kNone, false},
};

/* How far into a call function its call site may lie: the functions are
 * a few dozen bytes, but ASan's stack instrumentation (call_posix_memalign's
 * &q) puts the call near 190 bytes in. The shim's code, which a wrong
 * record would name, is in other objects, far from these functions. */
constexpr uintptr_t kCallSiteWindow = 512;

/* The caller a T line names, parsed from "... caller=0x...". */
uintptr_t traced_caller(const std::string &line)
{
	size_t at = line.find("caller=");
	return at == std::string::npos ? 0 : std::stoull(line.substr(at + 7), nullptr, 16);
}

TEST_F(LibcShimCaller, EveryAllocatingEntryTracesItsCaller)
{
	static_assert(PAGE_SIZE == 4096, "valloc's class below: kmalloc-4k");
	const std::string page_class = "kmalloc-4k";
	const std::string option = "T,kmalloc-32," + page_class;
	ASSERT_EQ(kmm_slub_debug(option.c_str()), 0); /* before the first slab use */
	for (const Case &c : kCases) {
		void *old = nullptr;
		if (c.old == Old::kSmall)
			old = kmalloc(16, GFP_KERNEL); /* kmalloc-16: untraced */
		else if (c.old == Old::kLarge)
			old = kmalloc(100, GFP_KERNEL); /* kmalloc-128: shrinks by a move */
		ASSERT_TRUE(c.old == Old::kNone || old != nullptr) << c.name;
		cap.clear();
		void *p = c.call(old);
		ASSERT_NE(p, nullptr) << c.name;
		EXPECT_EQ(ksize(p), c.page ? size_t{PAGE_SIZE} : 32u) << c.name;
		const std::string prefix = "TRACE " + (c.page ? page_class : std::string("kmalloc-32")) + " alloc ";
		std::string alloc_line;
		for (const auto &l : cap.lines)
			if (l.find(prefix) != std::string::npos)
				alloc_line = l;
		ASSERT_FALSE(alloc_line.empty()) << c.name;
		const auto here = reinterpret_cast<uintptr_t>(c.call);
		uintptr_t caller = traced_caller(alloc_line);
		EXPECT_TRUE(caller >= here && caller < here + kCallSiteWindow)
			<< c.name << ": " << alloc_line << " does not name the caller (" << kmm_test::hex(here) << ")";
		kmm_shim_free(p);
	}
	EXPECT_EQ(kmm_bug_count(), 0u);
	kmm_slub_debug("");
}

} // namespace
