/* SPDX-License-Identifier: MIT */
/* The handshake of one connection (PROTOCOL.md section 2): VERSION, then
 * "+" (no authentication) or "-" and PLAIN, optionally STARTTLS first. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "client_private.h"

static void logf_client(dva_client *c, dva_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void logf_client(dva_client *c, dva_log_level level, const char *fmt, ...)
{
    if (c->log == NULL)
        return;
    char msg[DVA_ERROR_MESSAGE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    c->log(c->log_ctx, level, msg);
}

static void handshake_done(dva_client *c)
{
    c->state = DVA_STATE_READY;
    c->authenticated = true;
    if (dva_bytebuf_unread(&c->held) > 0 &&
        dva_client_append_out(c, c->held.data + c->held.pos,
                              dva_bytebuf_unread(&c->held)) < 0)
        return;
    dva_bytebuf_free(&c->held, 1);
}

static void send_plain_auth(dva_client *c)
{
    /* PLAIN: authzid empty, authcid "doveadm", then the password; the
     * base64 must be one line (a wrapping encoder breaks long passwords). */
    size_t raw_len = 1 + 7 + 1 + c->password_len;
    char *raw = malloc(raw_len);
    size_t line_len = 6 + dva_base64_len(raw_len) + 1;
    char *line = malloc(line_len);
    if (raw == NULL || line == NULL) {
        free(raw);
        free(line);
        dva_client_close_fmt(c, DVA_ERR_NOMEM,
                             "out of memory preparing authentication");
        return;
    }
    raw[0] = '\0';
    memcpy(raw + 1, "doveadm", 7);
    raw[8] = '\0';
    memcpy(raw + 9, c->password, c->password_len);
    memcpy(line, "PLAIN\t", 6);
    size_t n = 6 + dva_base64_encode(line + 6, raw, raw_len);
    line[n++] = '\n';
    explicit_bzero(raw, raw_len);
    free(raw);
    if (dva_client_append_out(c, line, n) == 0)
        c->state = DVA_STATE_AUTHENTICATING;
    explicit_bzero(line, line_len);
    free(line);
}

static void handle_handshake_line(dva_client *c, const char *line)
{
    char shown[64];
    bool plus = strcmp(line, "+") == 0, minus = strcmp(line, "-") == 0;

    if (c->state == DVA_STATE_VERSION_SENT) {
        if (plus && c->starttls) {
            dva_client_close_fmt(
                c, DVA_ERR_TLS,
                "%s accepted the connection without authentication before "
                "STARTTLS; refusing to go on without TLS",
                dva_transport_describe(c->transport));
        } else if (minus && c->starttls && c->password != NULL) {
            if (dva_client_append_out(c, STARTTLS_LINE, sizeof(STARTTLS_LINE) - 1) == 0)
                c->state = DVA_STATE_STARTTLS;
        } else if (plus) {
            if (c->password != NULL)
                logf_client(c, DVA_LOG_WARNING,
                            "%s accepted the connection without authentication; the "
                            "configured password was not needed and was not sent",
                            dva_transport_describe(c->transport));
            handshake_done(c);
        } else if (minus && c->password != NULL) {
            send_plain_auth(c);
        } else if (minus) {
            dva_client_close_fmt(
                c, DVA_ERR_NOAUTH,
                "%s requires authentication but no password is configured (set "
                "the doveadm_password of the server as Password or PasswordFile)",
                dva_transport_describe(c->transport));
        } else {
            dva_client_close_fmt(
                c, DVA_ERR_PROTOCOL,
                "%s answered VERSION with \"%s\"; expected \"+\" or \"-\"",
                dva_transport_describe(c->transport),
                dva_quote(shown, sizeof(shown), line, strlen(line)));
        }
        return;
    }
    /* DVA_STATE_AUTHENTICATING */
    if (plus) {
        handshake_done(c);
    } else if (minus) {
        dva_client_close_fmt(c, DVA_ERR_AUTH,
                             "%s rejected the password (it must equal the server's "
                             "doveadm_password)",
                             dva_transport_describe(c->transport));
    } else {
        dva_client_close_fmt(
            c, DVA_ERR_PROTOCOL,
            "%s answered authentication with \"%s\"; expected \"+\" or \"-\"",
            dva_transport_describe(c->transport),
            dva_quote(shown, sizeof(shown), line, strlen(line)));
    }
}

void dva_client_begin_tls(dva_client *c)
{
    if (c->in_pos < c->in_len || c->line_len > 0) {
        /* Bytes the server sent in plain text after "-" would otherwise be
         * taken as TLS-protected (STARTTLS injection). */
        char shown[64];
        dva_client_close_fmt(
            c, DVA_ERR_PROTOCOL, "%s sent \"%s\" before the TLS handshake",
            dva_transport_describe(c->transport),
            dva_quote(shown, sizeof(shown), c->in + c->in_pos, c->in_len - c->in_pos));
        return;
    }
    dva_error err;
    if (dva_transport_start_tls(c->transport, &err) < 0) {
        dva_client_close_with(c, &err);
        return;
    }
    if (c->password != NULL)
        send_plain_auth(c);
}

/* Consumes handshake lines from the input buffer. */
void dva_client_process_handshake(dva_client *c)
{
    while (c->in_pos < c->in_len && (c->state == DVA_STATE_VERSION_SENT ||
                                     c->state == DVA_STATE_AUTHENTICATING)) {
        char ch = c->in[c->in_pos++];
        if (ch != '\n') {
            if (c->line_len + 1 >= sizeof(c->line)) {
                dva_client_close_fmt(c, DVA_ERR_PROTOCOL,
                                     "%s sent a handshake line longer than %d bytes",
                                     dva_transport_describe(c->transport),
                                     HANDSHAKE_LINE_MAX);
                return;
            }
            c->line[c->line_len++] = ch;
            continue;
        }
        c->line[c->line_len] = '\0';
        c->line_len = 0;
        handle_handshake_line(c, c->line);
    }
}
