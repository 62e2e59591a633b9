/* SPDX-License-Identifier: MIT */
/* Requests of one connection: the FIFO of those not answered yet, and
 * their lines (PROTOCOL.md section 3), checked against the contract of
 * client.h before they are queued. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client_private.h"
#include "doveadm/escape.h"

static int queue_push(dva_client *c, const pending_request *p)
{
    if (c->q_len == c->q_cap) {
        size_t cap = c->q_cap == 0 ? 16 : c->q_cap * 2;
        pending_request *q = malloc(cap * sizeof(*q));
        if (q == NULL)
            return -1;
        for (size_t i = 0; i < c->q_len; i++)
            q[i] = c->queue[(c->q_head + i) % c->q_cap];
        free(c->queue);
        c->queue = q;
        c->q_cap = cap;
        c->q_head = 0;
    }
    c->queue[(c->q_head + c->q_len) % c->q_cap] = *p;
    c->q_len++;
    return 0;
}

static size_t field_len(const char *s)
{
    return s == NULL ? 0 : dva_escaped_len(s, strlen(s));
}

static void put_field(dva_bytebuf *b, const char *s)
{
    if (s != NULL)
        b->len += dva_escape(b->data + b->len, s, strlen(s));
}

static void make_label(pending_request *p, const dva_request *req)
{
    char name[40], user[48];
    dva_quote(name, sizeof(name), req->argv[0], strlen(req->argv[0]));
    if (req->username != NULL && req->username[0] != '\0') {
        dva_quote(user, sizeof(user), req->username, strlen(req->username));
        snprintf(p->label, sizeof(p->label), "'%s' for %s", name, user);
    } else {
        snprintf(p->label, sizeof(p->label), "'%s'", name);
    }
}

int dva_client_send(dva_client *c, const dva_request *req, dva_error *err)
{
    if (c->state == DVA_STATE_CLOSED)
        return dva_fail(err, c->error.code, "%s", c->error.message);
    if (req->argc == 0 || req->argv == NULL || req->argv[0] == NULL ||
        req->argv[0][0] == '\0')
        return dva_fail(err, DVA_ERR_USAGE, "a request needs a command name");
    if (req->flags != 0 && req->flags != 'v' && req->flags != 'D')
        return dva_fail(err, DVA_ERR_USAGE, "request flag must be none, 'v' or 'D'");
    bool server_wide = req->username == NULL || req->username[0] == '\0';
    if (c->server_wide_sent)
        return dva_fail(err, DVA_ERR_USAGE,
                        "no request may follow the server-wide command on this "
                        "connection: such commands may send rows after their status "
                        "line; open a new connection");
    if (server_wide && c->requests_sent > 0)
        return dva_fail(err, DVA_ERR_USAGE,
                        "the server-wide command '%.64s' must be the first and only "
                        "request of a connection (after a mail command the server "
                        "process dies on it); open a new connection",
                        req->argv[0]);

    size_t len = (req->flags != 0) + 1 + field_len(req->username) + 1;
    for (size_t i = 0; i < req->argc; i++) {
        if (req->argv[i] == NULL)
            return dva_fail(err, DVA_ERR_USAGE, "argument %zu of the request is NULL",
                            i);
        len += field_len(req->argv[i]) + 1; /* TAB before, or LF at the end */
    }
    if (len > REQUEST_LINE_MAX)
        return dva_fail(err, DVA_ERR_LIMIT,
                        "request line of %zu bytes is over the server's limit of %zu",
                        len, REQUEST_LINE_MAX);

    dva_bytebuf *b = c->state == DVA_STATE_READY ? &c->out : &c->held;
    if (dva_bytebuf_reserve(b, len, OUTPUT_MAX) < 0)
        return dva_fail(err, DVA_ERR_LIMIT,
                        "more than %zu bytes of requests are waiting to be sent",
                        OUTPUT_MAX);
    pending_request p = {
        .tag = req->tag, .ncols = req->ncols, .stream = req->stream && req->ncols > 0};
    make_label(&p, req);
    if (queue_push(c, &p) < 0)
        return dva_fail(err, DVA_ERR_NOMEM, "out of memory queueing a request");

    if (req->flags != 0)
        b->data[b->len++] = req->flags;
    b->data[b->len++] = '\t';
    put_field(b, req->username);
    for (size_t i = 0; i < req->argc; i++) {
        b->data[b->len++] = '\t';
        put_field(b, req->argv[i]);
    }
    b->data[b->len++] = '\n';
    c->requests_sent++;
    c->server_wide_sent = server_wide;
    return 0;
}
