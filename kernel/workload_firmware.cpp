/*
 * kernel/workload_firmware.cpp — the "firmware" scenario: what a network
 * or sensor firmware does with its memory, run for many iterations with
 * lifetimes that overlap, every block checked before it is freed.
 *
 *   RX      0–3 packets per iteration from a packet-buffer pool, a
 *           kmem_cache with a constructor (magic, refcount 0, no link):
 *           each allocation must come back constructed or exactly as its
 *           last user left it; the payload is filled, the packet queued on
 *           a 16-entry RX ring (dropped and freed if the ring is full).
 *   task    0–3 packets per iteration are taken off the ring, checked, and
 *           turned into a message of variable size (kmalloc: header + half
 *           the packet + 0…255 bytes; 1 in 64 above the largest class,
 *           i.e. pages), small ones 1 in 8 grown later with krealloc; the
 *           packet goes back to its pool in its constructed state.
 *   queue   messages wait in a FIFO whose target depth changes every 256
 *           iterations; the consumer checks each message's checksum and
 *           kfrees it.
 *   DMA     up to two large buffers from alloc_pages(GFP_DMA, order) (the
 *           board's DMA zone; GFP_KERNEL where the board has none), filled
 *           as by a DMA transfer, live for 16–143 iterations, checked and
 *           freed. As many as the zone holds at once, measured before the
 *           run (mps2-an385's 3-page zone holds one 8 KiB buffer); a
 *           smaller order only if not even one fits. So a NULL here is a
 *           failure worth seeing, not the routine.
 *
 * Both layers' validate() run every 1024 iterations. At the end every
 * queue is drained, and the ctor must have run exactly once per object of
 * every slab the pool ever had. Problems are counted, NULL returns are
 * failures (expected on the 64 KiB board), not problems.
 */
#include <kernel/boot.h>
#include <kernel/printk.h>
#include <kernel/workload.h>
#include <arch/arch.h>
#include <kmm/kmm.h>

#ifndef KMM_WORKLOAD_FIRMWARE_ITERATIONS
#define KMM_WORKLOAD_FIRMWARE_ITERATIONS 20000u
#endif

namespace {

constexpr uint32_t kPacketMagic = 0x504b5421u; /* "PKT!" */
constexpr size_t kPacketData = PAGE_SIZE >= 1024 ? 240 : 104;
constexpr unsigned kRingSlots = 16;
constexpr unsigned kDmaSlots = 2;
constexpr unsigned kDmaOrder = PAGE_SIZE >= 4096 ? 1 : 3; /* the largest; the zone may need less */
constexpr gfp_t kRx = GFP_ATOMIC | __GFP_NOWARN;
constexpr gfp_t kTask = GFP_KERNEL | __GFP_NOWARN;

struct Packet {
	uint32_t magic;
	uint16_t refcount;
	uint16_t len;
	uint32_t seq;
	Packet *next;
	uint8_t data[kPacketData];
};

struct Message {
	Message *next;
	uint32_t seq;
	uint32_t len; /* payload bytes after the header */
	uint32_t sum;
};

struct DmaBuffer {
	struct page *page;
	uint32_t pattern;
	unsigned ttl;
};

struct kmem_cache *g_packets;
unsigned long g_ctor_calls;

void packet_ctor(void *object)
{
	Packet *p = static_cast<Packet *>(object);
	p->magic = kPacketMagic;
	p->refcount = 0;
	p->len = 0;
	p->seq = 0;
	p->next = nullptr;
	++g_ctor_calls;
}

unsigned char *payload(Message *m) { return reinterpret_cast<unsigned char *>(m + 1); }

/* Bytes of a message that carry data: all of a small one, every 32nd of
 * a large one (so a large message costs the firmware little to fill). */
size_t stride(size_t len) { return len > 512 ? 32 : 1; }

uint32_t checksum(const unsigned char *p, size_t n)
{
	uint32_t sum = 0x811c9dc5u;
	for (size_t i = 0; i < n; i += stride(n))
		sum = (sum ^ p[i]) * 0x01000193u;
	return sum;
}

/* The scenario's state and figures. */
struct Firmware {
	kmm_workload_stats &st;
	kmm_workload_rng rng;
	Packet *ring[kRingSlots] = {};
	unsigned ring_head = 0, ring_count = 0;
	Message *queue_head = nullptr, *queue_tail = nullptr;
	unsigned queue_count = 0, queue_target = 8, queue_max;
	DmaBuffer dma[kDmaSlots] = {};
	gfp_t dma_gfp;
	unsigned dma_order = kDmaOrder, dma_slots = 0; /* what the zone holds at once */
	size_t live = 0, msg_extra_max, large_min;
	unsigned long packets = 0, dropped = 0, messages = 0, grown = 0, large = 0, dma_buffers = 0;

	Firmware(kmm_workload_stats &s, uint32_t seed) : st(s), rng{seed}
	{
		size_t managed = kmm_managed_pages() * PAGE_SIZE;
		queue_max = managed / 2048 < 8 ? 8 : managed / 2048 > 64 ? 64 : static_cast<unsigned>(managed / 2048);
		dma_gfp = boot_info.zone_bytes[KMM_ZONE_DMA] != 0 ? GFP_DMA : GFP_KERNEL;
		for (;; --dma_order) {
			dma_slots = static_cast<unsigned>(workload_blocks_available(dma_gfp, dma_order, kDmaSlots));
			if (dma_slots != 0 || dma_order == 0)
				break;
		}
		msg_extra_max = kmalloc_max_cache_size() / 2 < 256 ? kmalloc_max_cache_size() / 2 : 256;
		large_min = kmalloc_max_cache_size() + 1;
	}

	void problem(const char *what, const void *where)
	{
		printk("# workload firmware: %s (%p)\n", what, where);
		++st.problems;
	}

	template <typename Fn> void *timed_alloc(Fn fn, size_t bytes)
	{
		uint64_t t0 = kmm_arch_counter();
		void *p = fn();
		uint64_t dt = kmm_arch_counter() - t0;
		if (p == nullptr) {
			++st.failures;
			return nullptr;
		}
		++st.allocs;
		st.alloc_ticks += dt;
		if (dt > st.alloc_ticks_max)
			st.alloc_ticks_max = dt;
		live += bytes;
		if (live > st.peak_live_bytes)
			st.peak_live_bytes = live;
		return p;
	}
	template <typename Fn> void timed_free(Fn fn, size_t bytes)
	{
		uint64_t t0 = kmm_arch_counter();
		fn();
		uint64_t dt = kmm_arch_counter() - t0;
		++st.frees;
		st.free_ticks += dt;
		if (dt > st.free_ticks_max)
			st.free_ticks_max = dt;
		live -= bytes;
	}

	/* ---- packets ---- */
	void free_packet(Packet *p)
	{
		p->refcount = 0; /* back to its constructed state */
		p->len = 0;
		p->next = nullptr;
		timed_free([&] { kmem_cache_free(g_packets, p); }, sizeof(Packet));
	}

	void receive(uint32_t seq)
	{
		Packet *p = static_cast<Packet *>(
			timed_alloc([] { return kmem_cache_alloc(g_packets, kRx); }, sizeof(Packet)));
		if (p == nullptr)
			return;
		++packets;
		if (p->magic != kPacketMagic || p->refcount != 0 || p->next != nullptr || p->len != 0)
			problem("packet from the pool not in its constructed state", p);
		p->refcount = 1;
		p->seq = seq;
		p->len = static_cast<uint16_t>(16 + rng.below(kPacketData - 16 + 1));
		for (unsigned i = 0; i < p->len; ++i)
			p->data[i] = static_cast<uint8_t>(seq + i);
		if (ring_count == kRingSlots) {
			++dropped;
			free_packet(p);
			return;
		}
		ring[(ring_head + ring_count++) % kRingSlots] = p;
	}

	/* ---- messages ---- */
	void enqueue(Message *m)
	{
		m->next = nullptr;
		if (queue_tail != nullptr)
			queue_tail->next = m;
		else
			queue_head = m;
		queue_tail = m;
		++queue_count;
	}

	void seal(Message *m) { m->sum = checksum(payload(m), m->len); }

	void process()
	{
		if (ring_count == 0)
			return;
		Packet *p = ring[ring_head];
		ring_head = (ring_head + 1) % kRingSlots;
		--ring_count;
		bool intact = p->magic == kPacketMagic && p->refcount == 1;
		for (unsigned i = 0; i < p->len && intact; ++i)
			intact = p->data[i] == static_cast<uint8_t>(p->seq + i);
		if (!intact)
			problem("packet payload damaged while queued", p);

		size_t len = p->len / 2 + rng.below(static_cast<uint32_t>(msg_extra_max));
		if (rng.below(64) == 0) {
			len = large_min + rng.below(static_cast<uint32_t>(large_min));
			++large;
		}
		Message *m = static_cast<Message *>(
			timed_alloc([&] { return kmalloc(sizeof(Message) + len, kTask); }, sizeof(Message) + len));
		if (m != nullptr) {
			++messages;
			m->seq = p->seq;
			m->len = static_cast<uint32_t>(len);
			for (size_t i = 0; i < len; i += stride(len))
				payload(m)[i] = static_cast<unsigned char>(i < p->len / 2 ? p->data[i] : m->seq ^ i);
			seal(m);
			enqueue(m);
		}
		free_packet(p);
	}

	/* Grows the newest message in place or by moving it (krealloc). */
	void grow_tail()
	{
		Message *m = queue_tail;
		if (m == nullptr || m->len >= large_min)
			return;
		size_t extra = 1 + rng.below(64);
		size_t old_bytes = sizeof(Message) + m->len;
		/* Unlink it: krealloc may move it. */
		Message *prev = nullptr;
		for (Message *q = queue_head; q != m; q = q->next)
			prev = q;
		Message *n = static_cast<Message *>(krealloc(m, old_bytes + extra, kTask));
		if (n == nullptr) {
			++st.failures;
			return; /* m is intact and still queued */
		}
		++grown;
		live += extra;
		if (live > st.peak_live_bytes)
			st.peak_live_bytes = live;
		if (checksum(payload(n), n->len) != n->sum)
			problem("message changed by krealloc", n);
		for (size_t i = 0; i < extra; ++i)
			payload(n)[n->len + i] = static_cast<unsigned char>(0xe0 + i);
		n->len += static_cast<uint32_t>(extra);
		seal(n);
		if (prev != nullptr)
			prev->next = n;
		else
			queue_head = n;
		queue_tail = n;
	}

	void consume_one()
	{
		Message *m = queue_head;
		queue_head = m->next;
		if (queue_head == nullptr)
			queue_tail = nullptr;
		--queue_count;
		if (checksum(payload(m), m->len) != m->sum)
			problem("message damaged while queued", m);
		timed_free([&] { kfree(m); }, sizeof(Message) + m->len);
	}

	/* ---- DMA buffers ---- */
	void dma_step()
	{
		for (unsigned i = 0; i < dma_slots; ++i) {
			if (dma[i].page != nullptr && --dma[i].ttl == 0)
				dma_complete(dma[i]);
		}
		if (rng.below(32) != 0)
			return;
		for (unsigned slot = 0; slot < dma_slots; ++slot) {
			DmaBuffer &d = dma[slot];
			if (d.page != nullptr)
				continue;
			d.page = static_cast<struct page *>(timed_alloc(
				[&] { return static_cast<void *>(alloc_pages(dma_gfp | __GFP_NOWARN, dma_order)); },
				PAGE_SIZE << dma_order));
			if (d.page == nullptr)
				return;
			++dma_buffers;
			d.pattern = rng.next() | 1u;
			d.ttl = 16 + rng.below(128);
			uint32_t *w = static_cast<uint32_t *>(page_address(d.page));
			for (size_t i = 0; i < (PAGE_SIZE << dma_order) / sizeof(uint32_t); ++i)
				w[i] = d.pattern * static_cast<uint32_t>(i + 1);
			return;
		}
	}

	void dma_complete(DmaBuffer &d)
	{
		const uint32_t *w = static_cast<const uint32_t *>(page_address(d.page));
		for (size_t i = 0; i < (PAGE_SIZE << dma_order) / sizeof(uint32_t); i += 16) {
			if (w[i] != d.pattern * static_cast<uint32_t>(i + 1)) {
				problem("DMA buffer damaged", w + i);
				break;
			}
		}
		struct page *p = d.page;
		timed_free([&] { __free_pages(p, dma_order); }, PAGE_SIZE << dma_order);
		d.page = nullptr;
	}

	void run(unsigned iterations)
	{
		for (unsigned it = 1; it <= iterations; ++it) {
			for (unsigned n = rng.below(4); n > 0; --n)
				receive(it);
			for (unsigned n = rng.below(4); n > 0; --n)
				process();
			if (rng.below(8) == 0)
				grow_tail();
			if (it % 256 == 0)
				queue_target = 1 + rng.below(queue_max);
			while (queue_count > queue_target)
				consume_one();
			dma_step();
			if (it % 1024 == 0)
				workload_validate("firmware", &st, it);
		}
		while (ring_count != 0) {
			Packet *p = ring[ring_head];
			ring_head = (ring_head + 1) % kRingSlots;
			--ring_count;
			free_packet(p);
		}
		while (queue_count != 0)
			consume_one();
		for (DmaBuffer &d : dma)
			if (d.page != nullptr)
				dma_complete(d);
		if (live != 0)
			problem("bytes still live after draining everything", nullptr);
	}
};

size_t firmware_available()
{
	if (g_packets == nullptr) {
		g_packets = kmem_cache_create("pkt_buf", sizeof(Packet), 0, SLAB_HWCACHE_ALIGN, packet_ctor);
		if (g_packets == nullptr)
			workload_setup_failed("firmware", "kmem_cache_create(pkt_buf) failed");
	}
	return g_packets != nullptr ? 1 : 0;
}

void firmware_run(uint32_t seed, kmm_workload_stats *st)
{
	unsigned long ctor_before = g_ctor_calls;
	kmem_cache_info before = {};
	kmem_cache_get_info(g_packets, &before);
	Firmware fw(*st, seed);
	fw.run(KMM_WORKLOAD_FIRMWARE_ITERATIONS);
	kmem_cache_info after = {};
	kmem_cache_get_info(g_packets, &after);
	unsigned long ctor_calls = g_ctor_calls - ctor_before;
	unsigned long slabs = after.slabs_allocated - before.slabs_allocated;
	if (ctor_calls != slabs * after.objects_per_slab) {
		printk("# workload firmware: ctor ran %lu times for %lu new slabs of %u objects\n", ctor_calls, slabs,
		       after.objects_per_slab);
		++st->problems;
	}
	printk("workload: firmware: %u iterations: %lu packets (%lu dropped, ring %u), %lu messages (%lu grown by "
	       "krealloc, %lu large), queue depth up to %u\n",
	       KMM_WORKLOAD_FIRMWARE_ITERATIONS, fw.packets, fw.dropped, kRingSlots, fw.messages, fw.grown, fw.large,
	       fw.queue_max);
	printk("workload: firmware: %lu DMA buffers of %lu B (%s), at most %u live (the zone's room, up to %u); "
	       "pkt_buf ctor ran %lu times for %lu slabs of %u objects\n",
	       fw.dma_buffers, static_cast<unsigned long>(PAGE_SIZE << fw.dma_order),
	       fw.dma_gfp == GFP_DMA ? "GFP_DMA" : "GFP_KERNEL: no DMA zone", fw.dma_slots, kDmaSlots, ctor_calls, slabs,
	       after.objects_per_slab);
}

} // namespace

KMM_WORKLOAD_BACKEND(30_firmware, {"firmware", firmware_available, 0, nullptr, nullptr, firmware_run, nullptr});
