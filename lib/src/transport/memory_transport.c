/* SPDX-License-Identifier: MIT */
/* An in-memory scripted peer for tests. Running out of memory here aborts:
 * it is test scaffolding, and its API has no way to report it. */
#include "doveadm/memory_transport.h"

#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char *data;
    size_t len;
    size_t pos; /* consumed from the front */
    size_t cap;
} mem_buf;

typedef struct {
    dva_transport base;

    mem_buf in;  /* pushed by the test, read by the client */
    mem_buf out; /* written by the client; kept NUL-terminated */

    size_t read_chunk, write_chunk; /* 0: unlimited */
    unsigned connect_delay;         /* "in progress" answers left */
    bool connected;
    bool closed;
    bool eof;

    bool fail_connect;
    dva_errcode connect_code;
    char connect_message[DVA_ERROR_MESSAGE_MAX];

    bool fail_read;
    dva_errcode read_code;
    char read_message[DVA_ERROR_MESSAGE_MAX];

    dva_memory_on_write *on_write;
    void *on_write_ctx;
} mem_transport;

static const dva_transport_ops memory_ops;

static mem_transport *mem(dva_transport *t)
{
    if (t == NULL || t->ops != &memory_ops) {
        fprintf(stderr, "libdoveadm: a dva_memory_transport_* function was given a "
                        "transport that is not a memory transport\n");
        abort();
    }
    return (mem_transport *)t;
}

static const mem_transport *cmem(const dva_transport *t)
{
    return mem((dva_transport *)t);
}

/* Appends len bytes plus room for a NUL terminator. */
static void buf_append(mem_buf *b, const void *data, size_t len)
{
    if (b->pos > 0 && b->pos == b->len)
        b->pos = b->len = 0;
    if (b->len + len + 1 > b->cap) {
        if (b->pos > 0) {
            memmove(b->data, b->data + b->pos, b->len - b->pos);
            b->len -= b->pos;
            b->pos = 0;
        }
        size_t cap = b->cap > 0 ? b->cap : 64;
        while (cap < b->len + len + 1) {
            if (cap > SIZE_MAX / 2)
                abort();
            cap *= 2;
        }
        if (cap != b->cap) {
            char *p = realloc(b->data, cap);
            if (p == NULL) {
                fprintf(stderr, "libdoveadm: memory transport: out of memory\n");
                abort();
            }
            b->data = p;
            b->cap = cap;
        }
    }
    if (len > 0)
        memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
}

static size_t min_limit(size_t len, size_t limit)
{
    return limit > 0 && limit < len ? limit : len;
}

static int usage(dva_error *err, const char *what)
{
    return dva_fail(err, DVA_ERR_USAGE, "memory transport: %s", what);
}

static int mem_connect(dva_transport *t, dva_error *err)
{
    mem_transport *m = mem(t);
    /* After close() a connect() opens a new connection to the same scripted
     * peer (like the socket transports); closed() is false again once it
     * succeeds. */
    if (m->connected)
        return 1;
    if (m->connect_delay > 0) {
        m->connect_delay--;
        return 0;
    }
    if (m->fail_connect)
        return dva_fail(err, m->connect_code, "%s", m->connect_message);
    m->connected = true;
    m->closed = false;
    return 1;
}

static ssize_t mem_write(dva_transport *t, const void *buf, size_t len, dva_error *err)
{
    mem_transport *m = mem(t);
    if (m->closed)
        return usage(err, "write() after close()");
    if (!m->connected)
        return usage(err, "write() before the connection was established");
    size_t n = min_limit(len, m->write_chunk);
    if (n == 0)
        return 0;
    buf_append(&m->out, buf, n);
    if (m->on_write != NULL)
        m->on_write(t, m->out.data, m->out.len, m->on_write_ctx);
    return (ssize_t)n;
}

static ssize_t mem_read(dva_transport *t, void *buf, size_t len, dva_error *err)
{
    mem_transport *m = mem(t);
    if (m->closed)
        return usage(err, "read() after close()");
    if (!m->connected)
        return usage(err, "read() before the connection was established");
    if (len == 0)
        return 0;
    size_t avail = m->in.len - m->in.pos;
    if (avail > 0) {
        size_t n = min_limit(len < avail ? len : avail, m->read_chunk);
        memcpy(buf, m->in.data + m->in.pos, n);
        m->in.pos += n;
        if (m->in.pos == m->in.len)
            m->in.pos = m->in.len = 0;
        return (ssize_t)n;
    }
    if (m->fail_read)
        return dva_fail(err, m->read_code, "%s", m->read_message);
    if (m->eof)
        return DVA_IO_EOF;
    return 0;
}

static int mem_poll_fd(dva_transport *t, short want, short *events)
{
    mem_transport *m = mem(t);
    if (events != NULL)
        *events = m->closed ? 0 : (m->connected ? want : POLLOUT);
    return -1;
}

static void mem_close(dva_transport *t)
{
    mem_transport *m = mem(t);
    m->closed = true;
    m->connected = false;
}

static void mem_destroy(dva_transport *t)
{
    mem_transport *m = mem(t);
    free(m->in.data);
    free(m->out.data);
    free(m);
}

static const char *mem_describe(const dva_transport *t)
{
    (void)cmem(t);
    return "memory";
}

static const dva_transport_ops memory_ops = {
    .connect = mem_connect,
    .write = mem_write,
    .read = mem_read,
    .poll_fd = mem_poll_fd,
    .close = mem_close,
    .destroy = mem_destroy,
    .describe = mem_describe,
};

dva_transport *dva_memory_transport_new(void)
{
    mem_transport *m = calloc(1, sizeof(*m));
    if (m == NULL)
        return NULL;
    m->base.ops = &memory_ops;
    return &m->base;
}

void dva_memory_transport_push(dva_transport *t, const void *data, size_t len)
{
    buf_append(&mem(t)->in, data, len);
}

void dva_memory_transport_push_str(dva_transport *t, const char *s)
{
    dva_memory_transport_push(t, s, strlen(s));
}

void dva_memory_transport_eof(dva_transport *t)
{
    mem(t)->eof = true;
}

void dva_memory_transport_set_read_chunk(dva_transport *t, size_t n)
{
    mem(t)->read_chunk = n;
}

void dva_memory_transport_set_write_chunk(dva_transport *t, size_t n)
{
    mem(t)->write_chunk = n;
}

void dva_memory_transport_set_connect_delay(dva_transport *t, unsigned calls)
{
    mem(t)->connect_delay = calls;
}

void dva_memory_transport_fail_connect(dva_transport *t, dva_errcode code,
                                       const char *message)
{
    mem_transport *m = mem(t);
    m->fail_connect = true;
    m->connect_code = code;
    snprintf(m->connect_message, sizeof(m->connect_message), "%s",
             message != NULL ? message : "");
}

void dva_memory_transport_fail_read(dva_transport *t, dva_errcode code,
                                    const char *message)
{
    mem_transport *m = mem(t);
    m->fail_read = true;
    m->read_code = code;
    snprintf(m->read_message, sizeof(m->read_message), "%s",
             message != NULL ? message : "");
}

void dva_memory_transport_on_write(dva_transport *t, dva_memory_on_write *fn, void *ctx)
{
    mem_transport *m = mem(t);
    m->on_write = fn;
    m->on_write_ctx = ctx;
}

const char *dva_memory_transport_written(const dva_transport *t, size_t *len)
{
    const mem_transport *m = cmem(t);
    if (len != NULL)
        *len = m->out.len;
    return m->out.data != NULL ? m->out.data : "";
}

void dva_memory_transport_clear_written(dva_transport *t)
{
    mem_transport *m = mem(t);
    m->out.len = 0;
    if (m->out.data != NULL)
        m->out.data[0] = '\0';
}

size_t dva_memory_transport_unread(const dva_transport *t)
{
    const mem_transport *m = cmem(t);
    return m->in.len - m->in.pos;
}

bool dva_memory_transport_closed(const dva_transport *t)
{
    return cmem(t)->closed;
}
