/* SPDX-License-Identifier: MIT */
/* The OpenSSL context of TLS connections (tls_transport.h): TLS 1.2 and
 * later, the CA file or the system's CAs, what is verified. */
#include <openssl/err.h>
#include <stdlib.h>
#include <string.h>

#include "tls_private.h"

const char *dva_tls_openssl_reason(void)
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
                 dva_tls_openssl_reason());
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
                     o->ca_file, dva_tls_openssl_reason());
            goto fail;
        }
    } else if (SSL_CTX_set_default_verify_paths(c->ssl_ctx) != 1) {
        dva_fail(err, DVA_ERR_USAGE, "cannot load the system's CA certificates: %s",
                 dva_tls_openssl_reason());
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
