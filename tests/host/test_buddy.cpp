#include <gtest/gtest.h>
#include "page_alloc.h"
TEST(Smoke, Init) {
  alignas(4096) static unsigned char mem[1 << 20];
  kmm::Reporter rep;
  kmm::PageAllocator pa(&rep);
  ASSERT_EQ(pa.add_region(reinterpret_cast<uintptr_t>(mem), sizeof mem, KMM_ZONE_NORMAL), 0);
  ASSERT_EQ(pa.init(), 0);
  EXPECT_EQ(pa.validate(), 0u);
  struct page* p = pa.alloc(0, 0);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(pa.validate(), 0u);
  EXPECT_TRUE(pa.free(p, 0));
  EXPECT_EQ(pa.validate(), 0u);
  pa.buddyinfo([](void*, const char* s, size_t n){ fwrite(s,1,n,stdout);}, nullptr);
}
