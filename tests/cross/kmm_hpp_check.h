/*
 * tests/cross/kmm_hpp_check.h — the C++ wrappers of kmm/kmm.hpp on a
 * target: declared here, run by tests/cross/main.cpp after kmm_init().
 */
#ifndef KMM_TESTS_CROSS_KMM_HPP_CHECK_H
#define KMM_TESTS_CROSS_KMM_HPP_CHECK_H

/* Prints one "ok - …" / "not ok - …" line per check through `check` (which
 * returns 1 for a failed check, else 0); returns the number of failures. */
int kmm_hpp_check(int (*check)(bool ok, const char *what));

#endif
