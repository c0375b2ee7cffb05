/*
 * tests/host/test_host_hold.cpp — the host's emulated "IRQs masked": the
 * CPU-slot hold of arch/host/arch_host.cpp (docs/DESIGN.md "Host CPU
 * model"), on the 4-CPU arch build.
 *
 * A slot whose only thread is its owner is biased: the owner's hold is a
 * plain store and load, and everyone else who needs the slot (a cross-CPU
 * call, a stop, a thread sharing it) revokes the bias first, with
 * membarrier and a wait for the owner to leave. These tests check that
 * exclusion from the outside:
 *   - the bias: a thread alone on a slot has it (unless the build has no
 *     bias: ThreadSanitizer, no membarrier), a cross-CPU call keeps it, a
 *     sharer's first hold withdraws it, an exiting owner clears it;
 *   - no lost update: worker threads increment their slot's plain counter
 *     inside holds (read, spin, write: a wide window), the main thread
 *     increments the same counters through kmm_arch_cpu_call and
 *     kmm_arch_cpus_stop (the holds mm takes, arch/host_hold.h: two in
 *     four the inline paths' try, one the inline hold, one
 *     kmm_host_cpu_hold; a mutated inline hold or try that skips the
 *     revoked test fails 3 runs in 10);
 *     workers are replaced as they exit (new threads
 *     are dealt freed slots and biased again) and, in the second run, more
 *     threads than CPUs share slots. Every counter must equal the number of
 *     increments made to it. A revoker that does not wait for the owner
 *     loses updates here in every run;
 *   - one membarrier per revocation, none otherwise: counted, since a
 *     revoker without it loses no update on x86 in practice (below);
 *   - without membarrier (registration made to fail, in a child process)
 *     no slot is biased and the holds still exclude.
 * Time-bounded (0.6 s per stress run, 0.2 s in the child), so it also fits
 * ThreadSanitizer.
 */
#include <gtest/gtest.h>

#include <arch/arch.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#if defined(__linux__) && __has_include(<linux/membarrier.h>)
#include <linux/membarrier.h>
#include <sys/syscall.h>
#include <unistd.h>
#define HOLD_TEST_MEMBARRIER 1
#else
#define HOLD_TEST_MEMBARRIER 0
#endif

#if HOLD_TEST_MEMBARRIER && defined(__GLIBC__)
#include <dlfcn.h>

#include <cerrno>
#include <cstdarg>
#define HOLD_TEST_COUNTS_MEMBARRIERS 1

/* The membarriers a revoker issues, counted: arch_host makes them with
 * syscall(2), and this definition takes libc's place in this binary (the
 * executable's symbol wins), counts MEMBARRIER_CMD_PRIVATE_EXPEDITED and
 * forwards every call to libc's. A revoker that skips the barrier loses
 * no update in the stress runs below on x86: that takes the owner's store
 * to sit in its store buffer across the revoker's whole check, a race
 * that on x86 hardly ever happens (it is the point of the barrier that it
 * may). The count catches it every time. */
std::atomic<unsigned long> membarriers_issued{0};
/* Set: registering for membarrier fails (EINVAL), as on a kernel without it. */
std::atomic<bool> membarrier_registration_fails{false};

using Syscall = long (*)(long, ...);
std::atomic<Syscall> libc_syscall{nullptr}; /* constant-initialized: no guard, no futex */

extern "C" long syscall(long number, ...) noexcept
{
	va_list ap;
	va_start(ap, number);
	long arg[6];
	for (long &a : arg)
		a = va_arg(ap, long); /* six, as libc's own syscall() passes on */
	va_end(ap);
	if (number == SYS_membarrier && arg[0] == MEMBARRIER_CMD_PRIVATE_EXPEDITED)
		membarriers_issued.fetch_add(1, std::memory_order_relaxed);
	if (number == SYS_membarrier && arg[0] == MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED &&
	    membarrier_registration_fails.load()) {
		errno = EINVAL;
		return -1;
	}
	Syscall libc = libc_syscall.load(std::memory_order_relaxed);
	if (libc == nullptr) { /* the same answer for every thread */
		libc = reinterpret_cast<Syscall>(dlsym(RTLD_NEXT, "syscall"));
		libc_syscall.store(libc, std::memory_order_relaxed);
	}
	return libc(number, arg[0], arg[1], arg[2], arg[3], arg[4], arg[5]);
}
#else
#define HOLD_TEST_COUNTS_MEMBARRIERS 0
#endif

#include <arch/host_hold.h> /* kmm_host_cpu_hold/unhold and their inline common case */

#include "support/job_thread.h"
extern "C" unsigned int kmm_host_cpu_threads(unsigned int cpu);
extern "C" unsigned int kmm_host_cpu_biased(unsigned int cpu);

namespace {

static_assert(KMM_NR_CPUS == 4, "this test is built against the 4-CPU arch");
constexpr unsigned kCpus = KMM_NR_CPUS;

/* Whether arch_host biases slots in this build and on this kernel (the
 * same conditions as its own, checked independently). */
bool bias_expected()
{
#if defined(__SANITIZE_THREAD__)
	return false;
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
	return false;
#endif
#endif
#if HOLD_TEST_COUNTS_MEMBARRIERS
	if (membarrier_registration_fails.load())
		return false;
#endif
#if HOLD_TEST_MEMBARRIER
	long cmds = syscall(SYS_membarrier, MEMBARRIER_CMD_QUERY, 0, 0);
	return cmds >= 0 && (cmds & MEMBARRIER_CMD_PRIVATE_EXPEDITED) != 0;
#else
	return false;
#endif
}

/* Membarriers issued so far (where they can be counted). */
constexpr bool kCountsMembarriers = HOLD_TEST_COUNTS_MEMBARRIERS;
unsigned long membarriers()
{
#if HOLD_TEST_COUNTS_MEMBARRIERS
	return membarriers_issued.load();
#else
	return 0;
#endif
}

/* From now on, registering for membarrier fails (where it can be made to). */
void fail_membarrier_registration()
{
#if HOLD_TEST_COUNTS_MEMBARRIERS
	membarrier_registration_fails.store(true);
#endif
}

/* A JobThread that also takes its CPU slot's hold once, on request. */
class Helper : public kmm_test::JobThread {
public:
	unsigned hold_once()
	{
		unsigned cpu = ~0u;
		run([&] {
			cpu = kmm_host_cpu_hold();
			kmm_host_cpu_unhold();
		});
		return cpu;
	}
};

/* Every revocation of a biased slot issues exactly one membarrier (a stop
 * one for all the slots it revokes); nothing else does. */
#define EXPECT_MEMBARRIERS(since, n, what)                                             \
	do {                                                                           \
		if (kCountsMembarriers) {                                              \
			EXPECT_EQ(membarriers() - (since), (n)) << what;               \
		}                                                                      \
	} while (0)

void count_call(void *ran) { ++*static_cast<unsigned long *>(ran); }

TEST(HostHold, BiasedWhileAloneKeptByCallsWithdrawnBySharingClearedAtExit)
{
	const unsigned bias = bias_expected() ? 1u : 0u;
	const unsigned self = kmm_arch_cpu_id();
	for (unsigned c = 0; c < kCpus; ++c)
		ASSERT_EQ(kmm_host_cpu_threads(c), c == self ? 1u : 0u) << "other tests' threads have exited";

	unsigned long since = membarriers();
	std::vector<std::unique_ptr<Helper>> helpers;
	std::vector<unsigned> cpus;
	for (unsigned i = 1; i < kCpus; ++i) {
		helpers.push_back(std::make_unique<Helper>());
		cpus.push_back(helpers.back()->hold_once());
		EXPECT_EQ(kmm_host_cpu_biased(cpus.back()), bias) << "a slot of its own: biased";
	}
	EXPECT_EQ(std::set<unsigned>(cpus.begin(), cpus.end()).size(), size_t{kCpus - 1});
	EXPECT_MEMBARRIERS(since, 0u, "owners' holds revoke nothing");

	/* A cross-CPU call revokes, for its own duration only. */
	unsigned long ran = 0;
	since = membarriers();
	ASSERT_EQ(kmm_arch_cpu_call(cpus[0], count_call, &ran), 0);
	EXPECT_EQ(ran, 1u);
	EXPECT_MEMBARRIERS(since, bias, "a call to a biased slot: one membarrier");
	EXPECT_EQ(kmm_host_cpu_biased(cpus[0]), bias) << "a call keeps the bias";
	EXPECT_EQ(helpers[0]->hold_once(), cpus[0]);
	EXPECT_EQ(kmm_host_cpu_biased(cpus[0]), bias);

	/* A stop revokes every biased slot but the caller's, with one membarrier. */
	unsigned biased_others = 0;
	for (unsigned c = 0; c < kCpus; ++c)
		biased_others += c != self ? kmm_host_cpu_biased(c) : 0;
	EXPECT_EQ(biased_others, bias * (kCpus - 1));
	since = membarriers();
	ASSERT_EQ(kmm_arch_cpus_stop(), 0);
	kmm_arch_cpus_resume();
	EXPECT_MEMBARRIERS(since, bias, "a stop: one membarrier for all");
	for (size_t i = 0; i < cpus.size(); ++i)
		EXPECT_EQ(kmm_host_cpu_biased(cpus[i]), bias) << "a stop keeps the bias";

	/* An owner's exit clears the bias; the next thread dealt the slot gets it. */
	helpers[0].reset();
	EXPECT_EQ(kmm_host_cpu_threads(cpus[0]), 0u);
	EXPECT_EQ(kmm_host_cpu_biased(cpus[0]), 0u) << "the owner exited";
	helpers[0] = std::make_unique<Helper>();
	EXPECT_EQ(helpers[0]->hold_once(), cpus[0]) << "dealt the freed slot";
	EXPECT_EQ(kmm_host_cpu_biased(cpus[0]), bias) << "biased again";

	/* A fifth thread is dealt the lowest slot (all have one thread): being
	 * dealt changes nothing, its first hold withdraws the bias, and it
	 * stays withdrawn while both threads live. */
	const unsigned shared = 0;
	const unsigned before = kmm_host_cpu_biased(shared);
	if (shared != self) {
		EXPECT_EQ(before, bias);
	}
	{
		Helper sharer;
		unsigned cpu = ~0u;
		sharer.run([&] { cpu = kmm_arch_cpu_id(); });
		ASSERT_EQ(cpu, shared);
		EXPECT_EQ(kmm_host_cpu_threads(shared), 2u);
		EXPECT_EQ(kmm_host_cpu_biased(shared), before) << "dealt, no hold yet";
		since = membarriers();
		EXPECT_EQ(sharer.hold_once(), shared);
		EXPECT_MEMBARRIERS(since, before, "the sharer's first hold withdraws the bias: one membarrier");
		EXPECT_EQ(kmm_host_cpu_biased(shared), 0u) << "withdrawn by the sharer's hold";
		/* the first thread's next hold backs out and takes the word */
		if (shared == self) {
			EXPECT_EQ(kmm_host_cpu_hold(), shared);
			kmm_host_cpu_unhold();
		} else {
			for (size_t i = 0; i < cpus.size(); ++i) {
				if (cpus[i] == shared) {
					EXPECT_EQ(helpers[i]->hold_once(), shared);
				}
			}
		}
		EXPECT_EQ(kmm_host_cpu_biased(shared), 0u);
		since = membarriers();
		EXPECT_EQ(sharer.hold_once(), shared);
		ASSERT_EQ(kmm_arch_cpu_call(shared, count_call, &ran), 0);
		EXPECT_MEMBARRIERS(since, 0u, "holds of and calls to an unbiased slot revoke nothing");
	}
	EXPECT_EQ(kmm_host_cpu_threads(shared), 1u);
	EXPECT_EQ(kmm_host_cpu_biased(shared), 0u) << "not dealt again with no live thread";
}

/* The per-slot data the holds guard: a plain counter, a line each. */
struct alignas(64) Counter {
	unsigned long value = 0;
};
Counter counters[kCpus];

/* One increment with a window: read, spin, write. Two increments that
 * overlap lose one. */
__attribute__((noinline)) void bump(unsigned cpu, unsigned spin)
{
	volatile unsigned long *v = &counters[cpu].value;
	const unsigned long old = *v;
	for (unsigned i = 0; i < spin; ++i)
		std::atomic_signal_fence(std::memory_order_seq_cst); /* not folded away */
	*v = old + 1;
}

void bump_by_call(void *cpu) { bump(static_cast<unsigned>(reinterpret_cast<uintptr_t>(cpu)), 0); }

struct StressRun {
	unsigned workers;    /* live worker threads; more than kCpus - 1 share slots */
	unsigned long life;  /* holds per worker thread, then a new thread */
	unsigned spin;       /* the window inside each worker's hold */
	std::chrono::milliseconds duration;
};

/* The inline paths' try (arch/host_hold.h cpu_try_hold) takes only the
 * biased owner's outermost hold: never inside another hold (its unhold
 * would end the outer one's exclusion early), never on an unbiased slot. */
TEST(HostHold, TryHoldOnlyForTheBiasedOwnersOutermostHold)
{
	Helper owner;
	owner.run([&] {
		const unsigned cpu = kmm_arch_cpu_id();
		const bool biased = kmm_host_cpu_biased(cpu) != 0;
		EXPECT_EQ(biased, bias_expected());
		unsigned held = ~0u;
		ASSERT_EQ(kmm::host::cpu_try_hold(held), biased);
		if (biased) { /* (its section makes no call that holds: nothing nests in it) */
			EXPECT_EQ(held, cpu);
			kmm::host::cpu_try_unhold(held);
		}
		EXPECT_EQ(kmm_host_cpu_hold(), cpu);
		EXPECT_FALSE(kmm::host::cpu_try_hold(held)) << "no try inside a hold";
		kmm_host_cpu_unhold();
		EXPECT_EQ(kmm::host::cpu_try_hold(held), biased) << "outermost again";
		if (biased)
			kmm::host::cpu_try_unhold(held);
	});
}

/* Workers hold and bump; the main thread bumps the same counters through
 * cross-CPU calls and stops. Checks that no increment was lost; returns
 * how often a slot was seen biased (0 where no bias is expected). */
unsigned long stress_run(const StressRun &run)
{
	const unsigned self = kmm_arch_cpu_id();
	for (Counter &c : counters)
		c.value = 0;
	std::atomic<bool> stop{false};
	std::atomic<unsigned long> by_workers[kCpus] = {};
	std::atomic<unsigned long> threads_started{0}, moved{0};
	unsigned long by_calls[kCpus] = {}, stops = 0, samples = 0, biased_samples = 0;
	const unsigned long membarriers_before = membarriers();

	std::vector<std::thread> lanes;
	for (unsigned i = 0; i < run.workers; ++i)
		lanes.emplace_back([&] {
			while (!stop.load(std::memory_order_relaxed)) {
				std::thread worker([&] {
					unsigned long n = 0;
					const unsigned cpu = kmm_arch_cpu_id();
					while (n < run.life && !stop.load(std::memory_order_relaxed)) {
						/* the holds mm takes (arch/host_hold.h): two
						 * in four the inline paths' try, falling back
						 * to the inline hold as their out-of-line twins
						 * do; one the inline hold; one out of line */
						const unsigned kind = static_cast<unsigned>(n & 3);
						unsigned held = ~0u;
						const bool tried = kind <= 1 && kmm::host::cpu_try_hold(held);
						if (!tried)
							held = kind <= 2 ? kmm::host::cpu_hold() : kmm_host_cpu_hold();
						bump(held, run.spin);
						if (tried)
							kmm::host::cpu_try_unhold(held);
						else if (kind <= 2)
							kmm::host::cpu_unhold();
						else
							kmm_host_cpu_unhold();
						if (held != cpu)
							moved.fetch_add(1, std::memory_order_relaxed);
						++n;
					}
					by_workers[cpu].fetch_add(n, std::memory_order_relaxed);
				});
				worker.join();
				threads_started.fetch_add(1, std::memory_order_relaxed);
			}
		});

	const auto until = std::chrono::steady_clock::now() + run.duration;
	for (unsigned long k = 0; std::chrono::steady_clock::now() < until; ++k) {
		const unsigned cpu = static_cast<unsigned>(k % kCpus);
		++samples;
		biased_samples += kmm_host_cpu_biased(cpu);
		if (cpu == self && (k / kCpus) % 2 == 0) {
			if (kmm_arch_cpus_stop() != 0) {
				ADD_FAILURE() << "kmm_arch_cpus_stop refused";
				break;
			}
			for (unsigned other = 0; other < kCpus; ++other)
				if (other != self)
					bump(other, 0);
			kmm_arch_cpus_resume();
			++stops;
		} else {
			if (kmm_arch_cpu_call(cpu, bump_by_call, reinterpret_cast<void *>(uintptr_t{cpu})) != 0) {
				ADD_FAILURE() << "kmm_arch_cpu_call(" << cpu << ") refused";
				break;
			}
			++by_calls[cpu];
		}
	}
	stop.store(true);
	for (std::thread &t : lanes)
		t.join();

	unsigned long worker_bumps = 0, call_bumps = 0;
	for (unsigned cpu = 0; cpu < kCpus; ++cpu) {
		const unsigned long want = by_workers[cpu] + by_calls[cpu] + (cpu != self ? stops : 0);
		EXPECT_EQ(counters[cpu].value, want)
			<< "cpu " << cpu << ": " << static_cast<long>(want - counters[cpu].value) << " increments lost (workers "
			<< by_workers[cpu] << ", calls " << by_calls[cpu] << ", stops " << stops << ")";
		worker_bumps += by_workers[cpu];
		call_bumps += by_calls[cpu];
	}
	const unsigned long revocations = membarriers() - membarriers_before;
	std::printf("workers %u (%lu threads) spin %u: %lu worker increments, %lu by calls, %lu stops; "
		    "slot biased at %lu of %lu calls/stops, %lu membarriers\n",
		    run.workers, threads_started.load(), run.spin, worker_bumps, call_bumps, stops, biased_samples,
		    samples, revocations);
	EXPECT_EQ(moved.load(), 0u) << "a worker's hold is on the slot it was dealt";
	EXPECT_GT(worker_bumps, 0u);
	EXPECT_GT(call_bumps, 0u);
	EXPECT_GT(stops, 0u);
	if (!bias_expected()) {
		EXPECT_EQ(biased_samples, 0u) << "no bias in this build";
		EXPECT_EQ(revocations, 0u);
	} else if (kCountsMembarriers && biased_samples != 0) {
		EXPECT_GT(revocations, 0u) << "biased slots were called and stopped";
	}
	return biased_samples;
}

/* stress_run until a run exercised the biased path (where there is one),
 * at most three runs, each checked in full. (A run in which the main
 * thread never saw a slot biased happened about once in 370 on a heavily
 * loaded machine: a worker lives about 1 ms, less than a time slice, so
 * main may sample only between workers' lives; and deal() biases only if
 * the slot's word is free at that moment, which main's calls and stops
 * keep taken most of the time. No update was lost in those runs: only the
 * coverage was missing.) */
void stress_exclusion(const StressRun &run)
{
	unsigned long biased = 0;
	for (unsigned attempt = 0; attempt < 3 && biased == 0; ++attempt) {
		biased = stress_run(run);
		if (!bias_expected() || ::testing::Test::HasFailure())
			return;
	}
	EXPECT_GT(biased, 0u) << "no run of three exercised the biased path";
}

/* A slot each: the owners' biased holds against calls and stops; owners
 * are replaced (a new thread is dealt the freed slot, biased again). */
TEST(HostHold, NoLostUpdateOwnersAgainstCallsAndStops)
{
	stress_exclusion({kCpus - 1, 20000, 64, std::chrono::milliseconds(600)});
}

/* More threads than CPUs: sharers withdraw biases, exits and new threads
 * bring them back, calls and stops revoke whatever is biased. */
TEST(HostHold, NoLostUpdateSharedSlotsAndRecycledThreads)
{
	stress_exclusion({kCpus + 1, 3000, 64, std::chrono::milliseconds(600)});
}

/* Where membarrier cannot be registered, no slot is ever biased: every
 * hold takes the TTAS word, and excludes as before. In a child process
 * (a "threadsafe" death test runs this binary afresh), since arch_host
 * registers once per process, at its first deal. */
TEST(HostHoldDeathTest, WithoutMembarrierNoSlotIsBiasedAndHoldsStillExclude)
{
	if (!kCountsMembarriers)
		GTEST_SKIP() << "needs glibc's syscall() to stand in for";
	GTEST_FLAG_SET(death_test_style, "threadsafe");
	EXPECT_EXIT(
		{
			fail_membarrier_registration(); /* before this process's first deal */
			Helper alone;
			const unsigned cpu = alone.hold_once();
			EXPECT_EQ(kmm_host_cpu_biased(cpu), 0u) << "alone on its slot, yet not biased";
			stress_exclusion({kCpus - 1, 20000, 64, std::chrono::milliseconds(200)});
			std::fflush(stdout);
			std::_Exit(::testing::Test::HasFailure() ? 1 : 0);
		},
		::testing::ExitedWithCode(0), "");
}

} // namespace
