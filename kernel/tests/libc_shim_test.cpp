/*
 * kernel/tests/libc_shim_test.cpp — self-tests of the libc allocator shim
 * (kernel/lib/libc_shim.cpp, kernel/lib/new_delete.cpp) in the kernel
 * images built with KMM_LIBC_SHIM: malloc & co. and every form of C++
 * new/delete return kmm objects (ksize > 0) with the promised alignment,
 * and the edge cases (size 0, overflow, bad alignment, realloc) behave as
 * documented; a failed new calls the std::new_handler and retries;
 * mallinfo and malloc_trim tell and give back kmm's free pages; a global
 * constructor may use new and malloc (kernel/boot.cpp
 * starts mm before the constructors). Kernel-only: the host test binary keeps its libc's malloc.
 */
#include <kernel/ktest.h>
#include <kmm/kmm.h>

#include "../lib/cxx_new.h"

#include "../lib/libc_shim.h"
#include "ktest_shared.h" /* tests/shared: take_all_pages, filled */

namespace {

uintptr_t addr(const void *p) { return reinterpret_cast<uintptr_t>(p); }

void malloc_family(struct ktest *t)
{
	void *p = malloc(100);
	KTEST_ASSERT_NOT_NULL(t, p);
	KTEST_EXPECT_GE(t, ksize(p), 100);
	KTEST_EXPECT_EQ(t, malloc_usable_size(p), ksize(p));
	KTEST_EXPECT_EQ(t, addr(p) % KMM_LIBC_SHIM_MIN_ALIGN, 0);
	__builtin_memset(p, 0x5c, 100);
	p = realloc(p, 3000);
	KTEST_ASSERT_NOT_NULL(t, p);
	KTEST_EXPECT_EQ(t, static_cast<unsigned char *>(p)[99], 0x5c);
	KTEST_EXPECT_NULL(t, realloc(p, 0)); /* frees p */
	void *z = malloc(0);                 /* unique and freeable */
	void *z2 = malloc(0);
	KTEST_EXPECT_NOT_NULL(t, z);
	KTEST_EXPECT_NE(t, z, z2);
	KTEST_EXPECT_NE(t, z, ZERO_SIZE_PTR);
	free(z);
	free(z2);
	free(nullptr);
	void *r = realloc(nullptr, 24);
	KTEST_EXPECT_NOT_NULL(t, r);
	free(r);
	/* ZERO_SIZE_PTR (ported code's kmalloc(0)) is realloc'ed as NULL is */
	void *zr = realloc(ZERO_SIZE_PTR, 24);
	KTEST_EXPECT_NOT_NULL(t, zr);
	KTEST_EXPECT_NE(t, zr, ZERO_SIZE_PTR);
	free(zr);
}

/* Small requests held at once (a freed block would come back to the next
 * call, aligned or not): every one aligned to KMM_LIBC_SHIM_MIN_ALIGN,
 * whichever form asked (on 64-bit, sizes 1..8 used to land in kmalloc-8,
 * 8-aligned). pvalloc's page round-up must not wrap to 0. */
void small_requests_keep_the_minimum_alignment(struct ktest *t)
{
	constexpr unsigned kHeld = 16;
	void *held[4][kHeld] = {};
	const size_t sizes[] = {0, 1, 4, 8};
	size_t misaligned = 0;
	for (size_t size : sizes) {
		for (unsigned i = 0; i < kHeld; ++i) {
			held[0][i] = malloc(size);
			held[1][i] = aligned_alloc(KMM_LIBC_SHIM_MIN_ALIGN, size);
			KTEST_EXPECT_EQ(t, posix_memalign(&held[2][i], KMM_LIBC_SHIM_MIN_ALIGN, size), 0);
			held[3][i] = ::operator new(size, std::align_val_t{KMM_LIBC_SHIM_MIN_ALIGN});
			for (auto &form : held)
				misaligned += form[i] == nullptr || addr(form[i]) % KMM_LIBC_SHIM_MIN_ALIGN != 0;
		}
		for (unsigned i = 0; i < kHeld; ++i) {
			free(held[0][i]);
			free(held[1][i]);
			free(held[2][i]);
			::operator delete(held[3][i], std::align_val_t{KMM_LIBC_SHIM_MIN_ALIGN});
		}
	}
	KTEST_EXPECT_EQ(t, misaligned, 0);
	KTEST_EXPECT_NULL(t, pvalloc(~size_t{0} - 10));
	void *pv = pvalloc(1);
	KTEST_ASSERT_NOT_NULL(t, pv);
	KTEST_EXPECT_EQ(t, addr(pv) % PAGE_SIZE, 0);
	free(pv);
}

void calloc_zeroes_and_checks_overflow(struct ktest *t)
{
	const unsigned char *c = static_cast<const unsigned char *>(calloc(33, 7));
	KTEST_ASSERT_NOT_NULL(t, c);
	size_t nonzero = 0;
	for (size_t i = 0; i < 33 * 7; ++i)
		nonzero += c[i] != 0;
	KTEST_EXPECT_EQ(t, nonzero, 0);
	free(const_cast<unsigned char *>(c));
	KTEST_EXPECT_NULL(t, calloc(~size_t{0} / 2, 3));
	void *c0 = calloc(0, 8);
	KTEST_EXPECT_NOT_NULL(t, c0);
	free(c0);
}

void aligned_forms(struct ktest *t)
{
	for (size_t align = 1; align <= 4 * PAGE_SIZE; align <<= 1) {
		const size_t sizes[] = {1, 24, align, align + 1, 3 * align / 2 + 1};
		for (size_t size : sizes) {
			void *a = aligned_alloc(align, size);
			if (KTEST_EXPECT_NOT_NULL(t, a)) {
				KTEST_EXPECT_EQ(t, addr(a) % align, 0);
				KTEST_EXPECT_GE(t, ksize(a), size);
				static_cast<unsigned char *>(a)[size - 1] = 1;
			}
			free(a);
			void *m = memalign(align, size);
			KTEST_EXPECT_NOT_NULL(t, m);
			KTEST_EXPECT_EQ(t, addr(m) % align, 0);
			free(m);
			void *pm = nullptr;
			if (align >= sizeof(void *)) {
				KTEST_EXPECT_EQ(t, posix_memalign(&pm, align, size), 0);
				KTEST_EXPECT_EQ(t, addr(pm) % align, 0);
				free(pm);
			}
		}
	}
	void *bad = nullptr;
	KTEST_EXPECT_EQ(t, posix_memalign(&bad, 24, 8), 22);                /* EINVAL: not a power of two */
	KTEST_EXPECT_EQ(t, posix_memalign(&bad, sizeof(void *) / 2, 8), 22); /* EINVAL: below sizeof(void *) */
	KTEST_EXPECT_NULL(t, bad);
	KTEST_EXPECT_NULL(t, aligned_alloc(48, 96));
	KTEST_EXPECT_NULL(t, aligned_alloc(0, 8));
	/* memalign, the legacy form, is lenient as newlib's and glibc's: 0 or
	 * a small alignment is malloc, any other is rounded up to a power of
	 * two */
	void *m0 = memalign(0, 8);
	KTEST_EXPECT_NOT_NULL(t, m0);
	KTEST_EXPECT_EQ(t, addr(m0) % KMM_LIBC_SHIM_MIN_ALIGN, 0);
	void *m48 = memalign(48, 96);
	KTEST_EXPECT_NOT_NULL(t, m48);
	KTEST_EXPECT_EQ(t, addr(m48) % 64, 0);
	KTEST_EXPECT_NULL(t, memalign(~size_t{0} / 2 + 2, 8)); /* rounds up past size_t: refused */
	free(m0);
	free(m48);
}

/* A realloc to half the usable size or less moves to a block of the new
 * size, so a buffer allocated for the worst case and shrunk to fit gives
 * its memory back (krealloc alone keeps the block); the data stays. */
void realloc_shrink_gives_memory_back(struct ktest *t)
{
	size_t big = 2 * kmalloc_max_cache_size(); /* a large block: pages */
	unsigned char *p = static_cast<unsigned char *>(malloc(big));
	KTEST_ASSERT_NOT_NULL(t, p);
	for (size_t i = 0; i < 40; ++i)
		p[i] = static_cast<unsigned char>(i + 1);
	size_t free_before = kmm_free_pages();
	unsigned char *q = static_cast<unsigned char *>(realloc(p, 40));
	KTEST_ASSERT_NOT_NULL(t, q);
	KTEST_EXPECT_LT(t, ksize(q), big / 2);
	KTEST_EXPECT_GT(t, kmm_free_pages(), free_before);
	size_t wrong = 0;
	for (size_t i = 0; i < 40; ++i)
		wrong += static_cast<size_t>(q[i]) != i + 1;
	KTEST_EXPECT_EQ(t, wrong, 0);
	/* a shrink by less than half stays in place (40 B: kmalloc-64) */
	unsigned char *r = static_cast<unsigned char *>(realloc(q, 33));
	KTEST_EXPECT_EQ(t, r, q);
	/* reallocf, cfree, valloc: the other names */
	void *g = reallocf(r, 300);
	KTEST_ASSERT_NOT_NULL(t, g);
	KTEST_EXPECT_EQ(t, static_cast<unsigned char *>(g)[29], 30);
	cfree(g);
	void *v = valloc(1);
	KTEST_EXPECT_NOT_NULL(t, v);
	KTEST_EXPECT_EQ(t, addr(v) % PAGE_SIZE, 0);
	free(v);
}

/* Holds every free object of kmalloc(size)'s class: kmalloc until an
 * object of another class comes back (kmalloc serves an empty class from
 * a larger one when no page is left) or none; that one is freed again.
 * The held objects are chained through their first word onto *chain. */
void empty_class(size_t size, void **chain)
{
	const size_t class_size = kmalloc_size_roundup(size);
	while (void **o = static_cast<void **>(kmalloc(size, GFP_KERNEL | ktest_shared::kQuiet))) {
		if (ksize(o) != class_size) {
			kfree(o);
			return;
		}
		*o = *chain;
		*chain = o;
	}
}

/* Under memory pressure the shrinking realloc's smaller block may come
 * from a larger class (kmalloc's fallback): realloc must not move the data
 * into a block as large as the old one or larger (that gives nothing back
 * and may take more); it keeps p then. Here: no page left, the classes of
 * 90 (96), 100 (128) and 150 (192) bytes empty, a free object in kmalloc-256,
 * and p a 150-byte block shrunk to 90. */
void realloc_shrink_never_takes_a_larger_block(struct ktest *t)
{
	unsigned char *p = static_cast<unsigned char *>(malloc(150));
	KTEST_ASSERT_NOT_NULL(t, p);
	__builtin_memset(p, 0x42, 150);
	const size_t old = ksize(p);
	/* kmalloc-256: spare is freed below, the larger class's free object;
	 * a neighbour in its slab stays, so that slab never becomes empty
	 * (reclaim would give its page to the small class) */
	void *spare = malloc(200);
	void *neighbour = nullptr;
	for (unsigned i = 0; i < 64 && spare != nullptr; ++i) {
		neighbour = malloc(200);
		if (neighbour == nullptr || virt_to_head_page(neighbour) == virt_to_head_page(spare))
			break;
		free(spare); /* a slab's last slot: move on to the next slab */
		spare = neighbour;
		neighbour = nullptr;
	}
	if (neighbour == nullptr) { /* one object per slab (256 B pages): no such setup */
		free(spare);
		free(p);
		return;
	}
	kmm_slab_shrink_all(); /* no empty slab left for reclaim */
	kmm_drain_pages();
	size_t count;
	void *pages = ktest_shared::take_all_pages(count);
	void *held = nullptr;
	empty_class(90, &held);
	empty_class(100, &held);
	empty_class(150, &held);
	free(spare);
	unsigned char *q = static_cast<unsigned char *>(realloc(p, 90));
	KTEST_ASSERT_NOT_NULL(t, q);
	KTEST_EXPECT_LE(t, ksize(q), old);
	KTEST_EXPECT_TRUE(t, ktest_shared::filled(q, 90, 0x42));
	free(q);
	while (held != nullptr) {
		void *next = *static_cast<void **>(held);
		kfree(held);
		held = next;
	}
	free(neighbour);
	ktest_shared::give_back(pages);
}

/* realloc and reallocf of a pointer kmm never handed out: one report
 * each (reallocf does not free it a second time), NULL, nothing freed. */
void realloc_of_foreign_pointer_reported_once(struct ktest *t)
{
	static char foreign[32];
	t->expected_bugs = 2;
	size_t free_before = kmm_free_pages();
	KTEST_EXPECT_NULL(t, realloc(foreign, 64));
	KTEST_EXPECT_NULL(t, reallocf(foreign, 64));
	KTEST_EXPECT_EQ(t, kmm_free_pages(), free_before);
}

struct alignas(64) Line {
	unsigned char bytes[64];
};

void cxx_new_delete_forms(struct ktest *t)
{
	int *one = new int(7);
	KTEST_EXPECT_GE(t, ksize(one), sizeof(int));
	delete one;
	int *many = new int[50];
	KTEST_EXPECT_GE(t, ksize(many), 50 * sizeof(int));
	delete[] many;
	int *nothrow_one = new (std::nothrow) int(3);
	KTEST_EXPECT_NOT_NULL(t, nothrow_one);
	delete nothrow_one;
	char *nothrow_many = new (std::nothrow) char[300];
	KTEST_EXPECT_NOT_NULL(t, nothrow_many);
	delete[] nothrow_many;
	/* Over-aligned types: the align_val_t forms. */
	Line *line = new Line;
	KTEST_EXPECT_EQ(t, addr(line) % 64, 0);
	delete line;
	Line *lines = new Line[5];
	KTEST_EXPECT_EQ(t, addr(lines) % 64, 0);
	delete[] lines;
	Line *nothrow_line = new (std::nothrow) Line;
	KTEST_EXPECT_EQ(t, addr(nothrow_line) % 64, 0);
	delete nothrow_line;
	/* The explicit calls, every delete form included. */
	void *p = ::operator new(40);
	::operator delete(p, size_t{40});
	p = ::operator new[](40);
	::operator delete[](p, size_t{40});
	p = ::operator new(40, std::nothrow);
	::operator delete(p, std::nothrow);
	p = ::operator new[](40, std::nothrow);
	::operator delete[](p, std::nothrow);
	p = ::operator new(100, std::align_val_t{128});
	KTEST_EXPECT_EQ(t, addr(p) % 128, 0);
	::operator delete(p, std::align_val_t{128});
	p = ::operator new[](100, std::align_val_t{256});
	KTEST_EXPECT_EQ(t, addr(p) % 256, 0);
	::operator delete[](p, std::align_val_t{256});
	p = ::operator new(100, std::align_val_t{128}, std::nothrow);
	::operator delete(p, size_t{100}, std::align_val_t{128});
	p = ::operator new[](100, std::align_val_t{128}, std::nothrow);
	::operator delete[](p, size_t{100}, std::align_val_t{128});
	p = ::operator new(100, std::align_val_t{PAGE_SIZE}, std::nothrow);
	KTEST_EXPECT_EQ(t, addr(p) % PAGE_SIZE, 0);
	::operator delete(p, std::align_val_t{PAGE_SIZE}, std::nothrow);
	p = ::operator new[](10, std::align_val_t{64}, std::nothrow);
	::operator delete[](p, std::align_val_t{64}, std::nothrow);
	/* Out of memory: nothrow forms give NULL. */
	KTEST_EXPECT_NULL(t, ::operator new((PAGE_SIZE << KMM_MAX_ORDER) + 1, std::nothrow));
}

/* std::set_new_handler: a failed new calls the handler and retries while
 * one is installed. The test takes every free block of the largest order
 * it can get (each one links to the next), so a new of that size fails. */
struct page *g_reserve;  /* the held blocks, linked through their first word */
unsigned g_handler_calls;

void give_back_one_block()
{
	++g_handler_calls;
	struct page *p = g_reserve;
	if (p == nullptr) { /* nothing left to give: uninstall, so new fails (panics) instead of looping */
		std::set_new_handler(nullptr);
		return;
	}
	g_reserve = *static_cast<struct page **>(page_address(p));
	__free_pages(p, compound_order(p));
}

void give_up_after_two_calls()
{
	if (++g_handler_calls == 2)
		std::set_new_handler(nullptr);
}

/* An alignment that is not a power of two is misuse, not out of memory:
 * the nothrow aligned forms return NULL without calling the new_handler
 * (one at or below KMM_LIBC_SHIM_MIN_ALIGN — 0, 3, 12 on 64-bit — used to
 * be served as a plain new), and the throwing forms panic saying so
 * ("operator new: alignment is not a power of two"), where they said
 * "out of memory" (new_delete.cpp; a panic ends the image, so that half is
 * not run here). */
void aligned_new_with_a_bad_alignment_fails(struct ktest *t)
{
	kmm_slab_shrink_all();
	kmm_drain_pages();
	const size_t free0 = kmm_free_pages();
	g_handler_calls = 0;
	std::new_handler old = std::set_new_handler(give_up_after_two_calls);
	const size_t bad[] = {0, 3, 12, 24, 3 * PAGE_SIZE};
	for (size_t a : bad) {
		KTEST_EXPECT_NULL(t, ::operator new(40, std::align_val_t{a}, std::nothrow));
		KTEST_EXPECT_NULL(t, ::operator new[](40, std::align_val_t{a}, std::nothrow));
	}
	std::set_new_handler(old);
	KTEST_EXPECT_EQ(t, g_handler_calls, 0);
	kmm_slab_shrink_all();
	kmm_drain_pages();
	KTEST_EXPECT_EQ(t, kmm_free_pages(), free0);
}

void new_handler_is_called_and_new_retries(struct ktest *t)
{
	kmm_slab_shrink_all();
	kmm_drain_pages();
	unsigned order = KMM_MAX_ORDER + 1;
	struct page *first = nullptr;
	while (first == nullptr && order > 2)
		first = alloc_pages(GFP_KERNEL | __GFP_COMP | __GFP_NOWARN, --order);
	/* More than two pages, so that new of that size is a page block. */
	KTEST_ASSERT_NOT_NULL(t, first);
	g_reserve = first;
	*static_cast<struct page **>(page_address(first)) = nullptr;
	unsigned held = 1;
	while (struct page *p = alloc_pages(GFP_KERNEL | __GFP_COMP | __GFP_NOWARN, order)) {
		*static_cast<struct page **>(page_address(p)) = g_reserve;
		g_reserve = p;
		++held;
	}
	const size_t bytes = PAGE_SIZE << order;
	size_t free_before = kmm_free_pages();

	/* Nothrow, the handler gives up on its second call: NULL after two. */
	g_handler_calls = 0;
	KTEST_EXPECT_NULL(t, std::set_new_handler(give_up_after_two_calls));
	KTEST_EXPECT_NULL(t, ::operator new(bytes, std::nothrow));
	KTEST_EXPECT_EQ(t, g_handler_calls, 2);
	KTEST_EXPECT_NULL(t, std::get_new_handler());

	/* Throwing form: the handler frees one block, the retry gets it. */
	g_handler_calls = 0;
	std::set_new_handler(give_back_one_block);
	KTEST_EXPECT_EQ(t, std::get_new_handler(), give_back_one_block);
	void *p = ::operator new(bytes);
	KTEST_EXPECT_EQ(t, g_handler_calls, 1);
	KTEST_EXPECT_GE(t, ksize(p), bytes);
	KTEST_EXPECT_EQ(t, kmm_free_pages(), free_before); /* its block, handed on */
	::operator delete(p);
	/* The aligned form goes the same way (the block just freed is held
	 * again first). */
	struct page *again = alloc_pages(GFP_KERNEL | __GFP_COMP | __GFP_NOWARN, order);
	KTEST_ASSERT_NOT_NULL(t, again);
	*static_cast<struct page **>(page_address(again)) = g_reserve;
	g_reserve = again;
	g_handler_calls = 0;
	p = ::operator new[](bytes, std::align_val_t{2 * KMM_LIBC_SHIM_MIN_ALIGN});
	KTEST_EXPECT_EQ(t, g_handler_calls, 1);
	KTEST_EXPECT_EQ(t, addr(p) % (2 * KMM_LIBC_SHIM_MIN_ALIGN), 0);
	::operator delete[](p, std::align_val_t{2 * KMM_LIBC_SHIM_MIN_ALIGN});
	KTEST_EXPECT_EQ(t, std::set_new_handler(nullptr), give_back_one_block);
	while (g_reserve != nullptr)
		give_back_one_block();
	std::set_new_handler(nullptr);
	KTEST_EXPECT_EQ(t, kmm_free_pages(), free_before + (held << order)); /* every block back */
	KTEST_EXPECT_EQ(t, kmm_validate(), 0);
}

/* newlib's <malloc.h> calls: page-level mallinfo, trim, mallopt. */
void mallinfo_trim_and_mallopt(struct ktest *t)
{
	struct mallinfo mi = mallinfo();
	KTEST_EXPECT_EQ(t, mi.arena, kmm_managed_pages() * PAGE_SIZE);
	KTEST_EXPECT_EQ(t, mi.fordblks, kmm_free_pages() * PAGE_SIZE);
	void *block = malloc(4 * PAGE_SIZE);
	KTEST_ASSERT_NOT_NULL(t, block);
	struct mallinfo held = mallinfo();
	/* (not as differences: size_t would wrap a change the wrong way into
	 * a huge value that passes) */
	KTEST_EXPECT_GE(t, mi.fordblks, held.fordblks + 4 * PAGE_SIZE);
	KTEST_EXPECT_GE(t, held.uordblks, mi.uordblks + 4 * PAGE_SIZE);
	free(block);

	/* A cache left holding empty slabs: trim gives every one back. */
	struct kmem_cache *c = kmem_cache_create("shim_trim", 1000, 0, 0, nullptr);
	KTEST_ASSERT_NOT_NULL(t, c);
	malloc_trim(0); /* what the other caches held, so that only c's count */
	void *objects[24];
	for (void *&o : objects)
		o = kmem_cache_alloc(c, GFP_KERNEL);
	for (void *o : objects)
		kmem_cache_free(c, o);
	struct kmem_cache_info info;
	KTEST_ASSERT_EQ(t, kmem_cache_get_info(c, &info), 0);
	bool cached = info.num_slabs > 0;
	size_t free_pages = kmm_free_pages();
	KTEST_EXPECT_EQ(t, malloc_trim(0), cached ? 1 : 0);
	KTEST_EXPECT_EQ(t, kmm_free_pages() > free_pages, cached);
	KTEST_ASSERT_EQ(t, kmem_cache_get_info(c, &info), 0);
	KTEST_EXPECT_EQ(t, info.num_slabs, 0);
	KTEST_EXPECT_EQ(t, info.magazine_objs, 0);
	KTEST_EXPECT_EQ(t, malloc_trim(0), 0); /* nothing left to give back */
	kmem_cache_destroy(c);
	KTEST_EXPECT_EQ(t, mallopt(-1 /* M_TRIM_THRESHOLD */, 4096), 0);
}

/* A firmware-style global: its constructor allocates with new and malloc
 * and it keeps both for the image's lifetime. Before kmm started from
 * .preinit_array, its `new` panicked ("operator new before kmm_init()"). */
struct GlobalWithHeap {
	int *numbers;
	char *text;
	GlobalWithHeap() : numbers(new int[12]), text(static_cast<char *>(malloc(33)))
	{
		for (int i = 0; i < 12; ++i)
			numbers[i] = i * i;
		if (text != nullptr)
			__builtin_memcpy(text, "allocated by a global constructor", 33);
	}
};
GlobalWithHeap g_with_heap;

void global_constructor_allocates(struct ktest *t)
{
	KTEST_ASSERT_NOT_NULL(t, g_with_heap.numbers);
	KTEST_ASSERT_NOT_NULL(t, g_with_heap.text);
	KTEST_EXPECT_GE(t, ksize(g_with_heap.numbers), 12 * sizeof(int));
	KTEST_EXPECT_GE(t, ksize(g_with_heap.text), 33);
	KTEST_EXPECT_EQ(t, g_with_heap.numbers[11], 121);
	KTEST_EXPECT_EQ(t, __builtin_memcmp(g_with_heap.text, "allocated by a global constructor", 33), 0);
}

/* newlib's errno location, for this -nostdlib image: the shim's default
 * errno hook writes *__errno() where one is linked (a weak reference). */
int g_errno;

} // namespace

extern "C" int *__errno(void) { return &g_errno; }

namespace {

constexpr int kEnomem = 12;
constexpr int kEinval = 22;

/* Every failure sets errno as newlib's callers expect and loses nothing:
 * ENOMEM for memory, EINVAL for a bad alignment or pointer; a failing
 * realloc keeps the block and its data (reallocf frees it: the runner's
 * leak check proves it); posix_memalign returns its code, leaves errno
 * alone and *memptr untouched. The runner checks mm after the case. */
void failures_set_errno_and_lose_nothing(struct ktest *t)
{
	const size_t too_big = (PAGE_SIZE << KMM_MAX_ORDER) + 1;
	g_errno = 0;
	KTEST_EXPECT_NULL(t, malloc(too_big));
	KTEST_EXPECT_EQ(t, g_errno, kEnomem);
	g_errno = 0;
	KTEST_EXPECT_NULL(t, calloc(~size_t{0} / 2, 3)); /* n * size overflows */
	KTEST_EXPECT_EQ(t, g_errno, kEnomem);

	unsigned char *p = static_cast<unsigned char *>(malloc(40));
	KTEST_ASSERT_NOT_NULL(t, p);
	__builtin_memset(p, 0x77, 40);
	g_errno = 0;
	KTEST_EXPECT_NULL(t, realloc(p, too_big));
	KTEST_EXPECT_EQ(t, g_errno, kEnomem);
	KTEST_EXPECT_TRUE(t, ktest_shared::filled(p, 40, 0x77));
	KTEST_EXPECT_GE(t, ksize(p), 40);
	g_errno = 0;
	KTEST_EXPECT_NULL(t, reallocf(p, too_big)); /* frees p */
	KTEST_EXPECT_EQ(t, g_errno, kEnomem);

	static char foreign[32];
	t->expected_bugs = 1;
	g_errno = 0;
	KTEST_EXPECT_NULL(t, realloc(foreign, 64));
	KTEST_EXPECT_EQ(t, g_errno, kEinval);

	g_errno = 0;
	KTEST_EXPECT_NULL(t, aligned_alloc(48, 8));
	KTEST_EXPECT_EQ(t, g_errno, kEinval);
	g_errno = 0;
	KTEST_EXPECT_NULL(t, aligned_alloc(0, 8));
	KTEST_EXPECT_EQ(t, g_errno, kEinval);
	g_errno = 0;
	KTEST_EXPECT_NULL(t, aligned_alloc(64, too_big));
	KTEST_EXPECT_EQ(t, g_errno, kEnomem);
	g_errno = 0;
	KTEST_EXPECT_NULL(t, memalign(~size_t{0} / 2 + 2, 8)); /* rounds up past size_t */
	KTEST_EXPECT_EQ(t, g_errno, kEinval);
	g_errno = 0;
	KTEST_EXPECT_NULL(t, valloc(too_big));
	KTEST_EXPECT_EQ(t, g_errno, kEnomem);
	g_errno = 0;
	KTEST_EXPECT_NULL(t, pvalloc(~size_t{0} - 10)); /* the page round-up wraps */
	KTEST_EXPECT_EQ(t, g_errno, kEnomem);

	void *untouched = &g_errno;
	g_errno = 0;
	KTEST_EXPECT_EQ(t, posix_memalign(&untouched, 24, 8), kEinval);
	KTEST_EXPECT_EQ(t, posix_memalign(&untouched, 0, 8), kEinval);
	KTEST_EXPECT_EQ(t, posix_memalign(&untouched, 64, too_big), kEnomem);
	KTEST_EXPECT_EQ(t, untouched, static_cast<void *>(&g_errno));
	KTEST_EXPECT_EQ(t, g_errno, 0);
}

void free_of_foreign_pointer_refused(struct ktest *t)
{
	static const char kRodata[8] = "foreign";
	t->expected_bugs = 1;
	free(const_cast<char *>(kRodata));
}

const ktest_case cases[] = {
	{"malloc_family", malloc_family},
	{"calloc_zeroes_and_checks_overflow", calloc_zeroes_and_checks_overflow},
	{"small_requests_keep_the_minimum_alignment", small_requests_keep_the_minimum_alignment},
	{"aligned_forms", aligned_forms},
	{"realloc_shrink_gives_memory_back", realloc_shrink_gives_memory_back},
	{"realloc_shrink_never_takes_a_larger_block", realloc_shrink_never_takes_a_larger_block},
	{"realloc_of_foreign_pointer_reported_once", realloc_of_foreign_pointer_reported_once},
	{"cxx_new_delete_forms", cxx_new_delete_forms},
	{"new_handler_is_called_and_new_retries", new_handler_is_called_and_new_retries},
	{"aligned_new_with_a_bad_alignment_fails", aligned_new_with_a_bad_alignment_fails},
	{"mallinfo_trim_and_mallopt", mallinfo_trim_and_mallopt},
	{"failures_set_errno_and_lose_nothing", failures_set_errno_and_lose_nothing},
	{"free_of_foreign_pointer_refused", free_of_foreign_pointer_refused},
	{"global_constructor_allocates", global_constructor_allocates},
};

} // namespace

KTEST_SUITE(libc_shim, cases);
