/* SPDX-License-Identifier: MIT */
/* A growable byte buffer with a read position, bounded by a maximum size. */
#ifndef DVA_BYTEBUF_H
#define DVA_BYTEBUF_H

#include <stddef.h>

typedef struct {
    char *data;
    size_t len; /* bytes stored */
    size_t pos; /* bytes already consumed from the front */
    size_t cap;
} dva_bytebuf;

/* Makes room for extra more bytes; -1 when that would pass max or memory
 * runs out. Compacts consumed bytes first. */
int dva_bytebuf_reserve(dva_bytebuf *b, size_t extra, size_t max);
/* Appends (after dva_bytebuf_reserve succeeded for at least len). */
void dva_bytebuf_put(dva_bytebuf *b, const void *data, size_t len);
/* Bytes not consumed yet. */
static inline size_t dva_bytebuf_unread(const dva_bytebuf *b)
{
    return b->len - b->pos;
}
/* Marks n bytes consumed; empties the buffer when all are. */
void dva_bytebuf_consume(dva_bytebuf *b, size_t n);
/* Frees the memory; wipes it first when wipe is non-zero. */
void dva_bytebuf_free(dva_bytebuf *b, int wipe);

#endif
