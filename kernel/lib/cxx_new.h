/*
 * kernel/lib/cxx_new.h — <new> for freestanding code: the toolchain's own
 * where it has C++ headers (arm-none-eabi), else what this project needs of
 * it, declared exactly as libstdc++ does (riscv64-unknown-elf has none):
 * std::align_val_t, std::nothrow_t / std::nothrow, std::new_handler with
 * std::set_new_handler / get_new_handler, and the nothrow forms of
 * operator new/delete (the other forms are implicitly declared in every
 * translation unit). Used by kernel/lib/new_delete.cpp and its tests.
 */
#ifndef KMM_KERNEL_LIB_CXX_NEW_H
#define KMM_KERNEL_LIB_CXX_NEW_H

#include <stddef.h>

#if __has_include(<new>)
#include <new>
#else
namespace std {
enum class align_val_t : size_t {};
struct nothrow_t {
	explicit nothrow_t() = default;
};
extern const nothrow_t nothrow;
typedef void (*new_handler)();
new_handler set_new_handler(new_handler handler) noexcept;
new_handler get_new_handler() noexcept;
} // namespace std

void *operator new(size_t size, const std::nothrow_t &) noexcept;
void *operator new[](size_t size, const std::nothrow_t &) noexcept;
void *operator new(size_t size, std::align_val_t align, const std::nothrow_t &) noexcept;
void *operator new[](size_t size, std::align_val_t align, const std::nothrow_t &) noexcept;
void operator delete(void *p, const std::nothrow_t &) noexcept;
void operator delete[](void *p, const std::nothrow_t &) noexcept;
void operator delete(void *p, std::align_val_t, const std::nothrow_t &) noexcept;
void operator delete[](void *p, std::align_val_t, const std::nothrow_t &) noexcept;
inline void *operator new(size_t, void *where) noexcept { return where; }
#endif

#endif /* KMM_KERNEL_LIB_CXX_NEW_H */
