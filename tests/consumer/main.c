/* tests/consumer/main.c — C code using kmm through <kmm/kmm.h> only. */
#include <kmm/kmm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct packet {
	unsigned len;
	unsigned char data[60];
};

int main(void)
{
	size_t size = 64u * KMM_PAGE_SIZE;
	unsigned char *ram = aligned_alloc(KMM_PAGE_SIZE, size);
	if (ram == NULL || kmm_add_region((uintptr_t)ram, size, KMM_ZONE_NORMAL) != 0 || kmm_init() != 0)
		return 1;
	struct page *p = alloc_pages(GFP_KERNEL, 2);
	if (p == NULL)
		return 2;
	unsigned long addr = (unsigned long)page_address(p);
	__free_pages(p, 2);
	if (kmm_validate() != 0)
		return 3;
	/* the slab layer from C: Linux's KMEM_CACHE and a helper */
	struct kmem_cache *packets = KMEM_CACHE(packet, SLAB_HWCACHE_ALIGN);
	if (packets == NULL || strcmp(kmem_cache_name(packets), "packet") != 0 ||
	    kmem_cache_size(packets) != sizeof(struct packet))
		return 4;
	struct packet *pkt = kmem_cache_zalloc(packets, GFP_KERNEL);
	char *name = kstrdup("consumer", GFP_KERNEL);
	if (pkt == NULL || pkt->len != 0 || name == NULL || strcmp(name, "consumer") != 0)
		return 5;
	kfree(name);
	kmem_cache_free(packets, pkt);
	kmem_cache_destroy(packets);
	if (kmm_slab_validate() != 0)
		return 6;
	printf("consumer: order-2 block at %#lx, %zu pages free of %zu\n", addr, kmm_free_pages(), kmm_managed_pages());
	return 0;
}
