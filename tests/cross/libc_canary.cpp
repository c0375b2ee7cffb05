/*
 * tests/cross/libc_canary.cpp — an image that deliberately takes strlen from
 * newlib's libc. Its map must make tools/cmake/check_no_libc.cmake fail
 * (CTest kmm_libc_canary.detected, WILL_FAIL): proof the check can fail.
 */
#include <stddef.h>

extern "C" size_t strlen(const char *text);

extern "C" int kmm_main(void)
{
	static const char *volatile text = "libc";
	return static_cast<int>(strlen(text)) == 4 ? 0 : 1;
}
