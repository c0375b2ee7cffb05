/*
 * kmm/kmm.h — everything of kmm's C API in one include.
 */
#ifndef KMM_KMM_H
#define KMM_KMM_H

#include <kmm/config.h>
#include <kmm/gfp.h>
#include <kmm/page_alloc.h>
#include <kmm/report.h>
#include <kmm/slab.h>

#endif /* KMM_KMM_H */
