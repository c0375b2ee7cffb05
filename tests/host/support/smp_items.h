/*
 * tests/host/support/smp_items.h — what the SMP stress tests hand between
 * threads: an Item (an object of a cache, a kmalloc block of any size, or a
 * page block) stamped with a unique tag over its first and last bytes, so a
 * block handed out twice, or written by someone else while held, shows when
 * it is freed; a mailbox per thread for cross-thread frees; and a start gate.
 */
#ifndef KMM_TESTS_SUPPORT_SMP_ITEMS_H
#define KMM_TESTS_SUPPORT_SMP_ITEMS_H

#include <atomic>
#include <cstdint>
#include <cstring>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include "slub.h"

namespace kmm_test {

enum class ItemKind : uint8_t { kKmalloc, kCache, kPages };

struct Item {
	void *p = nullptr;
	uint32_t bytes = 0; /* usable bytes: the size asked for, the object, the block */
	uint32_t skip = 0;  /* bytes at the start left alone (a ctor object's constructed state) */
	uint32_t tag = 0;   /* unique per allocation */
	ItemKind kind = ItemKind::kKmalloc;
	uint8_t order = 0;            /* kPages */
	kmem_cache *cache = nullptr; /* kCache */
};

/* The tag in the first 4 bytes after `skip`, its complement in the last 4
 * (bytes - skip >= 8). */
inline void stamp(const Item &it)
{
	uint32_t inv = ~it.tag;
	std::memcpy(static_cast<char *>(it.p) + it.skip, &it.tag, sizeof it.tag);
	std::memcpy(static_cast<char *>(it.p) + it.bytes - sizeof inv, &inv, sizeof inv);
}
inline bool stamped(const Item &it)
{
	uint32_t head, tail;
	std::memcpy(&head, static_cast<const char *>(it.p) + it.skip, sizeof head);
	std::memcpy(&tail, static_cast<const char *>(it.p) + it.bytes - sizeof tail, sizeof tail);
	return head == it.tag && tail == ~it.tag;
}

/* Frees an item through the call that matches its kind. */
inline void release(kmm::SlabAllocator &slab, const Item &it)
{
	switch (it.kind) {
	case ItemKind::kKmalloc: slab.kfree(it.p); break;
	case ItemKind::kCache: slab.free(it.cache, it.p); break;
	case ItemKind::kPages: slab.pages().free(slab.pages().virt_to_page(it.p), it.order); break;
	}
}

/* Items posted to one thread, freed (or kept) by it: remote frees. */
class Mailbox {
public:
	/* False (the item stays the sender's) when `limit` items wait already. */
	bool post(const Item &it, size_t limit)
	{
		std::lock_guard<std::mutex> g(lock_);
		if (q_.size() >= limit)
			return false;
		q_.push_back(it);
		return true;
	}
	std::vector<Item> take()
	{
		std::lock_guard<std::mutex> g(lock_);
		std::vector<Item> v(q_.begin(), q_.end());
		q_.clear();
		return v;
	}

private:
	std::mutex lock_;
	std::deque<Item> q_;
};

/* Lets n threads start their work together. */
class StartGate {
public:
	explicit StartGate(unsigned n) : n_(n) {}
	void arrive_and_wait()
	{
		arrived_.fetch_add(1);
		while (arrived_.load() < n_)
			std::this_thread::yield();
	}

private:
	std::atomic<unsigned> arrived_{0};
	unsigned n_;
};

} // namespace kmm_test

#endif
