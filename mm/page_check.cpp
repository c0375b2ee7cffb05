/*
 * mm/page_check.cpp — the page allocator's whole-structure check (validate)
 * and its /proc/buddyinfo-style dump. Both are O(pages) and take the lock.
 */
#include "format.h"
#include "page_alloc.h"

namespace kmm {
namespace {

const char *const kZoneNames[KMM_NR_ZONES] = {"Normal", "DMA"};

} // namespace

unsigned long PageAllocator::validate() const
{
	return all_locked([&] { return validate_locked(); });
}

unsigned long PageAllocator::validate_locked() const
{
	unsigned long problems = 0;
	auto problem = [&](const char *what, uintptr_t addr) {
		++problems;
		reporter_->detail("validate: page_alloc: %s at %#lx", what, static_cast<unsigned long>(addr));
	};
	if (!initialized_)
		return 0;
	/* Blocks in transit (page_alloc.h): one whose pages are half-way
	 * between two valid shapes is accepted while no more such blocks have
	 * been seen than operations begun (read now: monotonic, and one that
	 * entered transit after this point is not counted yet) and not ended
	 * before the walk (read first). With nothing in flight, every one is
	 * a problem, as before. */
	const unsigned long ended = __atomic_load_n(&transit_ended_, __ATOMIC_ACQUIRE);
	unsigned long in_transit = 0;
	auto transit_allowed = [&] {
		/* after the acquire loads of the half-way pages (half_linked),
		 * or under the lock of the step that began: sees its begin */
		unsigned long begun = __atomic_load_n(&transit_begun_, __ATOMIC_RELAXED);
		if (in_transit >= begun - ended)
			return false;
		++in_transit;
		return true;
	};
	/* Pages [1, n) of the block at head each interior or a tail linked to
	 * it: the shape of a block whose tails are being linked or unlinked. */
	auto half_linked = [](const struct page *head, size_t n) {
		for (size_t k = 1; k < n; ++k) {
			uint8_t st = __atomic_load_n(&head[k].state, __ATOMIC_ACQUIRE); /* then its link (set_tails) */
			if (st == kInterior)
				continue;
			if (st != kTail)
				return false;
			if (__atomic_load_n(&head[k].next, __ATOMIC_ACQUIRE) != head) {
				/* unlinking clears the link (release) after the state: a
				 * cleared link means the state is kInterior by now */
				if (__atomic_load_n(&head[k].state, __ATOMIC_ACQUIRE) != kInterior)
					return false;
			}
		}
		return true;
	};

	size_t pcp_heads_seen[KMM_NR_ZONES][kPcpMaxOrder + 1] = {};
	size_t free_heads_seen[KMM_NR_ZONES] = {};
	size_t free_pages_seen[KMM_NR_ZONES] = {};
	for (unsigned ri = 0; ri < nr_regions_; ++ri) {
		const Region &r = regions_[ri];
		size_t idx = 0;
		while (idx < r.nr_pages) {
			const struct page &p = r.pages[idx];
			uintptr_t addr = r.address(&p);
			const uint8_t state = page_state(&p);
			if (state == kReserved) {
				++idx;
				continue;
			}
			if (!is_block_head(state)) {
				/* a head claimed by a free (kInterior), its merge to come */
				if (state == kInterior && p.order <= kMaxOrder) {
					size_t n = size_t{1} << p.order;
					if (((r.base_pfn + idx) & (n - 1)) == 0 && idx + n <= r.nr_pages && half_linked(&p, n) &&
					    transit_allowed()) {
						idx += n;
						continue;
					}
				}
				problem(state == kInterior || state == kTail ? "block page outside any block"
									     : "corrupt page state",
					addr);
				++idx;
				continue;
			}
			unsigned order = p.order;
			size_t n = size_t{1} << (order > kMaxOrder ? 0 : order);
			uintptr_t pfn = r.base_pfn + idx;
			if (order > kMaxOrder || (pfn & (n - 1)) != 0 || idx + n > r.nr_pages) {
				problem("block with bad order or alignment", addr);
				++idx;
				continue;
			}
			bool tails = state != kFree && state != kPcp && state != kAllocated && state != kExact && order > 0;
			if (state == kPcp) {
				if (order > kPcpMaxOrder)
					problem("per-CPU list page of an order above the per-CPU lists'", addr);
				else
					++pcp_heads_seen[r.zone][order];
			}
			for (size_t k = 1; k < n; ++k) {
				const struct page &t = r.pages[idx + k];
				const uint8_t tstate = page_state(&t);
				bool ok = tails ? (tstate == kTail && __atomic_load_n(&t.next, __ATOMIC_RELAXED) == &p)
						: tstate == kInterior;
				if (!ok) {
					/* a compound block whose tails are being linked or unlinked */
					if (tails && half_linked(&p, n) && transit_allowed())
						break;
					problem(tails ? "compound tail not linked to its head" : "page inside a block is not interior",
						r.address(&t));
					break;
				}
			}
			if (state == kFree) {
				++free_heads_seen[r.zone];
				free_pages_seen[r.zone] += n;
				if (order < kMaxOrder) {
					size_t bidx = static_cast<size_t>((pfn ^ n) - r.base_pfn);
					if (bidx < r.nr_pages && page_state(&r.pages[bidx]) == kFree && r.pages[bidx].order == order)
						problem("free buddies of equal order not merged", addr);
				}
			}
			idx += n;
		}
	}

	for (unsigned z = 0; z < KMM_NR_ZONES; ++z) {
		const Zone &zone = zones_[z];
		size_t listed = 0, listed_pages = 0;
		for (unsigned o = 0; o <= kMaxOrder; ++o) {
			const PageList &list = zone.free_area[o];
			size_t count = 0;
			const struct page *prev = nullptr;
			for (const struct page *p = list.head; p != nullptr; p = p->next) {
				const Region *r = region_of(p);
				uintptr_t addr = r != nullptr ? r->address(p) : reinterpret_cast<uintptr_t>(p);
				if (r == nullptr || r->zone != z) {
					problem("free list entry outside its zone", addr);
					break;
				}
				if (p->state != kFree || p->order != o)
					problem("free list entry is not a free head of the list's order", addr);
				if (p->prev != prev)
					problem("free list back link broken", addr);
				prev = p;
				if (++count > zone.managed_pages) {
					problem("free list loops", addr);
					break;
				}
			}
			if (count != list.count)
				problem("free list count differs from its length", o);
			if (((zone.nonempty >> o) & 1u) != (list.empty() ? 0u : 1u))
				problem("non-empty-order bitmap wrong", o);
			listed += count;
			listed_pages += count << o;
		}
		if (listed != free_heads_seen[z])
			problem("free blocks and free-list entries differ in number", z);
		if (listed_pages != zone.free_pages || free_pages_seen[z] != zone.free_pages)
			problem("free page counter wrong", z);
		if (zone.free_pages > zone.managed_pages)
			problem("more free pages than managed", z);
	}
	for (unsigned z = 0; z < KMM_NR_ZONES; ++z) {
		for (unsigned o = 0; o <= kPcpMaxOrder; ++o) {
			size_t listed = 0;
			for (unsigned cpu = 0; cpu < KMM_NR_CPUS; ++cpu) {
				const PerCpuPages::List &list = pcp_[cpu].lists[z][o];
				size_t count = 0;
				for (const struct page *p = list.head; p != nullptr; p = p->next) {
					const Region *r = region_of(p);
					uintptr_t addr = r != nullptr ? r->address(p) : reinterpret_cast<uintptr_t>(p);
					if (r == nullptr || r->zone != z) {
						problem("per-CPU list entry outside its zone", addr);
						break;
					}
					if (p->state != kPcp || p->order != o)
						problem("per-CPU list entry is not a parked block of the list's order", addr);
					if (++count > zones_[z].managed_pages) {
						problem("per-CPU list loops", addr);
						break;
					}
				}
				if (count != list.count)
					problem("per-CPU list count differs from its length", o);
				listed += count;
			}
			if (listed != pcp_heads_seen[z][o])
				problem("parked blocks and per-CPU list entries differ in number", o);
		}
	}
	return problems;
}

void PageAllocator::buddyinfo(kmm_sink_fn sink, void *ctx) const
{
	SinkWriter out(sink, ctx);
	for (unsigned z = 0; z < KMM_NR_ZONES; ++z) {
		ZoneCounts c = counts(z);
		if (c.managed == 0 && c.memmap == 0)
			continue;
		size_t blocks[KMM_NR_ORDERS];
		free_blocks(z, blocks);
		out.print("Node 0, zone %8s ", kZoneNames[z]);
		for (unsigned o = 0; o <= kMaxOrder; ++o)
			out.print("%6lu ", static_cast<unsigned long>(blocks[o]));
		out.print("\n");
	}
	for (unsigned z = 0; z < KMM_NR_ZONES; ++z) {
		ZoneCounts c = counts(z);
		if (c.managed == 0 && c.memmap == 0)
			continue;
		out.print("zone %-6s page %lu B, managed %lu, free %lu, reserved %lu, memmap %lu pages (%lu B)\n",
			  kZoneNames[z], static_cast<unsigned long>(kPageSize), static_cast<unsigned long>(c.managed),
			  static_cast<unsigned long>(c.free), static_cast<unsigned long>(c.reserved),
			  static_cast<unsigned long>(c.memmap),
			  static_cast<unsigned long>(c.memmap * kPageSize));
	}
	for (unsigned z = 0; z < KMM_NR_ZONES; ++z) {
		ZoneCounts c = counts(z);
		if (c.managed == 0 || pcp_high_ == 0)
			continue;
		out.print("per-cpu lists, zone %-6s %lu pages parked (orders 0-%u, high %u)\n", kZoneNames[z],
			  static_cast<unsigned long>(c.pcp), kPcpMaxOrder, static_cast<unsigned>(pcp_high_));
	}
	/* Linux's extfrag_index: -1.000 = an order-o block is free now; else
	 * 0 (failure from lack of memory) … 1 (failure from fragmentation). */
	for (unsigned z = 0; z < KMM_NR_ZONES; ++z) {
		ZoneCounts c = counts(z);
		if (c.managed == 0)
			continue;
		size_t blocks[KMM_NR_ORDERS];
		free_blocks(z, blocks);
		size_t total_blocks = 0, free_pages = 0;
		for (unsigned o = 0; o <= kMaxOrder; ++o) {
			total_blocks += blocks[o];
			free_pages += blocks[o] << o;
		}
		out.print("extfrag Node 0, zone %8s ", kZoneNames[z]);
		for (unsigned o = 0; o <= kMaxOrder; ++o) {
			size_t suitable = 0;
			for (unsigned k = o; k <= kMaxOrder; ++k)
				suitable += blocks[k];
			long index;
			if (total_blocks == 0)
				index = 0;
			else if (suitable > 0)
				index = -1000;
			else
				index = 1000 - static_cast<long>((1000 + (free_pages * 1000) / (size_t{1} << o)) / total_blocks);
			long mag = index < 0 ? -index : index;
			out.print("%s%ld.%03ld ", index < 0 ? "-" : "", mag / 1000, mag % 1000);
		}
		out.print("\n");
	}
}

} // namespace kmm
