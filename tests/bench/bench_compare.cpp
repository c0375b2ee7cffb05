/*
 * tests/bench/bench_compare.cpp — kmm against the allocators people use on
 * the host, side by side in one binary (Google Benchmark): glibc malloc,
 * jemalloc, tcmalloc and mimalloc, 1 and 2 threads, workloads (a)–(c) of
 * the target suite (tests/cross/bench/bench_suite.cpp):
 *
 *   a-slot256, a-slot1024  slots of 8…512 B, free or allocate (random order)
 *   b-churn64              64-byte objects in a pool of 256: free a random
 *                          one, allocate its successor (kmm: kmem_cache and
 *                          kmalloc)
 *   c-frag                 16 B…4 KiB log-uniform; 1 step in 8 on 256
 *                          long-lived slots, the rest on a 64-slot ring
 *   e-remote               2 threads only, producer/consumer: thread 0
 *                          allocates 8…512 B blocks (touching them) and
 *                          passes them through a 1024-entry ring to thread
 *                          1, which frees them: every free is a remote free
 * One benchmark iteration is one operation (an alloc or a free); in a–c
 * each thread runs its own slots (no cross-thread frees).
 *
 * No global interposition: the process's malloc stays glibc's (checked at
 * start). glibc is called as __libc_malloc/__libc_free; jemalloc
 * (mallocx/dallocx), tcmalloc (tc_malloc/tc_free) and mimalloc
 * (mi_malloc/mi_free) are dlopen()ed RTLD_LOCAL and reached through
 * dlsym, so their malloc symbols never enter the global scope. Every
 * allocator is called through the same kind of function pointer.
 *
 * kmm is the KMM_NR_CPUS=2 build (kmm_mm_smp2). Its 2-thread runs only
 * happen with --kmm_smp (tools/bench_host.sh passes it once a ThreadSanitizer
 * run of them is clean); otherwise they are reported as skipped, "pending
 * the concurrency issue".
 *
 *   bench_compare [--kmm_smp] [--only_kmm] [google-benchmark flags]
 *     --only_kmm: no other allocator is loaded (the ThreadSanitizer check)
 */
#include <benchmark/benchmark.h>

#include <dlfcn.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <kmm/kmm.h>

extern "C" void *__libc_malloc(size_t size);
extern "C" void __libc_free(void *p);

namespace {

constexpr char kPending[] = "pending a clean ThreadSanitizer run";

struct Allocator {
	const char *name;
	void *(*alloc)(size_t);
	void (*release)(void *);
	bool kmm;
};

/* ---- kmm ---- */
constexpr size_t kArenaBytes = size_t{256} << 20;
struct kmem_cache *g_cache64;
bool g_kmm_smp;

void *kmm_alloc(size_t n) { return kmalloc(n, GFP_KERNEL); }
void kmm_release(void *p) { kfree(p); }
void *kmm_cache_alloc(size_t) { return kmem_cache_alloc(g_cache64, GFP_KERNEL); }
void kmm_cache_release(void *p) { kmem_cache_free(g_cache64, p); }

bool boot_kmm()
{
	size_t align = size_t{PAGE_SIZE} << KMM_MAX_ORDER;
	void *arena = std::aligned_alloc(align, kArenaBytes);
	if (arena == nullptr || kmm_add_region(reinterpret_cast<uintptr_t>(arena), kArenaBytes, KMM_ZONE_NORMAL) != 0 ||
	    kmm_init() != 0)
		return false;
	g_cache64 = kmem_cache_create("bench-64", 64, 0, 0, nullptr);
	return g_cache64 != nullptr;
}

/* ---- glibc ---- */
void *glibc_alloc(size_t n) { return __libc_malloc(n); }
void glibc_release(void *p) { __libc_free(p); }

/* ---- dlopen()ed allocators ---- */
void *(*g_mallocx)(size_t, int);
void (*g_dallocx)(void *, int);
void *je_alloc(size_t n) { return g_mallocx(n, 0); }
void je_release(void *p) { g_dallocx(p, 0); }

template <typename F> bool load(const char *lib, const char *sym, F *out)
{
	void *h = dlopen(lib, RTLD_NOW | RTLD_LOCAL);
	if (h == nullptr) {
		std::fprintf(stderr, "bench_compare: %s: %s\n", lib, dlerror());
		return false;
	}
	void *f = dlsym(h, sym);
	if (f == nullptr) {
		std::fprintf(stderr, "bench_compare: %s: no %s\n", lib, sym);
		return false;
	}
	*out = reinterpret_cast<F>(f);
	return true;
}

std::vector<Allocator> g_allocators;

void load_allocators()
{
	g_allocators.push_back({"kmm", kmm_alloc, kmm_release, true});
	g_allocators.push_back({"glibc", glibc_alloc, glibc_release, false});
	if (load("libjemalloc.so.2", "mallocx", &g_mallocx) && load("libjemalloc.so.2", "dallocx", &g_dallocx))
		g_allocators.push_back({"jemalloc", je_alloc, je_release, false});
	Allocator tc = {"tcmalloc", nullptr, nullptr, false};
	if (load("libtcmalloc_minimal.so.4", "tc_malloc", &tc.alloc) &&
	    load("libtcmalloc_minimal.so.4", "tc_free", &tc.release))
		g_allocators.push_back(tc);
	Allocator mi = {"mimalloc", nullptr, nullptr, false};
	if (load("libmimalloc.so.2", "mi_malloc", &mi.alloc) && load("libmimalloc.so.2", "mi_free", &mi.release))
		g_allocators.push_back(mi);
}

/* The process's own malloc must still be glibc's after the dlopen()s. */
bool malloc_is_glibc()
{
	void *libc = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);
	void *mine = dlsym(RTLD_DEFAULT, "malloc");
	void *glibc = libc != nullptr ? dlsym(libc, "malloc") : nullptr;
	Dl_info info = {};
	dladdr(mine, &info);
	std::fprintf(stderr, "bench_compare: the process's malloc is %p from %s (glibc's: %p)\n", mine,
		     info.dli_fname != nullptr ? info.dli_fname : "?", glibc);
	return mine != nullptr && mine == glibc;
}

/* ---- workloads ---- */

struct Xorshift32 {
	uint32_t x = 0x2545f491u;
	uint32_t next()
	{
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		return x;
	}
};

enum class Kind { kSlot, kChurn, kFrag, kRemote };

/* e-remote's hand-over: single producer (thread 0), single consumer
 * (thread 1). Each thread runs the same number of iterations, so every
 * run ends with the ring empty. */
struct RemoteRing {
	static constexpr uint32_t kSize = 1024;
	void *slot[kSize];
	alignas(64) std::atomic<uint32_t> head{0}; /* next to pop (consumer) */
	alignas(64) std::atomic<uint32_t> tail{0}; /* next to push (producer) */
};
RemoteRing g_ring;

void remote_producer(benchmark::State &state, const Allocator &a)
{
	Xorshift32 rng;
	for (auto _ : state) {
		uint32_t n = 8 + (rng.next() >> 8) % 505;
		auto *q = static_cast<unsigned char *>(a.alloc(n));
		if (q != nullptr) {
			q[0] = 1;
			q[n - 1] = 2;
		}
		uint32_t t = g_ring.tail.load(std::memory_order_relaxed);
		while (t - g_ring.head.load(std::memory_order_acquire) == RemoteRing::kSize)
			; /* full: the consumer is behind */
		g_ring.slot[t % RemoteRing::kSize] = q;
		g_ring.tail.store(t + 1, std::memory_order_release);
	}
}

void remote_consumer(benchmark::State &state, const Allocator &a)
{
	for (auto _ : state) {
		uint32_t h = g_ring.head.load(std::memory_order_relaxed);
		while (g_ring.tail.load(std::memory_order_acquire) == h)
			; /* empty: the producer is behind */
		void *q = g_ring.slot[h % RemoteRing::kSize];
		g_ring.head.store(h + 1, std::memory_order_release);
		if (q != nullptr)
			a.release(q);
	}
}

struct Workload {
	const char *name;
	Kind kind;
	unsigned slots;
	uint32_t size;
};

inline uint32_t frag_size(uint32_t x)
{
	uint32_t lo = 16u << (x & 7);
	return lo + (x >> 3) % lo;
}

struct Slots {
	std::vector<void *> p;
	explicit Slots(unsigned n) : p(n, nullptr) {}
	/* free slot i's block, or allocate n bytes into it (touching it) */
	inline void step(const Allocator &a, unsigned i, uint32_t n)
	{
		void *&s = p[i];
		if (s != nullptr) {
			a.release(s);
			s = nullptr;
			return;
		}
		auto *q = static_cast<unsigned char *>(a.alloc(n));
		if (q != nullptr) {
			q[0] = 1;
			q[n - 1] = 2;
		}
		s = q;
	}
	void clear(const Allocator &a)
	{
		for (void *&s : p)
			if (s != nullptr) {
				a.release(s);
				s = nullptr;
			}
	}
};

void run(benchmark::State &state, const Workload &w, const Allocator &a)
{
	if (a.kmm && state.threads() > 1 && !g_kmm_smp) {
		state.SkipWithError(kPending);
		return;
	}
	if (w.kind == Kind::kRemote) {
		if (state.thread_index() == 0)
			remote_producer(state, a);
		else
			remote_consumer(state, a);
		state.SetItemsProcessed(state.iterations());
		return;
	}
	Slots slots(w.kind == Kind::kFrag ? 320 : w.slots);
	Xorshift32 rng;
	rng.x += static_cast<uint32_t>(state.thread_index()) * 0x9e3779b9u;
	const unsigned mask = w.slots - 1;
	if (w.kind == Kind::kChurn)
		for (unsigned i = 0; i < w.slots; ++i)
			slots.step(a, i, w.size);
	uint32_t step = 0, victim = 0;
	for (auto _ : state) {
		uint32_t x = rng.next();
		switch (w.kind) {
		case Kind::kSlot:
			slots.step(a, x & mask, 8 + (x >> 8) % 505);
			break;
		case Kind::kChurn: /* even ops free a random object, odd ones refill it */
			if ((step & 1) == 0)
				victim = x & mask;
			slots.step(a, victim, w.size);
			break;
		case Kind::kFrag: {
			unsigned i = (x & 7) == 0 ? (x >> 3) & 255 : 256 + (step & 63);
			slots.step(a, i, frag_size(x >> 11));
			break;
		}
		case Kind::kRemote: break; /* above */
		}
		++step;
	}
	slots.clear(a);
	state.SetItemsProcessed(state.iterations());
}

const Workload kWorkloads[] = {
	{"a-slot256", Kind::kSlot, 256, 0},
	{"a-slot1024", Kind::kSlot, 1024, 0},
	{"b-churn64", Kind::kChurn, 256, 64},
	{"c-frag", Kind::kFrag, 256, 0},
	{"e-remote", Kind::kRemote, 0, 0},
};

} // namespace

/* jemalloc's TLS is initial-exec: dlopen() fails ("cannot allocate memory
 * in static TLS block") unless glibc reserves more surplus static TLS,
 * which only a tunable read at start-up does. So: re-exec once with it. */
void reexec_with_static_tls(char **argv)
{
	if (std::getenv("KMM_BENCH_REEXEC") != nullptr)
		return;
	std::string tunables = "glibc.rtld.optional_static_tls=65536";
	if (const char *old = std::getenv("GLIBC_TUNABLES"))
		tunables = std::string(old) + ":" + tunables;
	setenv("GLIBC_TUNABLES", tunables.c_str(), 1);
	setenv("KMM_BENCH_REEXEC", "1", 1);
	execv("/proc/self/exe", argv);
	std::perror("bench_compare: re-exec"); /* go on without jemalloc */
}

int main(int argc, char **argv)
{
	std::vector<char *> args;
	bool only_kmm = false;
	for (int i = 0; i < argc; ++i) {
		if (std::strcmp(argv[i], "--kmm_smp") == 0)
			g_kmm_smp = true;
		else if (std::strcmp(argv[i], "--only_kmm") == 0)
			only_kmm = true;
		else
			args.push_back(argv[i]);
	}
	if (!only_kmm)
		reexec_with_static_tls(argv);
	int nargs = static_cast<int>(args.size());
	if (!boot_kmm()) {
		std::fprintf(stderr, "bench_compare: cannot boot kmm\n");
		return 1;
	}
	if (only_kmm) {
		g_allocators.push_back({"kmm", kmm_alloc, kmm_release, true});
	} else {
		load_allocators();
		/* kmm, glibc and the three Debian libraries: a comparison that
		 * silently lost one would still look complete */
		if (g_allocators.size() != 5) {
			std::fprintf(stderr, "bench_compare: %zu of the 5 allocators loaded (see above); install "
					     "libjemalloc-dev libgoogle-perftools-dev libmimalloc-dev\n",
				     g_allocators.size());
			return 1;
		}
	}
	if (!only_kmm && !malloc_is_glibc()) { /* (a sanitizer's runtime interposes on purpose) */
		std::fprintf(stderr, "bench_compare: the process's malloc is not glibc's: interposed\n");
		return 1;
	}
	static const Allocator cache = {"kmm-kmem_cache", kmm_cache_alloc, kmm_cache_release, true};
	for (const Workload &w : kWorkloads) {
		std::vector<const Allocator *> list;
		if (w.kind == Kind::kChurn)
			list.push_back(&cache);
		for (const Allocator &a : g_allocators)
			list.push_back(&a);
		for (const Allocator *a : list) {
			std::string name = std::string(w.name) + "/" + a->name;
			auto *b = benchmark::RegisterBenchmark(name.c_str(),
							       [&w, a](benchmark::State &s) { run(s, w, *a); });
			if (w.kind != Kind::kRemote) /* a producer and a consumer, or nothing */
				b->Threads(1);
			b->Threads(2)->UseRealTime();
		}
	}
	benchmark::Initialize(&nargs, args.data());
	benchmark::RunSpecifiedBenchmarks();
	benchmark::Shutdown();
	return 0;
}
