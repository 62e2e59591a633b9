/* SPDX-License-Identifier: MIT */
/* The TLS options of an instance and the cleartext guard: a password
 * never crosses the network unencrypted unless the administrator says so. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "doveadm/tls_transport.h"
#include "settings_private.h"

static void warnf(dva_config_warn_fn *warn, void *warn_ctx, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void warnf(dva_config_warn_fn *warn, void *warn_ctx, const char *fmt, ...)
{
    if (warn == NULL)
        return;
    char msg[DVA_ERROR_MESSAGE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    warn(warn_ctx, msg);
}

int dva_settings_check_tls(const dva_config *c, const dva_settings *s,
                           dva_config_warn_fn *warn, void *warn_ctx, dva_error *err)
{
    static const char *const tls_only[] = {"CACert", "VerifyPeer", "VerifyHost",
                                           "ServerName"};
    if (s->tls == DVA_TLS_NONE) {
        for (size_t i = 0; i < sizeof(tls_only) / sizeof(tls_only[0]); i++)
            if (c->seen[dva_option_find(tls_only[i])])
                return dva_fail(err, DVA_ERR_USAGE,
                                "instance \"%s\": option %s applies only to TLS, but "
                                "TLS is \"none\"; add TLS \"tls\" (or \"starttls\") "
                                "or remove %s",
                                c->name, tls_only[i], tls_only[i]);
        return 0;
    }
    const char *mode = s->tls == DVA_TLS_STARTTLS ? "starttls" : "tls";
    if (s->host == NULL)
        return dva_fail(err, DVA_ERR_USAGE,
                        "instance \"%s\": option TLS \"%s\" needs Host: TLS is for "
                        "TCP, a UNIX socket is local; add Host \"...\" or set TLS "
                        "\"none\"",
                        c->name, mode);
    if (s->ca_cert != NULL && access(s->ca_cert, R_OK) != 0)
        return dva_fail(err, DVA_ERR_USAGE,
                        "instance \"%s\": option CACert: cannot read \"%s\": %s (give "
                        "the PEM file of the CA that signed the server's certificate, "
                        "readable by the user collectd runs as)",
                        c->name, s->ca_cert, strerror(errno));
    /* Load it now, so a file that is not PEM stops start-up, not every read. */
    dva_tls_options o = {.mode = s->tls, .ca_file = s->ca_cert};
    dva_error terr;
    dva_tls_context *ctx = dva_tls_context_new(&o, &terr);
    if (ctx == NULL)
        return dva_fail(err, DVA_ERR_USAGE, "instance \"%s\": option CACert: %s",
                        c->name, terr.message);
    dva_tls_context_free(ctx);
    if (!s->verify_peer)
        warnf(warn, warn_ctx,
              "instance \"%s\": VerifyPeer false: the server's certificate is not "
              "checked, so anyone on the path can pose as the server and read the "
              "password; give CACert \"/path\" instead",
              c->name);
    else if (!s->verify_host)
        warnf(warn, warn_ctx,
              "instance \"%s\": VerifyHost false: any certificate of the trusted CAs "
              "is accepted, whichever host it names; prefer ServerName \"...\"",
              c->name);
    return 0;
}

/* 127.0.0.0/8, ::1 (also IPv4-mapped) and "localhost": traffic that never
 * leaves the host. Names are not resolved here: only these count. */
static bool is_loopback(const char *host)
{
    char name[INET6_ADDRSTRLEN + 8];
    size_t len = strlen(host);
    if (len >= 2 && host[0] == '[' && host[len - 1] == ']') {
        if (len - 2 >= sizeof(name))
            return false;
        memcpy(name, host + 1, len - 2);
        name[len - 2] = '\0';
    } else if (len < sizeof(name)) {
        memcpy(name, host, len + 1);
    } else {
        return false;
    }
    if (strcasecmp(name, "localhost") == 0)
        return true;
    struct in_addr a4;
    struct in6_addr a6;
    if (inet_pton(AF_INET, name, &a4) == 1)
        return (ntohl(a4.s_addr) >> 24) == 127;
    if (inet_pton(AF_INET6, name, &a6) == 1)
        return IN6_IS_ADDR_LOOPBACK(&a6) ||
               (IN6_IS_ADDR_V4MAPPED(&a6) && a6.s6_addr[12] == 127);
    return false;
}

int dva_settings_check_cleartext(const dva_config *c, const dva_settings *s,
                                 dva_error *err)
{
    if (s->host == NULL || s->password == NULL || s->tls != DVA_TLS_NONE ||
        s->allow_cleartext_password || is_loopback(s->host))
        return 0;
    return dva_fail(err, DVA_ERR_USAGE,
                    "instance \"%s\": option TLS is \"none\" and Host \"%s\" is not "
                    "a loopback address: the doveadm password would cross the network "
                    "unencrypted. Set TLS \"tls\" (a doveadm listener with ssl = yes) "
                    "or TLS \"starttls\" with CACert \"/path\", or, on a network you "
                    "trust, AllowCleartextPassword true",
                    c->name, s->host);
}
