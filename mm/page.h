/*
 * mm/page.h — the page descriptor: one struct page per page frame, the single
 * source of truth for that frame's state. 16 bytes on 32-bit targets.
 *
 * State table (page::state) and which fields are valid in it:
 *
 *   state        meaning                                    valid fields
 *   kFree        head of a free buddy block                 order, next/prev (zone free list)
 *   kInterior    inside a block (free or allocated), not    —
 *                its head; also non-compound tails, and
 *                the head of a block a free has claimed
 *                (between its two zone-lock holds)
 *   kAllocated   head of a block from alloc_pages           order
 *   kExact       head of a block alloc_pages_exact kept     order, next = the
 *                (only free_pages_exact frees it)           allocation's first page
 *   kCompound    head of a __GFP_COMP block                 order (tails are kTail)
 *   kLargeKmalloc head of a kmalloc block too big for a     order (tails are kTail)
 *                slab cache
 *   kTail        tail of kCompound/kLargeKmalloc/kSlab      next = head
 *   kSlab        head of a slab (on a list or full)         order, inuse, freelist,
 *                                                           cache_id, next/prev (partial list)
 *   kSlabCpu     head of a slab that is some CPU's slab     as kSlab, next/prev unused
 *   kPcp         free head parked on a per-CPU page list    order, next (list link)
 *   kReserved    never handed out: kmm_reserve() or the     —
 *                page-descriptor array itself
 *
 * An allocated (kAllocated) block's `next` is NULL. The blocks of an
 * alloc_pages_exact() allocation are kExact, not kAllocated: the inline
 * free fast path accepts only the state it expects, so free_pages of such
 * a block reaches the checks that refuse it at no cost to ordinary frees.
 *
 * States change only in region.cpp (init), buddy.h, page_alloc and slub.
 * Nothing asserts a transition as such: a free checks the state it leaves
 * (free_ok / check_free_locked: misuse is reported and refused), and
 * validate() checks every descriptor against this table. Interior pages
 * are never touched on alloc/free, which keeps the buddy allocator
 * O(max order); compound tails cost O(pages) and are set only for
 * __GFP_COMP, large kmalloc and multi-page slabs.
 *
 * Slab freelist encoding: page::freelist is 0 for "empty", else
 * 1 + (offset of the first free object from the slab start) / kSlabUnit.
 * page::cache_id indexes the slab allocator's cache table; it is set on
 * every page of a slab (tails too) and 0 on every other page.
 */
#ifndef KMM_MM_PAGE_H
#define KMM_MM_PAGE_H

#include <stddef.h>
#include <stdint.h>

#include <kmm/config.h>

namespace kmm {

enum PageState : uint8_t {
	kFree = 1,
	kInterior,
	kAllocated,
	kCompound,
	kLargeKmalloc,
	kTail,
	kSlab,
	kSlabCpu,
	kReserved,
	kPcp,
	kExact,
};

/* Unit of page::freelist offsets; every slab object is aligned to it. */
inline constexpr size_t kSlabUnit = sizeof(void *);

} // namespace kmm

struct page {
	uint8_t state;       /* kmm::PageState */
	uint8_t order;       /* kFree, kAllocated, kExact, kCompound, kLargeKmalloc, kSlab* */
	uint16_t inuse;      /* kSlab*: objects handed out */
	uint16_t freelist;   /* kSlab*: encoded first free object (see above) */
	uint16_t cache_id;   /* slab pages, head and tails: owning cache; else 0 */
	struct page *next;   /* kFree/kSlab: list link; kTail: the head page; kExact: first page */
	struct page *prev;   /* kFree/kSlab: list link */
};

#if UINTPTR_MAX == 0xffffffffu
static_assert(sizeof(struct page) == 16, "struct page must be 16 bytes on 32-bit targets");
#else
static_assert(sizeof(struct page) == 24, "struct page is 24 bytes on 64-bit hosts");
#endif

namespace kmm {

/* An intrusive, NULL-terminated, doubly linked list of page descriptors
 * through page::next/prev, with O(1) push at either end, pop and removal.
 * The buddy free lists use it as a stack; slab lists also queue at the
 * tail (slabs that just became partial wait behind older ones, Linux's
 * DEACTIVATE_TO_TAIL). Not locked: its owner's lock protects it. */
struct PageList {
	struct page *head = nullptr;
	struct page *tail = nullptr;
	size_t count = 0;

	bool empty() const { return head == nullptr; }
	void push_front(struct page *p)
	{
		p->prev = nullptr;
		p->next = head;
		if (head != nullptr)
			head->prev = p;
		else
			tail = p;
		head = p;
		++count;
	}
	void push_back(struct page *p)
	{
		p->next = nullptr;
		p->prev = tail;
		if (tail != nullptr)
			tail->next = p;
		else
			head = p;
		tail = p;
		++count;
	}
	void remove(struct page *p)
	{
		if (p->prev != nullptr)
			p->prev->next = p->next;
		else
			head = p->next;
		if (p->next != nullptr)
			p->next->prev = p->prev;
		else
			tail = p->prev;
		p->next = p->prev = nullptr;
		--count;
	}
	struct page *pop_front()
	{
		struct page *p = head;
		if (p != nullptr)
			remove(p);
		return p;
	}
};

/* page::state is read across CPUs (the buddy check looks at a neighbour's
 * state under the zone lock while the neighbour's owner may be changing it
 * outside that lock; the answer is right either way, since only kFree
 * matters there). So every access that can race is a relaxed atomic: a
 * plain byte load/store on every target, and no data race for the C++
 * memory model or ThreadSanitizer. */
inline uint8_t page_state(const struct page *p) { return __atomic_load_n(&p->state, __ATOMIC_RELAXED); }
inline void set_page_state(struct page *p, uint8_t state) { __atomic_store_n(&p->state, state, __ATOMIC_RELAXED); }

inline struct page *page_head(struct page *p)
{
	return page_state(p) == kTail ? p->next : p;
}

/* A state that starts a block: its page::order covers 2^order pages. */
inline bool is_block_head(uint8_t s)
{
	return s == kFree || s == kPcp || s == kAllocated || s == kExact || s == kCompound || s == kLargeKmalloc ||
	       s == kSlab || s == kSlabCpu;
}

} // namespace kmm

#endif
