/* Helpers shared by the cmocka unit tests. */
#ifndef DVA_TEST_SUPPORT_H
#define DVA_TEST_SUPPORT_H

#include <stddef.h>

/* Reads DVA_TEST_DATA_DIR/relpath whole (NUL-terminated); fails the test
 * when it cannot. Free with free(). */
char *dva_test_read_data(const char *relpath, size_t *len);

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

#include "doveadm/settings.h"

/* Applies option/value pairs (NULL-terminated) to a new configuration of
 * instance `name`, then finishes it into *s; returns 0, or -1 with *err
 * from the first failure. warned (emptied first) receives the last warning
 * the settings give; warned NULL ignores warnings. */
int dva_test_configure(const char *name, const char *const *pairs, dva_settings *s,
                       dva_error *err, char *warned, size_t warned_size);

/* Fails the test unless err is a usage error whose message holds every one
 * of the NULL-terminated needles. */
void dva_test_expect_usage_error(const dva_error *err, const char *const *needles);

/* A TCP socket listening on 127.0.0.1 at a port the kernel picks (written
 * to *port), with the given backlog; fails the test when it cannot. */
int dva_test_listen_loopback(unsigned *port, int backlog);

#endif
