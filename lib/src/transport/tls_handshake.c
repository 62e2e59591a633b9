/* SPDX-License-Identifier: MIT */
/* The TLS handshake over the memory BIOs, and its failures named for the
 * administrator: a plain server, a certificate that does not verify or
 * does not carry the expected name, a connection that broke off. */
#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <string.h>

#include "tls_private.h"

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

int dva_tls_begin(tls_transport *t, dva_error *err)
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
        return dva_tls_fail(t, err, DVA_ERR_NOMEM, "%s: cannot start TLS: %s",
                            t->description, dva_tls_openssl_reason());
    }
    /* An empty input BIO means "try again", not end of stream: the end is
     * the inner transport's EOF, which dva_tls_fill_net() reports. */
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
        return dva_tls_fail(t, err, DVA_ERR_USAGE,
                            "%s: cannot use \"%s\" as the TLS server name: %s",
                            t->description, t->server_name, dva_tls_openssl_reason());
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
    return dva_tls_fail(t, err, DVA_ERR_TLS,
                        "%s: server did not speak TLS (plain doveadm server?): it "
                        "answered the TLS hello with \"%s\"; %s",
                        t->description, dva_quote(shown, sizeof(shown), t->peek, n),
                        plain_server_hint(t));
}

/* The connection broke during the handshake. A plain server that closes on
 * the TLS hello while it is still unread makes the kernel send a reset,
 * which may arrive before (and discard) what the server wrote. */
int dva_tls_handshake_io_failed(tls_transport *t, const dva_error *io, dva_error *err)
{
    if (spoke_plain(t))
        return plain_server(t, err);
    if (t->received == 0)
        return dva_tls_fail(t, err, DVA_ERR_TLS,
                            "%s: server did not speak TLS (plain doveadm server?): the "
                            "connection broke on the TLS hello (%s); %s",
                            t->description, io->message, plain_server_hint(t));
    return dva_tls_fail(t, err, DVA_ERR_TLS, "%s: the TLS handshake broke off: %s",
                        t->description, io->message);
}

static int handshake_failed(tls_transport *t, dva_error *err)
{
    if (spoke_plain(t))
        return plain_server(t, err);
    long v = SSL_get_verify_result(t->ssl);
    if (t->ctx->verify_peer && v != X509_V_OK) {
        if (v == X509_V_ERR_HOSTNAME_MISMATCH || v == X509_V_ERR_IP_ADDRESS_MISMATCH)
            return dva_tls_fail(
                t, err, DVA_ERR_TLS,
                "%s: TLS: host name mismatch: expected %s in the server's "
                "certificate (set ServerName to a name the certificate "
                "carries, or fix the certificate)",
                t->description, t->server_name);
        return dva_tls_fail(t, err, DVA_ERR_TLS,
                            "%s: TLS: certificate verify failed: %s (checked against "
                            "%s%s%s; CACert must name the CA that signed the server's "
                            "certificate)",
                            t->description, X509_verify_cert_error_string(v),
                            t->ctx->ca_file != NULL ? "CACert \"" : "the system's CAs",
                            t->ctx->ca_file != NULL ? t->ctx->ca_file : "",
                            t->ctx->ca_file != NULL ? "\"" : "");
    }
    return dva_tls_fail(t, err, DVA_ERR_TLS, "%s: TLS handshake failed: %s",
                        t->description, dva_tls_openssl_reason());
}

int dva_tls_drive_handshake(tls_transport *t, dva_error *err)
{
    for (;;) {
        ERR_clear_error();
        int r = SSL_do_handshake(t->ssl);
        int e = r == 1 ? SSL_ERROR_NONE : SSL_get_error(t->ssl, r);
        if (e != SSL_ERROR_SSL && dva_tls_flush_net(t, err) < 0)
            return -1;
        if (r == 1) {
            t->phase = PHASE_OPEN;
            return 1;
        }
        if (e == SSL_ERROR_WANT_WRITE)
            return 0;
        if (e != SSL_ERROR_WANT_READ) {
            int rc = handshake_failed(t, err);
            (void)dva_tls_flush_net(t, NULL); /* the alert, if the socket takes it */
            return rc;
        }
        ssize_t n = dva_tls_fill_net(t, err);
        if (n < 0 && n != DVA_IO_EOF)
            return -1;
        if (n == 0)
            return 0;
        if (n == DVA_IO_EOF) {
            if (spoke_plain(t))
                return plain_server(t, err);
            if (t->received == 0)
                return dva_tls_fail(t, err, DVA_ERR_TLS,
                                    "%s: server did not speak TLS (plain doveadm "
                                    "server?): it closed the connection on the TLS "
                                    "hello; %s",
                                    t->description, plain_server_hint(t));
            return dva_tls_fail(t, err, DVA_ERR_TLS,
                                "%s: the server closed the connection during the TLS "
                                "handshake (see the Dovecot log)",
                                t->description);
        }
    }
}
