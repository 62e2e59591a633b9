/* SPDX-License-Identifier: MIT */
/* TLS over an inner transport with OpenSSL memory BIOs: see tls_transport.h.
 *
 * OpenSSL never touches the socket. Ciphertext from the inner transport is
 * written into a memory BIO that OpenSSL reads (net_in), and what OpenSSL
 * writes (net_out) is moved to our own bounded buffer and written to the
 * inner transport when it accepts it. So the handshake and the records
 * follow the same non-blocking read/write/poll contract as plain TCP. */
#include <openssl/err.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tls_private.h"

int dva_tls_fail(tls_transport *t, dva_error *err, dva_errcode code, const char *fmt,
                 ...)
{
    char msg[DVA_ERROR_MESSAGE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    t->phase = PHASE_FAILED;
    dva_fail(&t->failure, code, "%s", msg);
    ERR_clear_error();
    return dva_fail(err, code, "%s", msg);
}

static int failed(tls_transport *t, dva_error *err)
{
    return dva_fail(err, t->failure.code, "%s", t->failure.message);
}

static size_t pending_unsent(const tls_transport *t)
{
    return t->pending_len - t->pending_pos;
}

int dva_tls_flush_net(tls_transport *t, dva_error *err)
{
    size_t waiting = BIO_ctrl_pending(t->net_out);
    if (waiting > 0) {
        if (t->pending_pos > 0) {
            memmove(t->pending, t->pending + t->pending_pos, pending_unsent(t));
            t->pending_len -= t->pending_pos;
            t->pending_pos = 0;
        }
        if (t->pending_len + waiting > t->pending_cap) {
            size_t cap = t->pending_len + waiting + NET_CHUNK;
            unsigned char *p = realloc(t->pending, cap);
            if (p == NULL)
                return dva_tls_fail(t, err, DVA_ERR_NOMEM,
                                    "%s: out of memory for TLS output", t->description);
            t->pending = p;
            t->pending_cap = cap;
        }
        int n = BIO_read(t->net_out, t->pending + t->pending_len, (int)waiting);
        if (n > 0)
            t->pending_len += (size_t)n;
    }
    while (pending_unsent(t) > 0) {
        dva_error werr;
        ssize_t n = dva_transport_write(t->inner, t->pending + t->pending_pos,
                                        pending_unsent(t), &werr);
        if (n < 0)
            return dva_tls_fail(t, err, werr.code, "%s", werr.message);
        if (n == 0)
            break;
        t->pending_pos += (size_t)n;
    }
    if (t->pending_pos == t->pending_len)
        t->pending_pos = t->pending_len = 0;
    return 0;
}

ssize_t dva_tls_fill_net(tls_transport *t, dva_error *err)
{
    unsigned char buf[NET_CHUNK];
    dva_error rerr;
    ssize_t n = dva_transport_read(t->inner, buf, sizeof(buf), &rerr);
    if (n == DVA_IO_EOF || n == 0)
        return n;
    if (n < 0 && t->phase == PHASE_HANDSHAKE)
        return dva_tls_handshake_io_failed(t, &rerr, err);
    if (n < 0)
        return dva_tls_fail(t, err, rerr.code, "%s", rerr.message);
    if (t->received < PEEK_MAX) {
        size_t k =
            PEEK_MAX - t->received < (size_t)n ? PEEK_MAX - t->received : (size_t)n;
        memcpy(t->peek + t->received, buf, k);
    }
    t->received += (size_t)n;
    if (BIO_write(t->net_in, buf, (int)n) != (int)n)
        return dva_tls_fail(t, err, DVA_ERR_NOMEM, "%s: out of memory for TLS input",
                            t->description);
    return n;
}

/* ---- transport ops ---- */

static int tls_connect(dva_transport *base, dva_error *err)
{
    tls_transport *t = (tls_transport *)base;
    if (t->phase == PHASE_FAILED)
        return failed(t, err);
    if (!t->inner_connected) {
        int r = dva_transport_connect(t->inner, err);
        if (r <= 0)
            return r;
        t->inner_connected = true;
        if (t->ctx->mode == DVA_TLS_IMMEDIATE && dva_tls_begin(t, err) < 0)
            return -1;
    }
    if (t->phase == PHASE_HANDSHAKE)
        return dva_tls_drive_handshake(t, err);
    return 1;
}

static int tls_start(dva_transport *base, dva_error *err)
{
    tls_transport *t = (tls_transport *)base;
    if (t->ctx->mode != DVA_TLS_STARTTLS || !t->inner_connected ||
        t->phase != PHASE_PLAIN)
        return dva_fail(err, DVA_ERR_USAGE,
                        "%s: STARTTLS is possible only once, on a connected transport "
                        "made for STARTTLS",
                        t->description);
    return dva_tls_begin(t, err);
}

/* What a read and a write do first once TLS is on: a failed transport
 * repeats its failure, a handshake under way is driven on, and ciphertext
 * a write left behind goes out. 1 when data may move, 0 to wait, -1 on
 * failure (err set). */
static int ready_for_data(tls_transport *t, dva_error *err)
{
    switch (t->phase) {
    case PHASE_PLAIN: /* the callers pass plain data to the inner transport */
    case PHASE_OPEN:
        break;
    case PHASE_FAILED:
        return failed(t, err);
    case PHASE_HANDSHAKE: {
        int r = dva_tls_drive_handshake(t, err);
        if (r <= 0)
            return r;
        break;
    }
    }
    if (dva_tls_flush_net(t, err) < 0)
        return -1;
    return 1;
}

static ssize_t tls_write(dva_transport *base, const void *buf, size_t len,
                         dva_error *err)
{
    tls_transport *t = (tls_transport *)base;
    if (t->phase == PHASE_PLAIN)
        return dva_transport_write(t->inner, buf, len, err);
    int ready = ready_for_data(t, err);
    if (ready <= 0)
        return ready;
    if (len == 0 || pending_unsent(t) >= PENDING_MAX)
        return 0;
    ERR_clear_error();
    int n = SSL_write(t->ssl, buf, len > INT_MAX ? INT_MAX : (int)len);
    int e = n > 0 ? SSL_ERROR_NONE : SSL_get_error(t->ssl, n);
    if (dva_tls_flush_net(t, err) < 0)
        return -1;
    t->write_wants_read = e == SSL_ERROR_WANT_READ;
    if (n > 0)
        return n;
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
        return 0;
    return dva_tls_fail(t, err, DVA_ERR_TLS, "%s: TLS write failed: %s", t->description,
                        dva_tls_openssl_reason());
}

static ssize_t tls_read(dva_transport *base, void *buf, size_t len, dva_error *err)
{
    tls_transport *t = (tls_transport *)base;
    if (t->phase == PHASE_PLAIN)
        return dva_transport_read(t->inner, buf, len, err);
    int ready = ready_for_data(t, err);
    if (ready <= 0)
        return ready;
    if (len == 0)
        return 0;
    for (;;) {
        ERR_clear_error();
        int n = SSL_read(t->ssl, buf, len > INT_MAX ? INT_MAX : (int)len);
        int e = n > 0 ? SSL_ERROR_NONE : SSL_get_error(t->ssl, n);
        /* Post-handshake messages (key updates) may need an answer. */
        if (e != SSL_ERROR_SSL && dva_tls_flush_net(t, err) < 0)
            return -1;
        if (n > 0) {
            t->write_wants_read = false;
            return n;
        }
        if (e == SSL_ERROR_ZERO_RETURN)
            return DVA_IO_EOF; /* close_notify */
        if (e == SSL_ERROR_WANT_WRITE)
            return 0;
        if (e != SSL_ERROR_WANT_READ)
            return dva_tls_fail(t, err, DVA_ERR_TLS, "%s: TLS read failed: %s",
                                t->description, dva_tls_openssl_reason());
        ssize_t got = dva_tls_fill_net(t, err);
        if (got == 0 || got == DVA_IO_EOF)
            return got; /* an EOF without close_notify: the reply parser
                           notices any truncated reply */
        if (got < 0)
            return -1;
    }
}

static int tls_poll_fd(dva_transport *base, short want, short *events)
{
    tls_transport *t = (tls_transport *)base;
    short ev = want;
    if (t->inner_connected) {
        switch (t->phase) {
        case PHASE_HANDSHAKE:
            /* The handshake waits for the server whatever the caller wants. */
            ev = POLLIN;
            break;
        case PHASE_OPEN:
            ev = want & POLLIN;
            if (want & POLLOUT)
                ev |= t->write_wants_read ? POLLIN : POLLOUT;
            break;
        case PHASE_PLAIN:
        case PHASE_FAILED:
            break;
        }
        if (pending_unsent(t) > 0)
            ev |= POLLOUT;
    }
    return dva_transport_poll_fd(t->inner, ev, events);
}

static void tls_reset(tls_transport *t)
{
    if (t->ssl != NULL) {
        if (t->phase == PHASE_OPEN) {
            /* Best effort close_notify; never waits. */
            ERR_clear_error();
            (void)SSL_shutdown(t->ssl);
            (void)dva_tls_flush_net(t, NULL);
        }
        SSL_free(t->ssl); /* frees the BIOs */
    }
    ERR_clear_error();
    t->ssl = NULL;
    t->net_in = t->net_out = NULL;
    t->pending_len = t->pending_pos = 0;
    t->write_wants_read = false;
    t->received = 0;
    t->inner_connected = false;
    t->phase = PHASE_PLAIN;
    dva_error_clear(&t->failure);
}

static void tls_close(dva_transport *base)
{
    tls_transport *t = (tls_transport *)base;
    tls_reset(t);
    dva_transport_close(t->inner);
}

static void tls_destroy(dva_transport *base)
{
    tls_transport *t = (tls_transport *)base;
    tls_reset(t);
    dva_transport_destroy(t->inner);
    free(t->pending);
    free(t->server_name);
    free(t->description);
    free(t);
}

static const char *tls_describe(const dva_transport *base)
{
    return ((const tls_transport *)base)->description;
}

static const char *tls_waiting_for(const dva_transport *base)
{
    const tls_transport *t = (const tls_transport *)base;
    if (t->phase != PHASE_HANDSHAKE)
        return NULL;
    if (t->received == 0)
        return "in the TLS handshake, with no answer to the TLS hello: server did not "
               "speak TLS (plain doveadm server?), or it is overloaded";
    return "in the TLS handshake";
}

static const dva_transport_ops tls_ops = {
    .connect = tls_connect,
    .write = tls_write,
    .read = tls_read,
    .poll_fd = tls_poll_fd,
    .close = tls_close,
    .destroy = tls_destroy,
    .describe = tls_describe,
    .start_tls = tls_start,
    .waiting_for = tls_waiting_for,
};

dva_transport *dva_tls_transport_new(dva_transport *inner, dva_tls_context *ctx,
                                     const char *server_name, dva_error *err)
{
    if (inner == NULL || ctx == NULL || server_name == NULL || server_name[0] == '\0' ||
        ctx->mode == DVA_TLS_NONE) {
        dva_transport_destroy(inner);
        dva_fail(err, DVA_ERR_USAGE,
                 "TLS transport: needs an inner transport, a TLS context with a mode "
                 "and a server name");
        return NULL;
    }
    tls_transport *t = calloc(1, sizeof(*t));
    const char *inner_desc = dva_transport_describe(inner);
    size_t dlen = strlen(inner_desc) + 16;
    size_t nlen = strlen(server_name);
    if (t != NULL) {
        t->description = malloc(dlen);
        /* "[::1]" names the address ::1 */
        if (nlen > 2 && server_name[0] == '[' && server_name[nlen - 1] == ']')
            t->server_name = strndup(server_name + 1, nlen - 2);
        else
            t->server_name = strdup(server_name);
    }
    if (t == NULL || t->description == NULL || t->server_name == NULL) {
        if (t != NULL) {
            free(t->description);
            free(t->server_name);
            free(t);
        }
        dva_transport_destroy(inner);
        dva_fail(err, DVA_ERR_NOMEM, "out of memory creating a TLS transport");
        return NULL;
    }
    snprintf(t->description, dlen, "%s (%s)", inner_desc,
             ctx->mode == DVA_TLS_STARTTLS ? "STARTTLS" : "TLS");
    t->base.ops = &tls_ops;
    t->inner = inner;
    t->ctx = ctx;
    t->phase = PHASE_PLAIN;
    return &t->base;
}
