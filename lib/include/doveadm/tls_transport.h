/* SPDX-License-Identifier: MIT */
/* TLS over another transport (OpenSSL 3, memory BIOs): the inner transport
 * (normally TCP) carries the ciphertext, so TLS runs over the same
 * non-blocking byte stream and poll loop as plain connections. The
 * handshake is driven by dva_transport_connect() (TLS from the first byte)
 * or, for STARTTLS, by the reads and writes that follow
 * dva_transport_start_tls(); poll_fd() reports what the handshake waits
 * for. The server's certificate is verified against a CA file (or the
 * system's CAs) and its name checked, unless switched off explicitly. */
#ifndef DOVEADM_TLS_TRANSPORT_H
#define DOVEADM_TLS_TRANSPORT_H

#if defined(DVA_LAYER_BUILD) && !defined(DVA_SEES_TRANSPORT)
#error "doveadm/tls_transport.h belongs to the transport layer (doc/ARCHITECTURE.md)"
#endif

#include <stdbool.h>

#include "doveadm/transport.h"

typedef enum {
    DVA_TLS_NONE = 0,  /* plain TCP */
    DVA_TLS_STARTTLS,  /* plain until the client calls start_tls */
    DVA_TLS_IMMEDIATE, /* TLS from the first byte (a `ssl = yes` listener) */
} dva_tls_mode;

/* Zero fields are the safe defaults: verify the chain and the name. */
typedef struct {
    dva_tls_mode mode;
    const char *ca_file;   /* PEM file of trusted CAs; NULL: the system's */
    bool skip_verify_peer; /* accept any certificate (no name check either) */
    bool skip_verify_host; /* verify the chain but not the name */
} dva_tls_options;

/* The shared part (OpenSSL context, loaded CAs) of many connections. */
typedef struct dva_tls_context dva_tls_context;

/* Loads the CA file. NULL on error (DVA_ERR_USAGE naming the file). */
dva_tls_context *dva_tls_context_new(const dva_tls_options *options, dva_error *err);
void dva_tls_context_free(dva_tls_context *context);
dva_tls_mode dva_tls_context_mode(const dva_tls_context *context);

/* Wraps inner, which it owns from now on (destroyed with it, also on
 * failure). server_name is sent as SNI and is the name the certificate
 * must carry (a DNS name or an IP address; brackets are stripped). The
 * context is borrowed: free it after the transport. In STARTTLS mode the
 * transport passes bytes through until dva_transport_start_tls(). */
dva_transport *dva_tls_transport_new(dva_transport *inner, dva_tls_context *context,
                                     const char *server_name, dva_error *err);

#endif
