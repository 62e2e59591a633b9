/* SPDX-License-Identifier: MIT */
/* Test helpers of the protocol layer: replies built by hand or parsed
 * from a capture. */
#ifndef DVA_TEST_SUPPORT_REPLY_H
#define DVA_TEST_SUPPORT_REPLY_H

#include <stddef.h>

#include "doveadm/reply.h"

/* Builds a reply holding n values (explicit lengths, so a value may hold
 * NUL bytes), stored the way reply.c stores them. */
void dva_test_build_reply_len(dva_reply *r, dva_status status, size_t ncols,
                              const char *const *vals, const size_t *lens, size_t n);
/* The same for NUL-terminated values. */
void dva_test_build_reply(dva_reply *r, dva_status status, size_t ncols,
                          const char *const *vals, size_t n);
/* Parses the capture file captures/<name> as one whole reply cut into ncols
 * columns; fails the test unless it is exactly one complete reply. */
void dva_test_parse_capture(const char *name, size_t ncols, dva_reply *out);

#endif
