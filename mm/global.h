/*
 * mm/global.h — the facade's global state: the one Reporter and the one
 * PageAllocator behind the C API. Only facade files (*_api.cpp) include it;
 * core classes take their instance as an argument.
 */
#ifndef KMM_MM_GLOBAL_H
#define KMM_MM_GLOBAL_H

#include "page_alloc.h"
#include "reporter.h"

namespace kmm {
Reporter &global_reporter();
PageAllocator &global_pages();
} // namespace kmm

#endif
