/*
 * tests/host/test_shared.cpp — the host runner of the shared tests
 * (tests/shared/<unit>_tests.cpp), the same bodies the kernel runs on every
 * board. Each case becomes the GoogleTest test "ktest_<suite>.<case>"
 * (registered by KTEST_SUITE, tests/shared/ktest_shared.h) and runs over a
 * freshly booted global kmm: a Normal arena and a small DMA arena, slab
 * layer up, bug policy "refuse", mm's reports captured. Around the case the
 * runner makes the kernel runner's checks (ktest_mm_before /
 * ktest_mm_check_after in kernel/ktest.h): both layers' validate(), no
 * leaked pages after shrinking every cache, exactly t->expected_bugs
 * misuse reports. ktest_fail() becomes ADD_FAILURE_AT.
 */
#include <gtest/gtest.h>

#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "../shared/ktest_shared.h"

namespace {

/* The arenas outlive every test; each test boots kmm over them afresh. */
constexpr size_t kBlockBytes = size_t{PAGE_SIZE} << KMM_MAX_ORDER;
constexpr size_t kNormalBytes = kBlockBytes * 2 > (size_t{4} << 20) ? kBlockBytes * 2 : (size_t{4} << 20);
constexpr size_t kDmaBytes = 64 * size_t{PAGE_SIZE};

struct Arena {
	void *base;
	size_t size;
	unsigned zone;
};

Arena g_arenas[2];

void *arena_memory(size_t size)
{
	void *p = std::aligned_alloc(kBlockBytes, (size + kBlockBytes - 1) / kBlockBytes * kBlockBytes);
	if (p == nullptr)
		std::abort();
	return p;
}

std::vector<std::string> g_reports;
void capture(void *, const char *line) { g_reports.emplace_back(line); }

struct SharedCase {
	std::string name;
	void (*run)(struct ktest *);
};

class SharedTest : public ::testing::Test {
public:
	explicit SharedTest(SharedCase c) : case_(std::move(c)) {}

	void SetUp() override
	{
		if (g_arenas[0].base == nullptr) {
			g_arenas[0] = {arena_memory(kNormalBytes), kNormalBytes, KMM_ZONE_NORMAL};
			g_arenas[1] = {arena_memory(kDmaBytes), kDmaBytes, KMM_ZONE_DMA};
		}
		g_reports.clear();
		kmm_shutdown();
		kmm_set_report_hook(capture, nullptr);
		kmm_set_bug_policy(KMM_BUG_REFUSE);
		kmm_set_oom_hook(nullptr, nullptr);
		for (const Arena &a : g_arenas)
			ASSERT_EQ(kmm_add_region(reinterpret_cast<uintptr_t>(a.base), a.size, a.zone), 0);
		ASSERT_EQ(kmm_init(), 0);
		/* The kernel's boot order: slab layer (kmalloc caches) before the tests. */
		ASSERT_GT(kmalloc_max_cache_size(), 0u);
	}

	void TestBody() override
	{
		struct ktest t = {case_.name.c_str(), 0, 0};
		ktest_mm_snapshot before = ktest_mm_before();
		case_.run(&t);
		ktest_mm_check_after(&t, before);
		if (HasFailure())
			for (const std::string &line : g_reports)
				std::printf("# kmm: %s\n", line.c_str());
	}

	void TearDown() override
	{
		kmm_shutdown();
		kmm_set_report_hook(nullptr, nullptr);
	}

private:
	SharedCase case_;
};

} // namespace

void ktest_fail(struct ktest *t, const char *file, int line, const char *fmt, ...)
{
	++t->failures;
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	std::vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	ADD_FAILURE_AT(file, line) << t->name << ": " << buf;
}

bool ktest_host_register(const char *suite, const struct ktest_case *cases, size_t nr_cases)
{
	std::string suite_name = std::string("ktest_") + suite;
	for (size_t i = 0; i < nr_cases; ++i) {
		SharedCase c{std::string(suite) + "." + cases[i].name, cases[i].run};
		::testing::RegisterTest(suite_name.c_str(), cases[i].name, nullptr, nullptr, __FILE__, __LINE__,
					[c]() -> ::testing::Test * { return new SharedTest(c); });
	}
	return true;
}

size_t ktest_env_zone_bytes(unsigned int zone)
{
	size_t bytes = 0;
	for (const Arena &a : g_arenas)
		if (a.zone == zone)
			bytes += a.size;
	return bytes;
}

bool ktest_env_in_zone(uintptr_t addr, unsigned int zone)
{
	for (const Arena &a : g_arenas) {
		uintptr_t start = reinterpret_cast<uintptr_t>(a.base);
		if (a.zone == zone && addr >= start && addr - start < a.size)
			return true;
	}
	return false;
}
