/*
 * tests/cross/newlib/cxx_user.cpp — C++ firmware code in the newlib demo
 * image: plain, array, nothrow and over-aligned new/delete, which the libc
 * shim's kernel/lib/new_delete.cpp routes to kmm.
 */
#include <new>
#include <stdint.h>

#include <kmm/kmm.h>

namespace {

struct alignas(32) Sample {
	int32_t channel;
	int32_t value[5];
};

} // namespace

extern "C" int cxx_user_check(void)
{
	int failures = 0;
	Sample *s = new Sample{3, {1, 2, 3, 4, 5}};
	failures += ksize(s) < sizeof(Sample) || reinterpret_cast<uintptr_t>(s) % 32 != 0;
	delete s;
	int *values = new int[64];
	failures += ksize(values) < 64 * sizeof(int);
	delete[] values;
	char *text = new (std::nothrow) char[100];
	failures += text == nullptr || ksize(text) < 100;
	delete[] text;
	Sample *samples = new Sample[4];
	failures += reinterpret_cast<uintptr_t>(samples) % 32 != 0;
	delete[] samples;
	return failures;
}
