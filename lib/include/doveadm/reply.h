/* SPDX-License-Identifier: MIT */
/* Replies of the doveadm protocol and their sans-I/O parser.
 *
 * Wire shape (PROTOCOL.md section 4): every value is tab-escaped and followed
 * by TAB; the data ends with LF, then one status line: "+" or "-CODE".
 * There is no row separator: rows are cut by the column count the caller
 * knows for its command. The parser is fed any split of the byte stream and
 * never touches I/O. One exception seen on the wire (2.3.19): `user <mask>`
 * ends its single JSON value with LF and no TAB, so a reply whose only value
 * lacks its TAB is accepted; any other value without TAB is an error. */
#ifndef DOVEADM_REPLY_H
#define DOVEADM_REPLY_H

#if defined(DVA_LAYER_BUILD) && !defined(DVA_SEES_PROTOCOL)
#error "doveadm/reply.h belongs to the protocol layer (doc/ARCHITECTURE.md)"
#endif

#include <stdbool.h>
#include <stddef.h>

#include "doveadm/error.h"

typedef enum {
    DVA_STATUS_OK = 0,      /* "+" (text after it is ignored) */
    DVA_STATUS_FAILED,      /* bare "-": unknown command or unspecified failure */
    DVA_STATUS_UNKNOWN,     /* -UNKNOWN */
    DVA_STATUS_TEMPFAIL,    /* -TEMPFAIL */
    DVA_STATUS_USAGE,       /* -USAGE: bad options or arguments */
    DVA_STATUS_NOUSER,      /* -NOUSER */
    DVA_STATUS_NOPERM,      /* -NOPERM */
    DVA_STATUS_PROTOCOL,    /* -PROTOCOL */
    DVA_STATUS_DATAERR,     /* -DATAERR */
    DVA_STATUS_NOREPLICATE, /* -NOREPLICATE */
    DVA_STATUS_NOTFOUND,    /* -NOTFOUND */
    DVA_STATUS_CHANGED,     /* -CHANGED (2.4) */
    DVA_STATUS_EXPIRED,     /* -EXPIRED (2.4) */
    DVA_STATUS_REFERRAL,    /* -REFERRAL user@host (2.4); target in status_text */
    DVA_STATUS_NUMERIC,     /* 2.2 "-<number>" with no name; number in exit_code */
    DVA_STATUS_OTHER,       /* a code this library does not know; in status_text */
} dva_status;

/* Short stable name: "OK", "FAILED", "NOUSER", ... */
const char *dva_status_name(dva_status status);

/* Bounds on one reply; a reply over any of them fails with DVA_ERR_LIMIT. */
typedef struct {
    size_t max_value_len; /* unescaped bytes of one value */
    size_t max_values;    /* values in one reply */
    size_t max_reply_len; /* unescaped bytes of all values of one reply */
} dva_limits;

#define DVA_DEFAULT_MAX_VALUE_LEN ((size_t)16 << 20)
#define DVA_DEFAULT_MAX_VALUES ((size_t)8 << 20)
#define DVA_DEFAULT_MAX_REPLY_LEN ((size_t)256 << 20)

/* Fills every zero field of limits with its default. */
void dva_limits_fill_defaults(dva_limits *limits);

#define DVA_STATUS_TEXT_MAX 256

/* One complete reply. Values are stored unescaped, back to back, each
 * followed by a NUL byte that is not part of its length. */
typedef struct {
    dva_status status;
    int exit_code;                         /* sysexits code; 0 for OK */
    char status_text[DVA_STATUS_TEXT_MAX]; /* code text as sent, without '-' */
    size_t ncols;                          /* row width; 0: not cut into rows */
    size_t nvalues;
    char *data;
    size_t data_len, data_cap;
    size_t *offsets; /* offsets[i]: start of value i; offsets[nvalues]: end */
    size_t offsets_cap;
    bool nul_free; /* set by the parser when no value holds a NUL byte */
} dva_reply;

void dva_reply_init(dva_reply *reply);
/* Empties the reply but keeps its memory for reuse. */
void dva_reply_reset(dva_reply *reply);
void dva_reply_free(dva_reply *reply);

/* Number of complete rows (nvalues / ncols; nvalues when ncols is 0). */
size_t dva_reply_rows(const dva_reply *reply);
/* Value i (NUL-terminated; *len, if not NULL, gets its length, which may
 * include NUL bytes sent escaped). NULL when i is out of range. */
const char *dva_reply_value(const dva_reply *reply, size_t i, size_t *len);
/* The value at row, col; NULL when out of range. */
const char *dva_reply_cell(const dva_reply *reply, size_t row, size_t col, size_t *len);
/* Like dva_reply_cell, but NULL also when the value holds a NUL byte, so it
 * is safe to use as a C string. */
const char *dva_reply_cstr(const dva_reply *reply, size_t row, size_t col);

typedef enum {
    DVA_PARSE_MORE = 0, /* every byte consumed; the reply is not complete */
    DVA_PARSE_DONE,     /* the reply is complete; *consumed bytes were used */
    DVA_PARSE_ERROR,    /* protocol violation or limit; err says which */
} dva_parse_result;

#define DVA_STATUS_LINE_MAX 1024

/* Parser state. Public so it can be embedded; its fields are private. */
typedef struct {
    dva_limits limits;
    dva_reply *out;
    int state;
    bool escape;        /* previous byte was 0x01 */
    bool value_open;    /* bytes of the current value seen */
    bool dup_possible;  /* last reply was a coded failure (2.3.0-2.3.16) */
    size_t value_start; /* offset of the current value in out->data */
    size_t status_len;
    size_t consumed_total;              /* raw bytes of the current reply so far */
    size_t dropped_values, dropped_len; /* rows dropped (dva_parser_drop_rows) */
    char status_line[DVA_STATUS_LINE_MAX];
} dva_parser;

/* limits may be NULL for defaults. */
void dva_parser_init(dva_parser *parser, const dva_limits *limits);

/* Starts parsing the next reply into out (reset first), cutting rows of
 * ncols values (0: no cutting). The parser remembers across replies whether
 * the previous one was a coded failure, to drop the duplicate "\n-\n" status
 * that Dovecot 2.3.0-2.3.16 sends after it. */
void dva_parser_begin(dva_parser *parser, dva_reply *out, size_t ncols);

/* Feeds bytes. On DVA_PARSE_DONE, *consumed tells how many bytes belonged to
 * this reply (the rest belongs to the next one). On DVA_PARSE_MORE all len
 * bytes were consumed. On DVA_PARSE_ERROR the parser must not be fed again
 * until dva_parser_init(). A successful reply whose value count is not a
 * multiple of ncols is a protocol error. */
dva_parse_result dva_parser_feed(dva_parser *parser, const char *data, size_t len,
                                 size_t *consumed, dva_error *err);

/* For a streamed reply: forgets the first nrows complete rows of the reply
 * being parsed (the caller has used them), so that a long reply needs
 * memory only for the rows not used yet. The limits still count the
 * dropped rows; the status and later rows come as without it. Nothing
 * happens when the reply holds fewer complete rows. */
void dva_parser_drop_rows(dva_parser *parser, size_t nrows);

/* True when the bytes fed since dva_parser_begin() may be dropped: none at
 * all, or a prefix of the duplicate status line that may follow a coded
 * failure. A client uses it to tell harmless from unsolicited input. */
bool dva_parser_discardable(const dva_parser *parser);

#endif
