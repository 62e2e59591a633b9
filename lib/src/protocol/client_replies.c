/* SPDX-License-Identifier: MIT */
/* Input and output of one connection, and its replies: what
 * dva_client_receive() drives, with the reasons a connection closes. */
#include <stdio.h>
#include <string.h>

#include "client_private.h"
#include "doveadm/generation.h"

/* A transport error says what failed ("read from X failed: Connection
 * reset by peer"); the connection's error adds at which step. */
static void close_io_error(dva_client *c, const dva_error *err)
{
    pending_request *head = dva_client_queue_head(c);
    if (c->state == DVA_STATE_READY && head != NULL)
        dva_client_close_fmt(c, err->code, "%s, waiting for the reply to %s",
                             err->message, head->label);
    else
        dva_client_close_fmt(c, err->code, "%s, while %s", err->message,
                             dva_state_name(c->state));
}

int dva_client_append_out(dva_client *c, const void *data, size_t len)
{
    if (dva_bytebuf_reserve(&c->out, len, OUTPUT_MAX) < 0) {
        dva_client_close_fmt(c, DVA_ERR_NOMEM, "out of memory for the output buffer");
        return -1;
    }
    dva_bytebuf_put(&c->out, data, len);
    return 0;
}

/* Writes what it can; -1 when the connection closed. */
static int flush_out(dva_client *c)
{
    while (dva_bytebuf_unread(&c->out) > 0) {
        dva_error err;
        ssize_t n = dva_transport_write(c->transport, c->out.data + c->out.pos,
                                        dva_bytebuf_unread(&c->out), &err);
        if (n < 0) {
            close_io_error(c, &err);
            return -1;
        }
        if (n == 0)
            break;
        dva_bytebuf_consume(&c->out, (size_t)n);
    }
    return 0;
}

/* Reads when the input buffer is empty. Returns 1 when bytes are waiting,
 * 0 when nothing could be read, -1 when the connection closed. */
static int fill_in(dva_client *c, bool *eof)
{
    *eof = false;
    if (c->in_pos < c->in_len)
        return 1;
    c->in_pos = c->in_len = 0;
    dva_error err;
    ssize_t n = dva_transport_read(c->transport, c->in, sizeof(c->in), &err);
    if (n == DVA_IO_EOF) {
        *eof = true;
        return 0;
    }
    if (n < 0) {
        close_io_error(c, &err);
        return -1;
    }
    c->in_len = (size_t)n;
    c->received += (uint64_t)n;
    return n > 0;
}

static void handle_eof(dva_client *c)
{
    const char *where = dva_transport_describe(c->transport);
    pending_request *head = dva_client_queue_head(c);

    switch (c->state) {
    case DVA_STATE_VERSION_SENT:
        dva_client_close_fmt(
            c, DVA_ERR_VERSION,
            "%s closed the connection after VERSION: not a doveadm server, or "
            "one that does not speak protocol version 1 (see the Dovecot log)",
            where);
        break;
    case DVA_STATE_STARTTLS:
        dva_client_close_fmt(
            c, DVA_ERR_TLS,
            "%s closed the connection on STARTTLS: is ssl = yes set in "
            "Dovecot's configuration? (see the Dovecot log)",
            where);
        break;
    case DVA_STATE_AUTHENTICATING:
        dva_client_close_fmt(
            c, DVA_ERR_AUTH,
            "%s closed the connection during authentication: the password was "
            "rejected (it must equal the server's doveadm_password)",
            where);
        break;
    default:
        if (head == NULL)
            dva_client_close_fmt(c, DVA_ERR_CLOSED, "%s closed the connection", where);
        else if (c->reply_begun && c->parser.consumed_total > 0)
            dva_client_close_fmt(
                c, DVA_ERR_CLOSED,
                "%s closed the connection in the middle of the reply to %s "
                "(after %zu bytes): the doveadm server process ended; see the "
                "Dovecot log",
                where, head->label, c->parser.consumed_total);
        else
            dva_client_close_fmt(
                c, DVA_ERR_CLOSED,
                "%s closed the connection without answering %s: the doveadm "
                "server process ended or refused the command; see the Dovecot "
                "log",
                where, head->label);
    }
}

/* Parses buffered input in READY. Returns RESULT with *result filled when
 * the head request's reply completed, ROWS when a streamed one got complete
 * rows, else AGAIN. */
static dva_recv process_replies(dva_client *c, dva_result *result)
{
    while (c->in_pos < c->in_len && c->state == DVA_STATE_READY) {
        pending_request *head = dva_client_queue_head(c);
        if (!c->reply_begun) {
            dva_parser_begin(&c->parser, &c->reply, head == NULL ? 0 : head->ncols);
            c->reply_begun = true;
            c->scratch = head == NULL;
        } else if (c->scratch && head != NULL) {
            /* A duplicate-status prefix arrived before this request: the
             * reply continues as this request's. */
            c->reply.ncols = head->ncols;
            c->scratch = false;
        }
        size_t consumed = 0;
        dva_error err;
        dva_parse_result r = dva_parser_feed(&c->parser, c->in + c->in_pos,
                                             c->in_len - c->in_pos, &consumed, &err);
        if (r == DVA_PARSE_ERROR) {
            dva_client_close_fmt(c, err.code, "%s: reply to %s: %s",
                                 dva_transport_describe(c->transport),
                                 head == NULL ? "no request" : head->label,
                                 err.message);
            return DVA_RECV_AGAIN;
        }
        char shown[64];
        if (head == NULL) {
            /* Nothing was asked: only the 2.3.0-2.3.16 duplicate status
             * line may arrive here. */
            if (r == DVA_PARSE_DONE || !dva_parser_discardable(&c->parser)) {
                dva_client_close_fmt(
                    c, DVA_ERR_PROTOCOL,
                    "%s sent data while no request was pending: \"%s\"",
                    dva_transport_describe(c->transport),
                    dva_quote(shown, sizeof(shown), c->in + c->in_pos,
                              c->in_len - c->in_pos));
                return DVA_RECV_AGAIN;
            }
            c->in_pos += consumed == 0 ? c->in_len - c->in_pos : consumed;
            continue;
        }
        if (r == DVA_PARSE_MORE) {
            c->in_pos = c->in_len;
            if (head->stream && c->reply.nvalues >= head->ncols) {
                result->tag = head->tag;
                return DVA_RECV_ROWS;
            }
            continue;
        }
        c->in_pos += consumed;
        c->reply_begun = false;
        c->served++;
        /* Hand the reply over; the caller's old buffers are reused next. */
        dva_reply spare = result->reply;
        result->reply = c->reply;
        c->reply = spare;
        dva_reply_reset(&c->reply);
        result->tag = head->tag;
        if (result->reply.status == DVA_STATUS_OK) {
            dva_error_clear(&result->error);
        } else {
            /* status_text repeats a known code's name; show it only when it
             * says more (a REFERRAL target, an unknown code). */
            const char *name = dva_status_name(result->reply.status);
            const char *text = result->reply.status_text;
            bool extra = text[0] != '\0' && strcmp(text, name) != 0;
            const char *hint = dva_status_hint(result->reply.status);
            dva_fail(&result->error, DVA_ERR_COMMAND, "%s failed on %s: %s%s%s%s%s%s",
                     head->label, dva_transport_describe(c->transport), name,
                     extra ? " " : "", extra ? text : "", hint != NULL ? " (" : "",
                     hint != NULL ? hint : "", hint != NULL ? ")" : "");
        }
        dva_client_queue_pop(c);
        return DVA_RECV_RESULT;
    }
    return DVA_RECV_AGAIN;
}

static bool pop_failed(dva_client *c, dva_result *result)
{
    pending_request *head = dva_client_queue_head(c);
    if (head == NULL)
        return false;
    result->tag = head->tag;
    /* When the connection's error names the request it broke on, the
     * requests queued behind that one say which they are, so a failure is
     * never reported under another user's request. */
    if (c->error_label[0] == '\0' || strcmp(c->error_label, head->label) == 0)
        result->error = c->error;
    else
        dva_fail(&result->error, c->error.code, "%s was not answered: %s", head->label,
                 c->error.message);
    dva_reply_reset(&result->reply);
    dva_client_queue_pop(c);
    return true;
}

dva_recv dva_client_receive(dva_client *c, dva_result *result)
{
    for (;;) {
        if (c->state == DVA_STATE_CLOSED)
            return pop_failed(c, result) ? DVA_RECV_RESULT : DVA_RECV_IDLE;
        if (c->state == DVA_STATE_READY) {
            dva_recv got = process_replies(c, result);
            if (got != DVA_RECV_AGAIN)
                return got;
        }
        if (c->state == DVA_STATE_CLOSED)
            continue;
        if (c->state != DVA_STATE_CONNECTING)
            dva_client_process_handshake(c);
        if (c->state == DVA_STATE_CLOSED)
            continue;

        if (c->state == DVA_STATE_CONNECTING) {
            if (c->q_len == 0)
                return DVA_RECV_IDLE; /* connect only when there is work */
            c->started = true;
            dva_error err;
            int r = dva_transport_connect(c->transport, &err);
            if (r < 0) {
                dva_client_close_with(c, &err);
                continue;
            }
            if (r == 0)
                return DVA_RECV_AGAIN;
            c->state = DVA_STATE_VERSION_SENT;
            if (dva_client_append_out(c, VERSION_LINE, sizeof(VERSION_LINE) - 1) < 0)
                continue;
        }
        if (flush_out(c) < 0)
            continue;
        if (c->state == DVA_STATE_STARTTLS &&
            (dva_bytebuf_unread(&c->out) == 0 || c->in_pos < c->in_len)) {
            dva_client_begin_tls(c);
            continue;
        }
        if (c->state == DVA_STATE_READY && c->q_len == 0 && c->in_pos == c->in_len &&
            !c->reply_begun)
            return DVA_RECV_IDLE;

        bool eof;
        int got = fill_in(c, &eof);
        if (got < 0)
            continue;
        if (eof) {
            handle_eof(c);
            continue;
        }
        if (got == 0)
            return DVA_RECV_AGAIN;
    }
}

const dva_reply *dva_client_rows(const dva_client *c)
{
    return &c->reply;
}

void dva_client_drop_rows(dva_client *c, size_t nrows)
{
    if (c->reply_begun && !c->scratch)
        dva_parser_drop_rows(&c->parser, nrows);
}
