/*
 * mm/kmm_api.cpp — whole-library facade calls that span layers
 * (kmm_shutdown). Layers above the page allocator register their reset here.
 */
#include <kmm/kmm.h>

#include "global.h"

extern "C" void kmm_shutdown(void)
{
	kmm::global_slab().reset(); /* forgets caches; their pages go with the page allocator's reset */
	kmm::global_pages().reset();
	kmm::global_reporter().reset_counts();
}
