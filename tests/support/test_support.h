/* Helpers shared by the cmocka unit tests. */
#ifndef DVA_TEST_SUPPORT_H
#define DVA_TEST_SUPPORT_H

#include <stddef.h>

/* Reads DVA_TEST_DATA_DIR/relpath whole (NUL-terminated); fails the test
 * when it cannot. Free with free(). */
char *dva_test_read_data(const char *relpath, size_t *len);

#endif
