/* SPDX-License-Identifier: MIT */
/* The sans-I/O parser of doveadm replies (the parser half of reply.h).
 *
 * Wire shape (PROTOCOL.md section 4):
 *
 *     value TAB value TAB ... LF status-line LF
 *
 * Every value is tab-escaped (escape.h) and ends with TAB, also the last one.
 * The LF that ends the data section is the first LF outside a value; the
 * status line is "+" (success, any text after it ignored) or "-" followed by
 * an optional code.
 *
 * Decisions (callers and tests rely on them):
 *
 * - A lone 0x01 right before the TAB or LF that ends a value is dropped, the
 *   same way Dovecot does it: its client splits the line at TAB/LF first and
 *   then unescapes each field, where a trailing 0x01 is dropped. The TAB/LF
 *   keeps its meaning. 0x01 followed by any other byte X gives
 *   dva_unescape_code(X), also when the two bytes arrive in different feeds.
 * - Raw bytes of a value (0x01 included) followed by LF without the value's
 *   TAB is a protocol error, with one exception seen on the wire: when that
 *   value is the first and only one of the reply, it is taken as the value.
 *   Dovecot 2.3.19's `user <mask>` writes its one JSON value
 *   {"userList":[...]} straight to the stream and ends it with LF, no TAB
 *   (tests/data/captures/user_list.bin). Dovecot's own client never sees
 *   this (it runs `user` locally); a client of ours must accept it. A second
 *   value without TAB ("a\tb\n") is still an error, and a successful reply
 *   cut into rows of several columns rejects a lone value by the row check.
 * - The status line (from its '+'/'-' up to, not including, its LF) may hold
 *   DVA_STATUS_LINE_MAX bytes; one more is a protocol error. What it says
 *   is read by status_line.c.
 */
#include "doveadm/escape.h"
#include "doveadm/reply.h"
#include "status_line.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum {
    ST_IDLE = 0, /* after init or a completed reply: needs dva_parser_begin() */
    ST_DATA,     /* in the data section */
    ST_STATUS,   /* in the status line */
    ST_DEAD,     /* failed: needs dva_parser_init() */
};

#define MIN_DATA_CAP ((size_t)256)
#define MIN_OFFSETS_CAP ((size_t)16)
#define QUOTE_MAX 64 /* bytes shown of offending input */

/* SPECIAL[b]: b interrupts a run of ordinary value bytes (a raw NUL byte
 * too: the reply records whether any value holds one). */
static const unsigned char SPECIAL[256] = {
    ['\t'] = 1,
    ['\n'] = 1,
    [0x01] = 1,
    [0x00] = 1,
};

/* Length of the run of ordinary bytes from pos (up to end). A word at a
 * time skips bytes >= 0x0b (every special byte is below: TAB 0x09, LF
 * 0x0a, 0x01, 0x00); a word holding a smaller byte is looked at from that
 * byte on, one byte at a time. */
static size_t ordinary_run(const unsigned char *pos, const unsigned char *end)
{
    const unsigned char *p = pos;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
    while (end - p >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        /* high bit of each byte < 0x0b; the lowest one set is exact */
        uint64_t low = (w - ones * 0x0b) & ~w & highs;
        if (low == 0) {
            p += 8;
            continue;
        }
        p += (size_t)__builtin_ctzll(low) / 8;
        if (SPECIAL[*p])
            return (size_t)(p - pos);
        p++; /* a control byte that is not special */
    }
#endif
    while (p < end && !SPECIAL[*p])
        p++;
    return (size_t)(p - pos);
}

static size_t sat_add(size_t a, size_t b)
{
    return a > SIZE_MAX - b ? SIZE_MAX : a + b;
}

static dva_parse_result die(dva_parser *p)
{
    p->state = ST_DEAD;
    return DVA_PARSE_ERROR;
}

/* Room for need bytes in out->data, growing geometrically but never past
 * what the limits can use: every value byte plus one NUL per value, plus the
 * NUL of the value being built. */
static int ensure_data(dva_parser *p, size_t need, dva_error *err)
{
    dva_reply *r = p->out;
    if (need <= r->data_cap)
        return 0;

    size_t max = sat_add(sat_add(p->limits.max_reply_len, p->limits.max_values), 1);
    size_t cap = r->data_cap < MIN_DATA_CAP ? MIN_DATA_CAP : r->data_cap;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? SIZE_MAX : cap * 2;
    if (cap > max)
        cap = max;
    if (cap < need)
        cap = need; /* not reached: the limits were checked before */

    char *data = realloc(r->data, cap);
    if (data == NULL)
        return dva_fail(err, DVA_ERR_NOMEM,
                        "Cannot allocate %zu bytes for the values of a doveadm reply.",
                        cap);
    r->data = data;
    r->data_cap = cap;
    return 0;
}

/* Room for need entries in out->offsets (at most max_values + 1). */
static int ensure_offsets(dva_parser *p, size_t need, dva_error *err)
{
    dva_reply *r = p->out;
    if (need <= r->offsets_cap)
        return 0;

    size_t max = sat_add(p->limits.max_values, 1);
    size_t cap = r->offsets_cap < MIN_OFFSETS_CAP ? MIN_OFFSETS_CAP : r->offsets_cap;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? SIZE_MAX : cap * 2;
    if (cap > max)
        cap = max;
    if (cap < need)
        cap = need;
    if (cap > SIZE_MAX / sizeof(size_t))
        return dva_fail(err, DVA_ERR_NOMEM,
                        "Cannot allocate %zu value offsets for a doveadm reply.", cap);

    size_t *offsets = realloc(r->offsets, cap * sizeof(size_t));
    if (offsets == NULL)
        return dva_fail(err, DVA_ERR_NOMEM,
                        "Cannot allocate %zu value offsets for a doveadm reply.", cap);
    r->offsets = offsets;
    r->offsets_cap = cap;
    return 0;
}

/* Appends n unescaped bytes to the value being built. */
static int append(dva_parser *p, const void *src, size_t n, dva_error *err)
{
    dva_reply *r = p->out;
    size_t value_len = r->data_len - p->value_start;
    size_t reply_len = r->data_len - r->nvalues; /* minus one NUL per value */

    if (n > p->limits.max_value_len - value_len)
        return dva_fail(err, DVA_ERR_LIMIT,
                        "A value of the doveadm reply is longer than the limit of %zu "
                        "bytes (max_value_len).",
                        p->limits.max_value_len);
    if (n > p->limits.max_reply_len - reply_len)
        return dva_fail(err, DVA_ERR_LIMIT,
                        "The values of the doveadm reply exceed the limit of %zu bytes "
                        "in total (max_reply_len).",
                        p->limits.max_reply_len + p->dropped_len);
    if (ensure_data(p, r->data_len + n + 1, err) < 0)
        return -1;
    memcpy(r->data + r->data_len, src, n);
    r->data_len += n;
    return 0;
}

/* Terminates the value being built and records where the next one
 * starts; the room for both was ensured by the caller. */
static inline void close_value(dva_parser *p, dva_reply *r)
{
    r->data[r->data_len++] = '\0';
    if (r->nvalues == 0)
        r->offsets[0] = 0;
    r->offsets[++r->nvalues] = r->data_len;
    p->value_start = r->data_len;
    p->value_open = false;
}

/* The TAB after a value: terminate it and record where the next one
 * starts. */
static int finish_value(dva_parser *p, dva_error *err)
{
    dva_reply *r = p->out;

    if (r->nvalues >= p->limits.max_values)
        return dva_fail(err, DVA_ERR_LIMIT,
                        "The doveadm reply has more values than the limit of %zu "
                        "(max_values).",
                        p->limits.max_values + p->dropped_values);
    if (ensure_data(p, r->data_len + 1, err) < 0 ||
        ensure_offsets(p, r->nvalues + 2, err) < 0)
        return -1;
    close_value(p, r);
    return 0;
}

static int fail_unterminated(dva_parser *p, dva_error *err)
{
    const dva_reply *r = p->out;
    char shown[QUOTE_MAX];
    dva_quote(shown, sizeof(shown), r->data + p->value_start,
              r->data_len - p->value_start);
    return dva_fail(err, DVA_ERR_PROTOCOL,
                    "Protocol error in a doveadm reply: expected TAB after value %zu "
                    "(\"%s\"), got LF (every value must end with TAB, also the last "
                    "one; only a reply of a single value may omit it).",
                    r->nvalues + p->dropped_values + 1, shown);
}

/* A run of n raw bytes ended by the value's TAB: append and finish in one
 * step, with one capacity check each (most values arrive so). Any limit
 * reached takes the two-step way, which names it. */
static int append_and_finish(dva_parser *p, const void *src, size_t n, dva_error *err)
{
    dva_reply *r = p->out;
    size_t value_len = r->data_len - p->value_start;
    size_t reply_len = r->data_len - r->nvalues;

    if (n > p->limits.max_value_len - value_len ||
        n > p->limits.max_reply_len - reply_len || r->nvalues >= p->limits.max_values)
        return (n > 0 && append(p, src, n, err) < 0) ? -1 : finish_value(p, err);
    size_t need = r->data_len + n + 1;
    if ((need > r->data_cap && ensure_data(p, need, err) < 0) ||
        (r->nvalues + 2 > r->offsets_cap && ensure_offsets(p, r->nvalues + 2, err) < 0))
        return -1;
    memcpy(r->data + r->data_len, src, n);
    r->data_len += n;
    close_value(p, r);
    return 0;
}

/* Appends one unescaped byte. */
static int append_byte(dva_parser *p, char c, dva_error *err)
{
    if (c == '\0')
        p->out->nul_free = false;
    return append(p, &c, 1, err);
}

/* Parses data-section bytes from *posp. Stops at end or after the LF that
 * ends the data section (then state is ST_STATUS). */
static int parse_data(dva_parser *p, const unsigned char **posp,
                      const unsigned char *end, dva_error *err)
{
    const unsigned char *pos = *posp;

    if (p->escape) {
        /* the 0x01 ended the previous feed */
        p->escape = false;
        if (*pos != '\t' && *pos != '\n') {
            if (append_byte(p, dva_unescape_code((char)*pos++), err) < 0)
                return -1;
        } /* else: lone 0x01 at the end of the value, dropped */
    }

    while (pos < end) {
        const unsigned char *run = pos;
        size_t n = ordinary_run(pos, end);
        pos += n;
        if (pos < end && *pos == '\t') {
            pos++;
            if (append_and_finish(p, run, n, err) < 0)
                return -1;
            continue;
        }
        if (n > 0) {
            p->value_open = true;
            if (append(p, run, n, err) < 0)
                return -1;
            if (pos == end)
                break;
        }

        unsigned char c = *pos++;
        if (c == '\n') {
            if (p->value_open) {
                /* See the header comment: only a reply of a single value
                 * (`user <mask>`'s JSON) may omit its TAB. */
                if (p->out->nvalues + p->dropped_values != 0)
                    return fail_unterminated(p, err);
                if (finish_value(p, err) < 0)
                    return -1;
            }
            p->state = ST_STATUS;
            p->status_len = 0;
            break;
        } else if (c == '\0') { /* raw, as sent */
            p->value_open = true;
            if (append_byte(p, '\0', err) < 0)
                return -1;
        } else { /* 0x01 */
            p->value_open = true;
            if (pos == end) {
                p->escape = true;
                break;
            }
            if (*pos == '\t' || *pos == '\n')
                continue; /* lone 0x01 at the end of the value, dropped */
            if (append_byte(p, dva_unescape_code((char)*pos++), err) < 0)
                return -1;
        }
    }
    *posp = pos;
    return 0;
}

/* Collects status-line bytes. Returns 1 when the line is complete (*posp is
 * past its LF), 0 when it needs more, -1 on error. */
static int parse_status(dva_parser *p, const unsigned char **posp,
                        const unsigned char *end, dva_error *err)
{
    const unsigned char *pos = *posp;
    const unsigned char *lf = memchr(pos, '\n', (size_t)(end - pos));
    size_t n = (size_t)((lf != NULL ? lf : end) - pos);

    /* pos < end here, so n == 0 means the line is empty */
    if (p->status_len == 0 && (n == 0 || (*pos != '+' && *pos != '-'))) {
        char shown[QUOTE_MAX];
        size_t avail = (size_t)(end - pos);
        dva_quote(shown, sizeof(shown), pos, avail < 32 ? avail : 32);
        return dva_fail(err, DVA_ERR_PROTOCOL,
                        "Protocol error in a doveadm reply: expected a status line "
                        "starting with '+' or '-' after the data, got \"%s\".",
                        shown);
    }
    if (n > DVA_STATUS_LINE_MAX - p->status_len) {
        char shown[QUOTE_MAX];
        dva_quote(shown, sizeof(shown), p->status_line,
                  p->status_len < 32 ? p->status_len : 32);
        return dva_fail(
            err, DVA_ERR_PROTOCOL,
            "Protocol error in a doveadm reply: the status line (\"%s\") is "
            "longer than %d bytes.",
            shown, DVA_STATUS_LINE_MAX);
    }
    memcpy(p->status_line + p->status_len, pos, n);
    p->status_len += n;
    if (lf == NULL) {
        *posp = end;
        return 0;
    }
    *posp = lf + 1;
    return 1;
}

/* Back to the start of a reply (the reply memory is kept). */
static void restart_reply(dva_parser *p)
{
    if (p->out != NULL)
        p->out->nul_free = true; /* until a NUL byte is appended */
    p->state = ST_DATA;
    p->escape = false;
    p->value_open = false;
    p->value_start = 0;
    p->status_len = 0;
    /* The limits count the rows a streamed reply dropped (see
     * dva_parser_drop_rows): give them back for the next reply. */
    p->limits.max_values += p->dropped_values;
    p->limits.max_reply_len += p->dropped_len;
    p->dropped_values = p->dropped_len = 0;
}

void dva_parser_init(dva_parser *parser, const dva_limits *limits)
{
    memset(parser, 0, sizeof(*parser));
    if (limits != NULL)
        parser->limits = *limits;
    dva_limits_fill_defaults(&parser->limits);
    parser->state = ST_IDLE;
}

void dva_parser_begin(dva_parser *parser, dva_reply *out, size_t ncols)
{
    parser->out = out;
    parser->consumed_total = 0;
    if (out != NULL) {
        dva_reply_reset(out);
        out->ncols = ncols;
    }
    if (parser->state == ST_DEAD)
        return;
    restart_reply(parser);
    if (out == NULL)
        parser->state = ST_IDLE; /* feed() reports the misuse */
}

enum { COMPLETE_DONE, COMPLETE_DROPPED, COMPLETE_ERROR };

/* The status line of the reply is complete. */
static int complete(dva_parser *p, dva_error *err)
{
    dva_reply *r = p->out;

    /* Dovecot 2.3.0-2.3.16 send a second status line after a failure: the
     * server's command handler returned -1 after the command had already
     * sent its own "\n-CODE\n", and its caller then sent "\n-\n" once more.
     * So right after a reply that failed with a code, a reply that is
     * exactly "\n-\n" (no values, bare '-') is that duplicate: drop it and
     * parse the real reply from the bytes that follow. A genuine bare '-'
     * (unknown command) never follows a coded failure of a known command in
     * our pipelines. Only one duplicate is dropped: whatever follows it is
     * parsed normally. */
    if (p->dup_possible && r->nvalues == 0 && p->dropped_values == 0 &&
        p->status_len == 1 && p->status_line[0] == '-') {
        size_t ncols = r->ncols;
        p->dup_possible = false;
        dva_reply_reset(r);
        r->ncols = ncols;
        restart_reply(p);
        return COMPLETE_DROPPED;
    }

    size_t ncols = r->ncols;
    if (p->status_line[0] == '+') { /* any text after it is ignored */
        r->status = DVA_STATUS_OK;
        r->exit_code = 0;
        r->status_text[0] = '\0';
    } else {
        dva_status_line_failure(r, p->status_line + 1, p->status_len - 1);
    }
    p->dup_possible = r->status != DVA_STATUS_OK && r->status != DVA_STATUS_FAILED;
    p->state = ST_IDLE;

    if (r->status == DVA_STATUS_OK && ncols > 0 && r->nvalues % ncols != 0) {
        dva_fail(err, DVA_ERR_PROTOCOL,
                 "Protocol error in a doveadm reply: reply has %zu values, not a "
                 "multiple of the %zu columns of this command.",
                 r->nvalues + p->dropped_values, ncols);
        return COMPLETE_ERROR;
    }
    return COMPLETE_DONE;
}

dva_parse_result dva_parser_feed(dva_parser *parser, const char *data, size_t len,
                                 size_t *consumed, dva_error *err)
{
    size_t unused;
    if (consumed == NULL)
        consumed = &unused;
    *consumed = 0;

    switch (parser->state) {
    case ST_DATA:
    case ST_STATUS:
        break;
    case ST_DEAD:
        dva_fail(err, DVA_ERR_USAGE,
                 "The doveadm reply parser failed before; it must be reset with "
                 "dva_parser_init() before it is fed again.");
        return DVA_PARSE_ERROR;
    default:
        dva_fail(err, DVA_ERR_USAGE,
                 "dva_parser_feed() called without dva_parser_begin() for a new "
                 "reply.");
        return die(parser);
    }
    if (len == 0)
        return DVA_PARSE_MORE;
    if (data == NULL) {
        dva_fail(err, DVA_ERR_USAGE, "dva_parser_feed() called with NULL data.");
        return die(parser);
    }

    const unsigned char *start = (const unsigned char *)data;
    const unsigned char *end = start + len;
    const unsigned char *pos = start;
    const unsigned char *base = start; /* where the current reply's bytes start */

    while (pos < end) {
        if (parser->state == ST_DATA) {
            if (parse_data(parser, &pos, end, err) < 0)
                return die(parser);
            continue;
        }
        int ret = parse_status(parser, &pos, end, err);
        if (ret < 0)
            return die(parser);
        if (ret == 0)
            break;
        switch (complete(parser, err)) {
        case COMPLETE_DROPPED:
            parser->consumed_total = 0;
            base = pos;
            break;
        case COMPLETE_DONE:
            parser->consumed_total =
                sat_add(parser->consumed_total, (size_t)(pos - base));
            *consumed = (size_t)(pos - start);
            return DVA_PARSE_DONE;
        default:
            return die(parser);
        }
    }
    parser->consumed_total = sat_add(parser->consumed_total, (size_t)(end - base));
    *consumed = len;
    return DVA_PARSE_MORE;
}

bool dva_parser_discardable(const dva_parser *parser)
{
    if (parser->state == ST_DEAD)
        return false;
    if (parser->consumed_total == 0)
        return true;
    if (!parser->dup_possible || parser->state != ST_STATUS || parser->out == NULL ||
        parser->out->nvalues != 0 || parser->dropped_values != 0)
        return false;
    /* a prefix of "\n-\n": "\n" or "\n-" */
    if (parser->consumed_total == 1)
        return parser->status_len == 0;
    if (parser->consumed_total == 2)
        return parser->status_len == 1 && parser->status_line[0] == '-';
    return false;
}

void dva_parser_drop_rows(dva_parser *parser, size_t nrows)
{
    dva_reply *r = parser->out;
    if (r == NULL || nrows == 0)
        return;
    size_t width = r->ncols > 0 ? r->ncols : 1;
    if (nrows > r->nvalues / width)
        return;
    size_t k = nrows * width;
    size_t off = r->offsets[k];
    memmove(r->data, r->data + off, r->data_len - off);
    r->data_len -= off;
    parser->value_start -= off;
    for (size_t i = 0; i + k <= r->nvalues; i++)
        r->offsets[i] = r->offsets[i + k] - off;
    r->nvalues -= k;
    /* The whole reply stays within the limits: what is dropped still
     * counts (off holds one NUL per value). */
    parser->limits.max_values -= k;
    parser->limits.max_reply_len -= off - k;
    parser->dropped_values += k;
    parser->dropped_len += off - k;
}
