/* TLS over an inner transport with OpenSSL memory BIOs: see tls_transport.h.
 *
 * OpenSSL never touches the socket. Ciphertext from the inner transport is
 * written into a memory BIO that OpenSSL reads (net_in), and what OpenSSL
 * writes (net_out) is moved to our own bounded buffer and written to the
 * inner transport when it accepts it. So the handshake and the records
 * follow the same non-blocking read/write/poll contract as plain TCP. */
#include "doveadm/tls_transport.h"

#include <arpa/inet.h>
#include <limits.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Ciphertext waiting for the inner transport; write() says "would block"
 * beyond this. */
#define PENDING_MAX ((size_t)256 << 10)
#define NET_CHUNK 17408 /* a TLS record plus overhead */
#define PEEK_MAX 16     /* first bytes kept from the server, for messages */

struct dva_tls_context {
    SSL_CTX *ssl_ctx;
    dva_tls_mode mode;
    bool verify_peer, verify_host;
    char *ca_file; /* for messages; NULL: the system's CAs */
};

typedef enum {
    PHASE_PLAIN,     /* bytes pass through (before connect, or before STARTTLS) */
    PHASE_HANDSHAKE, /* TLS handshake in progress */
    PHASE_OPEN,      /* records flow */
    PHASE_FAILED,    /* the error stays in failure */
} tls_phase;

typedef struct {
    dva_transport base;
    dva_transport *inner;
    dva_tls_context *ctx;
    char *server_name;
    char *description;
    bool inner_connected;
    tls_phase phase;
    SSL *ssl;
    BIO *net_in, *net_out;
    unsigned char *pending; /* ciphertext for the inner transport */
    size_t pending_len, pending_pos, pending_cap;
    bool write_wants_read; /* SSL_write waits for a record (renegotiation) */
    size_t received;       /* ciphertext bytes from the server */
    unsigned char peek[PEEK_MAX];
    dva_error failure;
} tls_transport;

/* ---- context ---- */

static const char *openssl_reason(void)
{
    unsigned long e = ERR_peek_last_error();
    const char *r = e == 0 ? NULL : ERR_reason_error_string(e);
    return r != NULL ? r : "unknown OpenSSL error";
}

dva_tls_context *dva_tls_context_new(const dva_tls_options *o, dva_error *err)
{
    dva_tls_context *c = calloc(1, sizeof(*c));
    if (c == NULL) {
        dva_fail(err, DVA_ERR_NOMEM, "out of memory creating a TLS context");
        return NULL;
    }
    c->mode = o->mode;
    c->verify_peer = !o->skip_verify_peer;
    c->verify_host = c->verify_peer && !o->skip_verify_host;
    ERR_clear_error();
    c->ssl_ctx = SSL_CTX_new(TLS_client_method());
    if (c->ssl_ctx == NULL ||
        SSL_CTX_set_min_proto_version(c->ssl_ctx, TLS1_2_VERSION) != 1) {
        dva_fail(err, DVA_ERR_NOMEM, "cannot create a TLS context: %s",
                 openssl_reason());
        goto fail;
    }
    /* The client's write buffer may move between a retried SSL_write and
     * the next; partial writes let a large request go out record by record. */
    SSL_CTX_set_mode(c->ssl_ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
                                     SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    if (o->ca_file != NULL) {
        if ((c->ca_file = strdup(o->ca_file)) == NULL) {
            dva_fail(err, DVA_ERR_NOMEM, "out of memory creating a TLS context");
            goto fail;
        }
        if (SSL_CTX_load_verify_locations(c->ssl_ctx, o->ca_file, NULL) != 1) {
            dva_fail(err, DVA_ERR_USAGE,
                     "cannot load the CA certificates in \"%s\": %s (it must be a "
                     "readable PEM file of CA certificates)",
                     o->ca_file, openssl_reason());
            goto fail;
        }
    } else if (SSL_CTX_set_default_verify_paths(c->ssl_ctx) != 1) {
        dva_fail(err, DVA_ERR_USAGE, "cannot load the system's CA certificates: %s",
                 openssl_reason());
        goto fail;
    }
    ERR_clear_error();
    return c;
fail:
    ERR_clear_error();
    dva_tls_context_free(c);
    return NULL;
}

void dva_tls_context_free(dva_tls_context *c)
{
    if (c == NULL)
        return;
    SSL_CTX_free(c->ssl_ctx);
    free(c->ca_file);
    free(c);
}

dva_tls_mode dva_tls_context_mode(const dva_tls_context *c)
{
    return c->mode;
}

/* ---- ciphertext plumbing ---- */

static int fail_sticky(tls_transport *t, dva_error *err, dva_errcode code,
                       const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int fail_sticky(tls_transport *t, dva_error *err, dva_errcode code,
                       const char *fmt, ...)
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

/* Moves what OpenSSL wrote into our buffer, then writes what the inner
 * transport takes. 0, or -1 on a write error (err set). */
static int flush_net(tls_transport *t, dva_error *err)
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
                return fail_sticky(t, err, DVA_ERR_NOMEM,
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
            return fail_sticky(t, err, werr.code, "%s", werr.message);
        if (n == 0)
            break;
        t->pending_pos += (size_t)n;
    }
    if (t->pending_pos == t->pending_len)
        t->pending_pos = t->pending_len = 0;
    return 0;
}

static int handshake_io_failed(tls_transport *t, const dva_error *io, dva_error *err);

/* Reads ciphertext from the inner transport into OpenSSL. Bytes read (> 0),
 * 0 if none now, DVA_IO_EOF, or -1 (err set). */
static ssize_t fill_net(tls_transport *t, dva_error *err)
{
    unsigned char buf[NET_CHUNK];
    dva_error rerr;
    ssize_t n = dva_transport_read(t->inner, buf, sizeof(buf), &rerr);
    if (n == DVA_IO_EOF || n == 0)
        return n;
    if (n < 0 && t->phase == PHASE_HANDSHAKE)
        return handshake_io_failed(t, &rerr, err);
    if (n < 0)
        return fail_sticky(t, err, rerr.code, "%s", rerr.message);
    if (t->received < PEEK_MAX) {
        size_t k =
            PEEK_MAX - t->received < (size_t)n ? PEEK_MAX - t->received : (size_t)n;
        memcpy(t->peek + t->received, buf, k);
    }
    t->received += (size_t)n;
    if (BIO_write(t->net_in, buf, (int)n) != (int)n)
        return fail_sticky(t, err, DVA_ERR_NOMEM, "%s: out of memory for TLS input",
                           t->description);
    return n;
}

/* ---- the handshake ---- */

static bool is_ip_literal(const char *name)
{
    unsigned char addr[16];
    return inet_pton(AF_INET, name, addr) == 1 || inet_pton(AF_INET6, name, addr) == 1;
}

static const char *plain_server_hint(const tls_transport *t)
{
    return t->ctx->mode == DVA_TLS_STARTTLS
               ? "STARTTLS needs ssl = yes (or required) in Dovecot's configuration"
               : "TLS \"tls\" needs a doveadm inet_listener with ssl = yes; for a "
                 "plain listener use TLS \"starttls\"";
}

static int begin_tls(tls_transport *t, dva_error *err)
{
    ERR_clear_error();
    t->ssl = SSL_new(t->ctx->ssl_ctx);
    t->net_in = BIO_new(BIO_s_mem());
    t->net_out = BIO_new(BIO_s_mem());
    if (t->ssl == NULL || t->net_in == NULL || t->net_out == NULL) {
        SSL_free(t->ssl);
        BIO_free(t->net_in);
        BIO_free(t->net_out);
        t->ssl = NULL;
        t->net_in = t->net_out = NULL;
        return fail_sticky(t, err, DVA_ERR_NOMEM, "%s: cannot start TLS: %s",
                           t->description, openssl_reason());
    }
    /* An empty input BIO means "try again", not end of stream: the end is
     * the inner transport's EOF, which fill_net() reports. */
    BIO_set_mem_eof_return(t->net_in, -1);
    SSL_set_bio(t->ssl, t->net_in, t->net_out); /* the SSL owns them now */
    SSL_set_connect_state(t->ssl);

    bool ip = is_ip_literal(t->server_name);
    int ok = 1;
    if (!ip) /* RFC 6066: no IP addresses in SNI */
        ok = SSL_set_tlsext_host_name(t->ssl, t->server_name);
    if (ok == 1 && t->ctx->verify_peer) {
        SSL_set_verify(t->ssl, SSL_VERIFY_PEER, NULL);
        if (t->ctx->verify_host) {
            X509_VERIFY_PARAM *param = SSL_get0_param(t->ssl);
            X509_VERIFY_PARAM_set_hostflags(param,
                                            X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
            ok = ip ? X509_VERIFY_PARAM_set1_ip_asc(param, t->server_name)
                    : X509_VERIFY_PARAM_set1_host(param, t->server_name, 0);
        }
    } else if (ok == 1) {
        SSL_set_verify(t->ssl, SSL_VERIFY_NONE, NULL);
    }
    if (ok != 1)
        return fail_sticky(t, err, DVA_ERR_USAGE,
                           "%s: cannot use \"%s\" as the TLS server name: %s",
                           t->description, t->server_name, openssl_reason());
    t->phase = PHASE_HANDSHAKE;
    t->received = 0;
    return 0;
}

/* The server's first bytes are not a TLS handshake or alert record. */
static bool spoke_plain(const tls_transport *t)
{
    return t->received > 0 && t->peek[0] != 0x16 && t->peek[0] != 0x15;
}

static int plain_server(tls_transport *t, dva_error *err)
{
    char shown[64];
    size_t n = t->received < PEEK_MAX ? t->received : PEEK_MAX;
    return fail_sticky(t, err, DVA_ERR_TLS,
                       "%s: server did not speak TLS (plain doveadm server?): it "
                       "answered the TLS hello with \"%s\"; %s",
                       t->description, dva_quote(shown, sizeof(shown), t->peek, n),
                       plain_server_hint(t));
}

/* The connection broke during the handshake. A plain server that closes on
 * the TLS hello while it is still unread makes the kernel send a reset,
 * which may arrive before (and discard) what the server wrote. */
static int handshake_io_failed(tls_transport *t, const dva_error *io, dva_error *err)
{
    if (spoke_plain(t))
        return plain_server(t, err);
    if (t->received == 0)
        return fail_sticky(t, err, DVA_ERR_TLS,
                           "%s: server did not speak TLS (plain doveadm server?): the "
                           "connection broke on the TLS hello (%s); %s",
                           t->description, io->message, plain_server_hint(t));
    return fail_sticky(t, err, DVA_ERR_TLS, "%s: the TLS handshake broke off: %s",
                       t->description, io->message);
}

static int handshake_failed(tls_transport *t, dva_error *err)
{
    if (spoke_plain(t))
        return plain_server(t, err);
    long v = SSL_get_verify_result(t->ssl);
    if (t->ctx->verify_peer && v != X509_V_OK) {
        if (v == X509_V_ERR_HOSTNAME_MISMATCH || v == X509_V_ERR_IP_ADDRESS_MISMATCH)
            return fail_sticky(
                t, err, DVA_ERR_TLS,
                "%s: TLS: host name mismatch: expected %s in the server's "
                "certificate (set ServerName to a name the certificate "
                "carries, or fix the certificate)",
                t->description, t->server_name);
        return fail_sticky(t, err, DVA_ERR_TLS,
                           "%s: TLS: certificate verify failed: %s (checked against "
                           "%s%s%s; CACert must name the CA that signed the server's "
                           "certificate)",
                           t->description, X509_verify_cert_error_string(v),
                           t->ctx->ca_file != NULL ? "CACert \"" : "the system's CAs",
                           t->ctx->ca_file != NULL ? t->ctx->ca_file : "",
                           t->ctx->ca_file != NULL ? "\"" : "");
    }
    return fail_sticky(t, err, DVA_ERR_TLS, "%s: TLS handshake failed: %s",
                       t->description, openssl_reason());
}

/* 1 once the handshake is done, 0 while it waits, -1 on failure. */
static int drive_handshake(tls_transport *t, dva_error *err)
{
    for (;;) {
        ERR_clear_error();
        int r = SSL_do_handshake(t->ssl);
        int e = r == 1 ? SSL_ERROR_NONE : SSL_get_error(t->ssl, r);
        if (e != SSL_ERROR_SSL && flush_net(t, err) < 0)
            return -1;
        if (r == 1) {
            t->phase = PHASE_OPEN;
            return 1;
        }
        if (e == SSL_ERROR_WANT_WRITE)
            return 0;
        if (e != SSL_ERROR_WANT_READ) {
            int rc = handshake_failed(t, err);
            (void)flush_net(t, NULL); /* the alert, if the socket takes it */
            return rc;
        }
        ssize_t n = fill_net(t, err);
        if (n < 0 && n != DVA_IO_EOF)
            return -1;
        if (n == 0)
            return 0;
        if (n == DVA_IO_EOF) {
            if (spoke_plain(t))
                return plain_server(t, err);
            if (t->received == 0)
                return fail_sticky(t, err, DVA_ERR_TLS,
                                   "%s: server did not speak TLS (plain doveadm "
                                   "server?): it closed the connection on the TLS "
                                   "hello; %s",
                                   t->description, plain_server_hint(t));
            return fail_sticky(t, err, DVA_ERR_TLS,
                               "%s: the server closed the connection during the TLS "
                               "handshake (see the Dovecot log)",
                               t->description);
        }
    }
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
        if (t->ctx->mode == DVA_TLS_IMMEDIATE && begin_tls(t, err) < 0)
            return -1;
    }
    if (t->phase == PHASE_HANDSHAKE)
        return drive_handshake(t, err);
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
    return begin_tls(t, err);
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
        int r = drive_handshake(t, err);
        if (r <= 0)
            return r;
        break;
    }
    }
    if (flush_net(t, err) < 0)
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
    if (flush_net(t, err) < 0)
        return -1;
    t->write_wants_read = e == SSL_ERROR_WANT_READ;
    if (n > 0)
        return n;
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
        return 0;
    return fail_sticky(t, err, DVA_ERR_TLS, "%s: TLS write failed: %s", t->description,
                       openssl_reason());
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
        if (e != SSL_ERROR_SSL && flush_net(t, err) < 0)
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
            return fail_sticky(t, err, DVA_ERR_TLS, "%s: TLS read failed: %s",
                               t->description, openssl_reason());
        ssize_t got = fill_net(t, err);
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
            (void)flush_net(t, NULL);
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
