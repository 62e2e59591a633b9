/* The doveadm connection state machine: see client.h for the contract. */
#include "doveadm/client.h"

#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "bytebuf.h"
#include "doveadm/escape.h"
#include "doveadm/generation.h"

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

static pending_request *queue_head(dva_client *c);

void dva_client_close(dva_client *c, dva_errcode code, const char *reason)
{
    if (c->state == DVA_STATE_CLOSED)
        return;
    c->state = DVA_STATE_CLOSED;
    c->error.code = code;
    snprintf(c->error.message, sizeof(c->error.message), "%s", reason);
    const pending_request *head = queue_head(c);
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

static void close_with(dva_client *c, const dva_error *err)
{
    dva_client_close(c, err->code, err->message);
}

static void close_fmt(dva_client *c, dva_errcode code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void close_fmt(dva_client *c, dva_errcode code, const char *fmt, ...)
{
    char msg[DVA_ERROR_MESSAGE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    dva_client_close(c, code, msg);
}

/* ---- the request FIFO ---- */

/* A transport error says what failed ("read from X failed: Connection
 * reset by peer"); the connection's error adds at which step. */
static void close_io_error(dva_client *c, const dva_error *err)
{
    pending_request *head = queue_head(c);
    if (c->state == DVA_STATE_READY && head != NULL)
        close_fmt(c, err->code, "%s, waiting for the reply to %s", err->message,
                  head->label);
    else
        close_fmt(c, err->code, "%s, while %s", err->message, dva_state_name(c->state));
}

static pending_request *queue_head(dva_client *c)
{
    return c->q_len == 0 ? NULL : &c->queue[c->q_head];
}

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

static void queue_pop(dva_client *c)
{
    c->q_head = (c->q_head + 1) % c->q_cap;
    c->q_len--;
}

/* ---- requests ---- */

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
    pending_request p = {.tag = req->tag, .ncols = req->ncols};
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

/* ---- I/O ---- */

static int append_out(dva_client *c, const void *data, size_t len)
{
    if (dva_bytebuf_reserve(&c->out, len, OUTPUT_MAX) < 0) {
        close_fmt(c, DVA_ERR_NOMEM, "out of memory for the output buffer");
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
    return n > 0;
}

static void handshake_done(dva_client *c)
{
    c->state = DVA_STATE_READY;
    c->authenticated = true;
    if (dva_bytebuf_unread(&c->held) > 0 &&
        append_out(c, c->held.data + c->held.pos, dva_bytebuf_unread(&c->held)) < 0)
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
        close_fmt(c, DVA_ERR_NOMEM, "out of memory preparing authentication");
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
    if (append_out(c, line, n) == 0)
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
            close_fmt(c, DVA_ERR_TLS,
                      "%s accepted the connection without authentication before "
                      "STARTTLS; refusing to go on without TLS",
                      dva_transport_describe(c->transport));
        } else if (minus && c->starttls && c->password != NULL) {
            if (append_out(c, STARTTLS_LINE, sizeof(STARTTLS_LINE) - 1) == 0)
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
            close_fmt(c, DVA_ERR_NOAUTH,
                      "%s requires authentication but no password is configured (set "
                      "the doveadm_password of the server as Password or PasswordFile)",
                      dva_transport_describe(c->transport));
        } else {
            close_fmt(c, DVA_ERR_PROTOCOL,
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
        close_fmt(c, DVA_ERR_AUTH,
                  "%s rejected the password (it must equal the server's "
                  "doveadm_password)",
                  dva_transport_describe(c->transport));
    } else {
        close_fmt(c, DVA_ERR_PROTOCOL,
                  "%s answered authentication with \"%s\"; expected \"+\" or \"-\"",
                  dva_transport_describe(c->transport),
                  dva_quote(shown, sizeof(shown), line, strlen(line)));
    }
}

/* Once STARTTLS is out: TLS starts, then PLAIN goes inside it. */
static void begin_tls(dva_client *c)
{
    if (c->in_pos < c->in_len || c->line_len > 0) {
        /* Bytes the server sent in plain text after "-" would otherwise be
         * taken as TLS-protected (STARTTLS injection). */
        char shown[64];
        close_fmt(
            c, DVA_ERR_PROTOCOL, "%s sent \"%s\" before the TLS handshake",
            dva_transport_describe(c->transport),
            dva_quote(shown, sizeof(shown), c->in + c->in_pos, c->in_len - c->in_pos));
        return;
    }
    dva_error err;
    if (dva_transport_start_tls(c->transport, &err) < 0) {
        close_with(c, &err);
        return;
    }
    if (c->password != NULL)
        send_plain_auth(c);
}

/* Consumes handshake lines from the input buffer. */
static void process_handshake(dva_client *c)
{
    while (c->in_pos < c->in_len && (c->state == DVA_STATE_VERSION_SENT ||
                                     c->state == DVA_STATE_AUTHENTICATING)) {
        char ch = c->in[c->in_pos++];
        if (ch != '\n') {
            if (c->line_len + 1 >= sizeof(c->line)) {
                close_fmt(c, DVA_ERR_PROTOCOL,
                          "%s sent a handshake line longer than %d bytes",
                          dva_transport_describe(c->transport), HANDSHAKE_LINE_MAX);
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

static void handle_eof(dva_client *c)
{
    const char *where = dva_transport_describe(c->transport);
    pending_request *head = queue_head(c);

    switch (c->state) {
    case DVA_STATE_VERSION_SENT:
        close_fmt(c, DVA_ERR_VERSION,
                  "%s closed the connection after VERSION: not a doveadm server, or "
                  "one that does not speak protocol version 1 (see the Dovecot log)",
                  where);
        break;
    case DVA_STATE_STARTTLS:
        close_fmt(c, DVA_ERR_TLS,
                  "%s closed the connection on STARTTLS: is ssl = yes set in "
                  "Dovecot's configuration? (see the Dovecot log)",
                  where);
        break;
    case DVA_STATE_AUTHENTICATING:
        close_fmt(c, DVA_ERR_AUTH,
                  "%s closed the connection during authentication: the password was "
                  "rejected (it must equal the server's doveadm_password)",
                  where);
        break;
    default:
        if (head == NULL)
            close_fmt(c, DVA_ERR_CLOSED, "%s closed the connection", where);
        else if (c->reply_begun && c->parser.consumed_total > 0)
            close_fmt(c, DVA_ERR_CLOSED,
                      "%s closed the connection in the middle of the reply to %s "
                      "(after %zu bytes): the doveadm server process ended; see the "
                      "Dovecot log",
                      where, head->label, c->parser.consumed_total);
        else
            close_fmt(c, DVA_ERR_CLOSED,
                      "%s closed the connection without answering %s: the doveadm "
                      "server process ended or refused the command; see the Dovecot "
                      "log",
                      where, head->label);
    }
}

/* Parses buffered input in READY. Returns true with *result filled when the
 * head request's reply completed. */
static bool process_replies(dva_client *c, dva_result *result)
{
    while (c->in_pos < c->in_len && c->state == DVA_STATE_READY) {
        pending_request *head = queue_head(c);
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
            close_fmt(c, err.code, "%s: reply to %s: %s",
                      dva_transport_describe(c->transport),
                      head == NULL ? "no request" : head->label, err.message);
            return false;
        }
        char shown[64];
        if (head == NULL) {
            /* Nothing was asked: only the 2.3.0-2.3.16 duplicate status
             * line may arrive here. */
            if (r == DVA_PARSE_DONE || !dva_parser_discardable(&c->parser)) {
                close_fmt(c, DVA_ERR_PROTOCOL,
                          "%s sent data while no request was pending: \"%s\"",
                          dva_transport_describe(c->transport),
                          dva_quote(shown, sizeof(shown), c->in + c->in_pos,
                                    c->in_len - c->in_pos));
                return false;
            }
            c->in_pos += consumed == 0 ? c->in_len - c->in_pos : consumed;
            continue;
        }
        if (r == DVA_PARSE_MORE) {
            c->in_pos = c->in_len;
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
        queue_pop(c);
        return true;
    }
    return false;
}

static bool pop_failed(dva_client *c, dva_result *result)
{
    pending_request *head = queue_head(c);
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
    queue_pop(c);
    return true;
}

dva_recv dva_client_receive(dva_client *c, dva_result *result)
{
    for (;;) {
        if (c->state == DVA_STATE_CLOSED)
            return pop_failed(c, result) ? DVA_RECV_RESULT : DVA_RECV_IDLE;
        if (c->state == DVA_STATE_READY && process_replies(c, result))
            return DVA_RECV_RESULT;
        if (c->state == DVA_STATE_CLOSED)
            continue;
        if (c->state != DVA_STATE_CONNECTING)
            process_handshake(c);
        if (c->state == DVA_STATE_CLOSED)
            continue;

        if (c->state == DVA_STATE_CONNECTING) {
            if (c->q_len == 0)
                return DVA_RECV_IDLE; /* connect only when there is work */
            c->started = true;
            dva_error err;
            int r = dva_transport_connect(c->transport, &err);
            if (r < 0) {
                close_with(c, &err);
                continue;
            }
            if (r == 0)
                return DVA_RECV_AGAIN;
            c->state = DVA_STATE_VERSION_SENT;
            if (append_out(c, VERSION_LINE, sizeof(VERSION_LINE) - 1) < 0)
                continue;
        }
        if (flush_out(c) < 0)
            continue;
        if (c->state == DVA_STATE_STARTTLS &&
            (dva_bytebuf_unread(&c->out) == 0 || c->in_pos < c->in_len)) {
            begin_tls(c);
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
    pending_request *head = queue_head(c);
    const char *where = dva_transport_describe(c->transport);
    /* What came instead: part of the reply, or nothing at all. */
    size_t got = c->reply_begun ? c->parser.consumed_total : 0;
    if (c->state == DVA_STATE_READY && head != NULL && got > 0)
        close_fmt(c, DVA_ERR_TIMEOUT,
                  "%s: timed out waiting for the rest of the reply to %s (%zu bytes of "
                  "it came, then nothing)",
                  where, head->label, got);
    else if (c->state == DVA_STATE_READY && head != NULL)
        close_fmt(c, DVA_ERR_TIMEOUT,
                  "%s: timed out waiting for the reply to %s (nothing came)", where,
                  head->label);
    else {
        const char *more = dva_transport_waiting_for(c->transport);
        close_fmt(c, DVA_ERR_TIMEOUT, "%s: timed out while %s%s%s", where,
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
