/*
 * tests/host/support/arena.h — helpers shared by the host tests: memory the
 * test owns (aligned arenas), a report hook that captures kmm's lines, a
 * text sink for dumps, and the seeded PRNG of the stress tests.
 * Header-only; hosted C++ (the tests, not mm/, may use the standard library).
 */
#ifndef KMM_TESTS_SUPPORT_ARENA_H
#define KMM_TESTS_SUPPORT_ARENA_H

#include <cinttypes>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace kmm_test {

/* A zero-filled buffer of `size` bytes whose start is aligned to `align` (a
 * power of two). Tests carve memory maps out of it at chosen offsets. */
class Arena {
public:
	Arena(size_t size, size_t align) : size_(size)
	{
		raw_ = static_cast<unsigned char *>(std::calloc(1, size + align));
		if (raw_ == nullptr)
			std::abort();
		uintptr_t r = reinterpret_cast<uintptr_t>(raw_);
		base_ = (r + align - 1) & ~(uintptr_t{align} - 1);
	}
	~Arena() { std::free(raw_); }
	Arena(const Arena &) = delete;
	Arena &operator=(const Arena &) = delete;

	uintptr_t base() const { return base_; }
	uintptr_t at(size_t offset) const { return base_ + offset; }
	size_t size() const { return size_; }
	bool holds(uintptr_t addr) const { return addr - base_ < size_; }

private:
	unsigned char *raw_ = nullptr;
	uintptr_t base_ = 0;
	size_t size_ = 0;
};

/* Collects every line kmm reports (BUG lines, details, warnings). Threads
 * may report at once (SMP tests: two allocation-failure warnings), so the
 * hook appends under a lock; tests read `lines` at quiet points. */
struct ReportCapture {
	std::vector<std::string> lines;
	std::mutex lock;

	static void hook(void *ctx, const char *line)
	{
		auto *c = static_cast<ReportCapture *>(ctx);
		std::lock_guard<std::mutex> guard(c->lock);
		c->lines.emplace_back(line);
	}
	void clear()
	{
		std::lock_guard<std::mutex> guard(lock);
		lines.clear();
	}
	std::string last() const { return lines.empty() ? std::string() : lines.back(); }
	size_t count_containing(std::string_view needle) const
	{
		size_t n = 0;
		for (const auto &l : lines)
			if (l.find(needle) != std::string::npos)
				++n;
		return n;
	}
	/* Lines starting with "BUG " — one per misuse report. */
	size_t bug_lines() const
	{
		size_t n = 0;
		for (const auto &l : lines)
			if (l.rfind("BUG ", 0) == 0)
				++n;
		return n;
	}
};

/* A kmm_sink_fn target that appends to a string. */
struct TextSink {
	std::string text;
	static void sink(void *ctx, const char *s, size_t n) { static_cast<TextSink *>(ctx)->text.append(s, n); }
};

/* The way kmm prints addresses in its reports: "%#lx". */
inline std::string hex(uintptr_t v)
{
	char buf[32];
	std::snprintf(buf, sizeof buf, "%#lx", static_cast<unsigned long>(v));
	return buf;
}

/* SplitMix64: tiny, fast, and the same sequence on every platform (unlike
 * the standard distributions). */
class Rng {
public:
	explicit Rng(uint64_t seed) : state_(seed) {}
	uint64_t next()
	{
		uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
		z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
		return z ^ (z >> 31);
	}
	/* Uniform in [0, n) (n > 0; the tiny modulo bias does not matter here). */
	uint64_t below(uint64_t n) { return next() % n; }
	bool chance(unsigned percent) { return below(100) < percent; }

private:
	uint64_t state_;
};

/* The seed of a randomised test: $KMM_SEED if set (decimal or 0x-hex),
 * else the test's fixed default, so runs are reproducible either way. */
inline uint64_t test_seed(uint64_t fallback)
{
	const char *env = std::getenv("KMM_SEED");
	if (env != nullptr && *env != '\0')
		return std::strtoull(env, nullptr, 0);
	return fallback;
}

inline uint64_t env_u64(const char *name, uint64_t fallback)
{
	const char *env = std::getenv(name);
	if (env != nullptr && *env != '\0')
		return std::strtoull(env, nullptr, 0);
	return fallback;
}

} // namespace kmm_test

#endif
