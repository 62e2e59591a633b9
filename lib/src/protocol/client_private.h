/* SPDX-License-Identifier: MIT */
/* The state of one doveadm connection (client.h), shared by the files
 * of the client: client.c (lifecycle, closing, deadline), client_requests.c
 * (the request FIFO and request lines), client_handshake.c (VERSION,
 * STARTTLS, PLAIN) and client_replies.c (I/O and replies). */
#ifndef DVA_CLIENT_PRIVATE_H
#define DVA_CLIENT_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bytebuf.h"
#include "doveadm/client.h"

#define VERSION_LINE "VERSION\tdoveadm-server\t1\t0\n"
#define STARTTLS_LINE "STARTTLS\n"
#define HANDSHAKE_LINE_MAX 256
#define READ_CHUNK 65536
/* Dovecot reads request lines of at most 1 MiB. */
#define REQUEST_LINE_MAX ((size_t)1 << 20)
/* Requests written but not yet read by the server. */
#define OUTPUT_MAX ((size_t)256 << 20)
/* What messages keep of a request, to name it. */
#define LABEL_MAX 96

typedef struct {
    void *tag;
    size_t ncols;
    bool stream;           /* its rows are handed out as they arrive */
    char label[LABEL_MAX]; /* "'quota get' for alice@example.com" */
} pending_request;

struct dva_client {
    dva_transport *transport;
    dva_state state;
    bool started; /* transport connect begun */
    bool authenticated;
    bool starttls;
    bool server_wide_sent;
    uint64_t requests_sent;
    uint64_t served;
    uint64_t received; /* bytes read from the transport */
    uint64_t deadline_ms;
    dva_error error; /* why it closed */
    /* The request that error names (it broke on that one), if any. */
    char error_label[LABEL_MAX];

    char *password;
    size_t password_len;
    dva_limits limits;
    dva_log_fn *log;
    void *log_ctx;

    dva_bytebuf out;  /* bytes to write now */
    dva_bytebuf held; /* request lines waiting for the handshake to end */
    char in[READ_CHUNK];
    size_t in_len, in_pos;
    char line[HANDSHAKE_LINE_MAX];
    size_t line_len;

    pending_request *queue; /* ring buffer */
    size_t q_head, q_len, q_cap;

    dva_parser parser;
    dva_reply reply;  /* the head request's reply being parsed */
    bool reply_begun; /* parser began on the head request (or scratch) */
    bool scratch;     /* ...began while no request was pending */
};

/* Closes with a formatted reason (dva_client_close()). */
void dva_client_close_fmt(dva_client *c, dva_errcode code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static inline void dva_client_close_with(dva_client *c, const dva_error *err)
{
    dva_client_close(c, err->code, err->message);
}

/* The oldest request not answered yet, or NULL; and dropping it. */
static inline pending_request *dva_client_queue_head(dva_client *c)
{
    return c->q_len == 0 ? NULL : &c->queue[c->q_head];
}
static inline void dva_client_queue_pop(dva_client *c)
{
    c->q_head = (c->q_head + 1) % c->q_cap;
    c->q_len--;
}

/* Queues bytes to write; -1 (closed) when out of memory. */
int dva_client_append_out(dva_client *c, const void *data, size_t len);
/* Consumes handshake lines from the input buffer (client_handshake.c). */
void dva_client_process_handshake(dva_client *c);
/* Once STARTTLS is out: TLS starts, then PLAIN goes inside it. */
void dva_client_begin_tls(dva_client *c);

#endif
