/* SPDX-License-Identifier: MIT */
/* The doveadm connection state machine (see client.h for the contract):
 * its lifecycle, closing, deadline and what it polls for. Requests,
 * handshake and replies have files of their own (client_private.h). */
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client_private.h"

const char *dva_state_name(dva_state state)
{
    switch (state) {
    case DVA_STATE_CONNECTING:
        return "connecting";
    case DVA_STATE_VERSION_SENT:
        return "waiting for the server's greeting";
    case DVA_STATE_STARTTLS:
        return "starting TLS";
    case DVA_STATE_AUTHENTICATING:
        return "authenticating";
    case DVA_STATE_READY:
        return "ready";
    case DVA_STATE_CLOSED:
        return "closed";
    }
    return "invalid";
}

void dva_result_clear(dva_result *result)
{
    dva_reply_free(&result->reply);
    result->tag = NULL;
    dva_error_clear(&result->error);
}

dva_client *dva_client_new(dva_transport *transport, const dva_client_options *options)
{
    dva_client *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return NULL;
    c->transport = transport;
    c->state = DVA_STATE_CONNECTING;
    if (options != NULL) {
        c->limits = options->limits;
        c->log = options->log;
        c->log_ctx = options->log_ctx;
        c->starttls = options->starttls;
        if (options->password != NULL) {
            c->password_len = strlen(options->password);
            c->password = malloc(c->password_len + 1);
            if (c->password == NULL) {
                free(c);
                return NULL;
            }
            memcpy(c->password, options->password, c->password_len + 1);
        }
    }
    dva_limits_fill_defaults(&c->limits);
    dva_parser_init(&c->parser, &c->limits);
    dva_reply_init(&c->reply);
    return c;
}

static void wipe_password(dva_client *c)
{
    if (c->password != NULL) {
        explicit_bzero(c->password, c->password_len);
        free(c->password);
        c->password = NULL;
    }
}

void dva_client_free(dva_client *c)
{
    if (c == NULL)
        return;
    if (c->state != DVA_STATE_CLOSED)
        dva_transport_close(c->transport);
    wipe_password(c);
    dva_bytebuf_free(&c->out, 1);
    dva_bytebuf_free(&c->held, 1);
    explicit_bzero(c->line, sizeof(c->line));
    free(c->queue);
    dva_reply_free(&c->reply);
    free(c);
}

void dva_client_close(dva_client *c, dva_errcode code, const char *reason)
{
    if (c->state == DVA_STATE_CLOSED)
        return;
    c->state = DVA_STATE_CLOSED;
    c->error.code = code;
    snprintf(c->error.message, sizeof(c->error.message), "%s", reason);
    const pending_request *head = dva_client_queue_head(c);
    if (head != NULL && strstr(reason, head->label) != NULL)
        memcpy(c->error_label, head->label, sizeof(c->error_label));
    dva_transport_close(c->transport);
    /* Nothing more is sent: drop the request lines and the password. */
    dva_bytebuf_free(&c->out, 1);
    dva_bytebuf_free(&c->held, 1);
    wipe_password(c);
    dva_reply_reset(&c->reply);
    c->in_len = c->in_pos = 0;
}

void dva_client_close_fmt(dva_client *c, dva_errcode code, const char *fmt, ...)
{
    char msg[DVA_ERROR_MESSAGE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    dva_client_close(c, code, msg);
}

short dva_client_events(const dva_client *c)
{
    switch (c->state) {
    case DVA_STATE_CLOSED:
        return 0;
    case DVA_STATE_CONNECTING:
        return c->q_len > 0 ? POLLOUT : 0;
    default:
        break;
    }
    short ev = 0;
    if (dva_bytebuf_unread(&c->out) > 0)
        ev |= POLLOUT;
    if (c->state != DVA_STATE_READY || c->q_len > 0 || c->reply_begun)
        ev |= POLLIN;
    return ev;
}

void dva_client_set_deadline(dva_client *c, uint64_t deadline_ms)
{
    c->deadline_ms = deadline_ms;
}

uint64_t dva_client_deadline(const dva_client *c)
{
    return c->deadline_ms;
}

bool dva_client_expire(dva_client *c, uint64_t now_ms)
{
    if (c->deadline_ms == 0 || now_ms < c->deadline_ms || c->state == DVA_STATE_CLOSED)
        return false;
    pending_request *head = dva_client_queue_head(c);
    const char *where = dva_transport_describe(c->transport);
    /* What came instead: part of the reply, or nothing at all. */
    size_t got = c->reply_begun ? c->parser.consumed_total : 0;
    if (c->state == DVA_STATE_READY && head != NULL && got > 0)
        dva_client_close_fmt(
            c, DVA_ERR_TIMEOUT,
            "%s: timed out waiting for the rest of the reply to %s (%zu bytes of "
            "it came, then nothing)",
            where, head->label, got);
    else if (c->state == DVA_STATE_READY && head != NULL)
        dva_client_close_fmt(c, DVA_ERR_TIMEOUT,
                             "%s: timed out waiting for the reply to %s (nothing came)",
                             where, head->label);
    else {
        const char *more = dva_transport_waiting_for(c->transport);
        dva_client_close_fmt(c, DVA_ERR_TIMEOUT, "%s: timed out while %s%s%s", where,
                             dva_state_name(c->state), more != NULL ? ", " : "",
                             more != NULL ? more : "");
    }
    return true;
}

dva_state dva_client_state(const dva_client *c)
{
    return c->state;
}

bool dva_client_authenticated(const dva_client *c)
{
    return c->authenticated;
}

size_t dva_client_pending(const dva_client *c)
{
    return c->q_len;
}

uint64_t dva_client_served(const dva_client *c)
{
    return c->served;
}

const dva_error *dva_client_error(const dva_client *c)
{
    return &c->error;
}

uint64_t dva_client_received(const dva_client *c)
{
    return c->received;
}
