/* SPDX-License-Identifier: MIT */
/* An in-memory transport for tests: a scripted peer. Bytes pushed with
 * dva_memory_transport_push() are what the "server" sends; everything the
 * client writes is captured. Read and write sizes can be limited to
 * exercise every split of the stream. */
#ifndef DOVEADM_MEMORY_TRANSPORT_H
#define DOVEADM_MEMORY_TRANSPORT_H

#if defined(DVA_LAYER_BUILD) && !defined(DVA_SEES_TRANSPORT)
#error "doveadm/memory_transport.h belongs to the transport layer (doc/ARCHITECTURE.md)"
#endif

#include <stdbool.h>
#include <stddef.h>

#include "doveadm/transport.h"

dva_transport *dva_memory_transport_new(void);

/* Queues bytes for the client to read. */
void dva_memory_transport_push(dva_transport *t, const void *data, size_t len);
void dva_memory_transport_push_str(dva_transport *t, const char *s);
/* After the queued bytes are read, reads return DVA_IO_EOF. */
void dva_memory_transport_eof(dva_transport *t);
/* At most n bytes per read / write (0: unlimited; 1: one byte at a time). */
void dva_memory_transport_set_read_chunk(dva_transport *t, size_t n);
void dva_memory_transport_set_write_chunk(dva_transport *t, size_t n);
/* connect() reports "in progress" this many times before it succeeds. */
void dva_memory_transport_set_connect_delay(dva_transport *t, unsigned calls);
/* connect() fails with this error (code and message). */
void dva_memory_transport_fail_connect(dva_transport *t, dva_errcode code,
                                       const char *message);
/* read() fails with this error once the queued bytes are read. */
void dva_memory_transport_fail_read(dva_transport *t, dva_errcode code,
                                    const char *message);

/* Called after each client write with all bytes written so far; a test
 * script can push replies from it. */
typedef void dva_memory_on_write(dva_transport *t, const char *written, size_t len,
                                 void *ctx);
void dva_memory_transport_on_write(dva_transport *t, dva_memory_on_write *fn,
                                   void *ctx);

/* Everything the client wrote so far (NUL-terminated copy kept inside). */
const char *dva_memory_transport_written(const dva_transport *t, size_t *len);
void dva_memory_transport_clear_written(dva_transport *t);
/* Bytes pushed but not yet read by the client. */
size_t dva_memory_transport_unread(const dva_transport *t);
bool dva_memory_transport_closed(const dva_transport *t);

#endif
