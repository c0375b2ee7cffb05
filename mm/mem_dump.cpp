/*
 * mm/mem_dump.cpp — what kmm knows about an address, for debugging:
 * Linux's kmem_dump_obj (a slab object: its cache, start, the pointer's
 * offset, allocated or free, the SLAB_STORE_USER tracks) and mem_dump_obj
 * (that, or the page block the address lies in, or "not managed"). Lines
 * go to the report hook uncounted (Reporter::detail); nothing allocates
 * and nothing changes.
 *
 * Locks: a slab object's freeness is object_free's, with whole-list walks:
 * under its cache's lock with IRQs masked (the running CPU's freelist and
 * magazine with it), O(objects of the slab). Everything else reads page
 * states without a lock: the map is fixed after init, and a block that
 * changes meanwhile is described as it was at one of the two moments.
 */
#include "slub.h"
#include "slub_fast.h"

namespace kmm {

bool SlabAllocator::dump_object(const void *x)
{
	struct page *page = pages_.virt_to_page(x);
	if (page == nullptr)
		return false;
	struct page *slab = page_head(page);
	uint8_t state = page_state(slab);
	uint16_t id = slab->cache_id;
	if ((state != kSlab && state != kSlabCpu) || id == 0 || id > KMM_MAX_CACHES)
		return false;
	kmem_cache *s = slot(id);
	if (s == nullptr)
		return false;

	const uintptr_t addr = reinterpret_cast<uintptr_t>(x);
	const uintptr_t base = slab_start_of(s, x);
	const uintptr_t off = addr - base;
	if (off >= s->object_area) {
		reporter_.detail("slab %s %p: pointer %p is past its last object (offset %lu of %u bytes in objects)",
				 s->name, reinterpret_cast<void *>(base), x, static_cast<unsigned long>(off),
				 static_cast<unsigned>(s->object_area));
		return true;
	}
	const uintptr_t slot_addr = base + off / s->size * s->size;
	const uintptr_t object = slot_addr + s->red_left;

	const bool free = object_free(s, reinterpret_cast<const void *>(object), ~0u); /* the whole lists */
	const char *status = free ? "free" : KMM_NR_CPUS > 1 ? "allocated, or free in another CPU's cache" : "allocated";
	if (addr < object)
		reporter_.detail("slab %s start %p pointer offset -%lu (in the red zone before it) size %u: %s", s->name,
				 reinterpret_cast<void *>(object), static_cast<unsigned long>(object - addr),
				 static_cast<unsigned>(s->object_size), status);
	else
		reporter_.detail("slab %s start %p pointer offset %lu%s size %u: %s", s->name, reinterpret_cast<void *>(object),
				 static_cast<unsigned long>(addr - object),
				 addr - object >= s->object_size ? " (past the object: red zone or padding)" : "",
				 static_cast<unsigned>(s->object_size), status);
	if constexpr (kSlabDebug)
		if ((s->flags & SLAB_STORE_USER) != 0 && s->track_offset != 0)
			debug_print_tracks(s, slot_addr);
	return true;
}

void SlabAllocator::dump_memory(const void *x)
{
	if (ZERO_OR_NULL_PTR(x)) {
		reporter_.detail("%p: NULL or ZERO_SIZE_PTR", x);
		return;
	}
	if (dump_object(x))
		return;
	const uintptr_t addr = reinterpret_cast<uintptr_t>(x);
	const Region *r = pages_.region_of_addr(addr);
	if (r == nullptr) {
		reporter_.detail("%p: not memory kmm manages", x);
		return;
	}
	struct page *page = r->page_at(addr);
	const size_t idx = static_cast<size_t>(page - r->pages);
	if (page_state(page) == kReserved) {
		reporter_.detail("%p: a reserved page (pfn %#lx)", x, static_cast<unsigned long>(r->base_pfn + idx));
		return;
	}
	/* The block holding the page: a compound tail names its head; inside a
	 * plain block, the head is the nearest naturally aligned page below
	 * whose order covers this one (buddy blocks are aligned to their size). */
	struct page *head = page_head(page);
	if (!is_block_head(page_state(head))) {
		head = nullptr;
		const uintptr_t pfn = r->base_pfn + idx;
		for (unsigned o = 1; o <= kMaxOrder && head == nullptr; ++o) {
			uintptr_t start_pfn = pfn & ~((uintptr_t{1} << o) - 1);
			if (start_pfn < r->base_pfn)
				break;
			struct page *p = &r->pages[start_pfn - r->base_pfn];
			if (is_block_head(page_state(p)) && p->order >= o)
				head = p;
		}
	}
	if (head == nullptr) {
		reporter_.detail("%p: inside a page block whose head was not found (a corrupt memory map?)", x);
		return;
	}
	if (page_state(head) == kExact) { /* one of its aligned blocks: next names the first page */
		uintptr_t start = reinterpret_cast<uintptr_t>(pages_.page_address(head->next));
		reporter_.detail("%p: an alloc_pages_exact block starting at %p, offset %lu", x,
				 reinterpret_cast<void *>(start), static_cast<unsigned long>(addr - start));
		return;
	}
	const uintptr_t start = reinterpret_cast<uintptr_t>(pages_.page_address(head));
	const char *what;
	switch (page_state(head)) {
	case kFree: what = "a free page block (buddy lists)"; break;
	case kPcp: what = "a free page block (a CPU's page list)"; break;
	case kAllocated: what = "a page block from alloc_pages"; break;
	case kCompound: what = "a compound page block"; break;
	case kLargeKmalloc: what = "a large kmalloc block"; break;
	default: what = "a slab of no live cache"; break;
	}
	reporter_.detail("%p: %s at %p, order %u, offset %lu", x, what, reinterpret_cast<void *>(start),
			 static_cast<unsigned>(head->order), static_cast<unsigned long>(addr - start));
}

} // namespace kmm
