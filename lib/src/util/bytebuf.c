/* SPDX-License-Identifier: MIT */
#include "bytebuf.h"

#include <stdlib.h>
#include <string.h>

int dva_bytebuf_reserve(dva_bytebuf *b, size_t extra, size_t max)
{
    if (b->pos > 0 && b->pos == b->len) {
        b->pos = b->len = 0;
    } else if (b->pos > 0 && b->cap - b->len < extra) {
        memmove(b->data, b->data + b->pos, b->len - b->pos);
        b->len -= b->pos;
        b->pos = 0;
    }
    if (extra > max || b->len > max - extra)
        return -1;
    size_t need = b->len + extra;
    if (need <= b->cap)
        return 0;
    size_t cap = b->cap < 256 ? 256 : b->cap;
    while (cap < need)
        cap = cap > max / 2 ? max : cap * 2;
    char *p = realloc(b->data, cap);
    if (p == NULL)
        return -1;
    b->data = p;
    b->cap = cap;
    return 0;
}

void dva_bytebuf_put(dva_bytebuf *b, const void *data, size_t len)
{
    memcpy(b->data + b->len, data, len);
    b->len += len;
}

void dva_bytebuf_consume(dva_bytebuf *b, size_t n)
{
    b->pos += n;
    if (b->pos >= b->len)
        b->pos = b->len = 0;
}

void dva_bytebuf_free(dva_bytebuf *b, int wipe)
{
    if (wipe && b->data != NULL)
        explicit_bzero(b->data, b->cap);
    free(b->data);
    memset(b, 0, sizeof(*b));
}
