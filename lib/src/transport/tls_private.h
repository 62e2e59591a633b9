/* SPDX-License-Identifier: MIT */
/* TLS over an inner transport (tls_transport.h): the state shared by
 * tls_context.c (the OpenSSL context), tls_handshake.c (the handshake and
 * its failures, named for the administrator) and tls_transport.c (the
 * ciphertext plumbing and the transport ops). */
#ifndef DVA_TLS_PRIVATE_H
#define DVA_TLS_PRIVATE_H

#include <openssl/ssl.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "doveadm/tls_transport.h"

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

/* The reason of OpenSSL's last error, for messages. */
const char *dva_tls_openssl_reason(void);
/* Fails t for good (every later call gets the same error) and err; -1. */
int dva_tls_fail(tls_transport *t, dva_error *err, dva_errcode code, const char *fmt,
                 ...) __attribute__((format(printf, 4, 5)));
/* Moves what OpenSSL wrote into our buffer, then writes what the inner
 * transport takes. 0, or -1 on a write error (err set). */
int dva_tls_flush_net(tls_transport *t, dva_error *err);
/* Reads ciphertext from the inner transport into OpenSSL. Bytes read (> 0),
 * 0 if none now, DVA_IO_EOF, or -1 (err set). */
ssize_t dva_tls_fill_net(tls_transport *t, dva_error *err);

/* tls_handshake.c: starts TLS on t (SNI, verification); 0 or -1. */
int dva_tls_begin(tls_transport *t, dva_error *err);
/* 1 once the handshake is done, 0 while it waits, -1 on failure. */
int dva_tls_drive_handshake(tls_transport *t, dva_error *err);
/* The connection broke during the handshake: the reason, named. */
int dva_tls_handshake_io_failed(tls_transport *t, const dva_error *io, dva_error *err);

#endif
