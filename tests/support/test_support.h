/* SPDX-License-Identifier: MIT */
/* Helpers shared by the cmocka unit tests that need nothing of the
 * library; those of a layer are in test_support_<layer>.h, so a test
 * links only the layers it tests (tests/CMakeLists.txt). */
#ifndef DVA_TEST_SUPPORT_H
#define DVA_TEST_SUPPORT_H

#include <stddef.h>

/* Reads DVA_TEST_DATA_DIR/relpath whole (NUL-terminated); fails the test
 * when it cannot. Free with free(). */
char *dva_test_read_data(const char *relpath, size_t *len);

/* A TCP socket listening on 127.0.0.1 at a port the kernel picks (written
 * to *port), with the given backlog; fails the test when it cannot. */
int dva_test_listen_loopback(unsigned *port, int backlog);

#endif
