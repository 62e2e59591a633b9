/* SPDX-License-Identifier: MIT */
/* One doveadm connection's protocol state machine (the role of
 * Net::Doveadm): handshake, PLAIN authentication, a FIFO of pending
 * requests, pipelining. The caller owns the event loop: it polls the
 * transport's fd for dva_client_events() and then calls
 * dva_client_receive() until it returns DVA_RECV_AGAIN.
 *
 * Contract against Dovecot's hazards (PROTOCOL.md section 6):
 * - A request with a username is a mail command; mail commands flush their
 *   output before their status line and may be pipelined freely.
 * - A request without a username is a server-wide command (stats dump,
 *   who, user, ...). It must be the first and only request of the
 *   connection: such commands may send rows after their status line, and
 *   after a mail command they make the server process die. send() refuses
 *   anything else with DVA_ERR_USAGE.
 * - Bytes arriving with no request pending are a protocol error, except the
 *   duplicate status line of 2.3.0-2.3.16. */
#ifndef DOVEADM_CLIENT_H
#define DOVEADM_CLIENT_H

#if defined(DVA_LAYER_BUILD) && !defined(DVA_SEES_PROTOCOL)
#error "doveadm/client.h belongs to the protocol layer (doc/ARCHITECTURE.md)"
#endif

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "doveadm/reply.h"
#include "doveadm/request.h"
#include "doveadm/transport.h"

typedef enum {
    DVA_STATE_CONNECTING = 0, /* transport connect in progress */
    DVA_STATE_VERSION_SENT,   /* waiting for "+" or "-" */
    DVA_STATE_STARTTLS,       /* STARTTLS being sent; TLS starts once it is out */
    DVA_STATE_AUTHENTICATING, /* PLAIN sent, waiting for "+" */
    DVA_STATE_READY,          /* requests flow */
    DVA_STATE_CLOSED,         /* closed; every pending request failed */
} dva_state;

const char *dva_state_name(dva_state state);

typedef enum { DVA_LOG_INFO, DVA_LOG_WARNING, DVA_LOG_NOTICE } dva_log_level;
typedef void dva_log_fn(void *ctx, dva_log_level level, const char *message);

typedef struct {
    const char *password; /* NULL: none. Copied; wiped from memory on free */
    dva_limits limits;    /* zero fields take the defaults */
    dva_log_fn *log;      /* optional: e.g. the unneeded-password warning */
    void *log_ctx;
    /* Answer the server's "-" with STARTTLS, then switch the transport to
     * TLS (dva_transport_start_tls) and authenticate inside it. A server
     * that says "+" instead is refused: nothing is sent without TLS. */
    bool starttls;
} dva_client_options;

typedef struct {
    void *tag;
    /* DVA_OK: success. DVA_ERR_COMMAND: the server answered with a failure
     * status (reply.status says which). Anything else: the connection
     * failed before the reply was complete, and reply is empty. */
    dva_error error;
    dva_reply reply;
} dva_result;

/* Frees what the result holds; the struct may be reused. */
void dva_result_clear(dva_result *result);

typedef struct dva_client dva_client;

/* Does no I/O. The transport is borrowed: free it after the client. */
dva_client *dva_client_new(dva_transport *transport, const dva_client_options *options);
/* Closes (failing pending requests silently) and frees. NULL is fine. */
void dva_client_free(dva_client *client);

/* Queues a request and starts the handshake if needed. Requests queued
 * before the handshake ends are written when it does. Returns 0, or -1 with
 * err set (DVA_ERR_USAGE for a broken contract, DVA_ERR_LIMIT for a request
 * line over 1 MiB, or the connection's error once closed). */
int dva_client_send(dva_client *client, const dva_request *request, dva_error *err);

typedef enum {
    DVA_RECV_AGAIN = 0, /* nothing complete yet: poll and call again */
    DVA_RECV_RESULT,    /* *result holds the next request's outcome */
    DVA_RECV_IDLE,      /* no request pending */
    /* A streamed request's reply (dva_request.stream) got complete rows:
     * result->tag says whose; read them with dva_client_rows(), then
     * drop those used with dva_client_drop_rows() and call receive again.
     * The rows not dropped come again, and the reply ends as RESULT with
     * the rows never dropped and its status (which may still fail). */
    DVA_RECV_ROWS,
} dva_recv;

/* Does all the I/O possible without blocking (connect, handshake, writes,
 * reads) and returns the oldest request's result once it is known. After a
 * connection failure, each pending request comes back in order with the
 * failure as its error. result must be initialised (zeroed or cleared). */
dva_recv dva_client_receive(dva_client *client, dva_result *result);

/* After DVA_RECV_ROWS: the reply so far, cut into rows (its status is not
 * known yet; only its complete rows count), and forgetting its first
 * nrows rows. */
const dva_reply *dva_client_rows(const dva_client *client);
void dva_client_drop_rows(dva_client *client, size_t nrows);

/* The poll events the client waits for now (POLLIN and/or POLLOUT, 0 when
 * idle or closed); pass them to dva_transport_poll_fd(). */
short dva_client_events(const dva_client *client);

/* Closes the connection and fails every pending request with code and
 * reason; their results are still returned by dva_client_receive(). */
void dva_client_close(dva_client *client, dva_errcode code, const char *reason);

/* Deadline in dva_now_ms() milliseconds (0: none). dva_client_expire()
 * closes with DVA_ERR_TIMEOUT when now is past it and returns true then. */
void dva_client_set_deadline(dva_client *client, uint64_t deadline_ms);
uint64_t dva_client_deadline(const dva_client *client);
bool dva_client_expire(dva_client *client, uint64_t now_ms);

dva_state dva_client_state(const dva_client *client);
bool dva_client_authenticated(const dva_client *client);
size_t dva_client_pending(const dva_client *client);    /* requests not yet returned */
uint64_t dva_client_served(const dva_client *client);   /* replies completed */
uint64_t dva_client_received(const dva_client *client); /* bytes read */
/* Why the connection closed (DVA_OK while open). */
const dva_error *dva_client_error(const dva_client *client);

#endif
