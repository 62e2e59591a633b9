/* SPDX-License-Identifier: MIT */
/* Typed errors of libdoveadm. Every failing call fills a dva_error whose
 * message is a complete sentence an administrator can act on. */
#ifndef DOVEADM_ERROR_H
#define DOVEADM_ERROR_H

#if defined(DVA_LAYER_BUILD) && !defined(DVA_SEES_UTIL)
#error "doveadm/error.h belongs to the util layer (doc/ARCHITECTURE.md)"
#endif

#include <stddef.h>

typedef enum {
    DVA_OK = 0,
    DVA_ERR_CONNECT,  /* connect refused, unreachable, name not resolved */
    DVA_ERR_TIMEOUT,  /* the caller's deadline passed */
    DVA_ERR_VERSION,  /* server closed after VERSION: incompatible or not doveadm */
    DVA_ERR_AUTH,     /* server rejected the password */
    DVA_ERR_NOAUTH,   /* server asks for a password but none was configured */
    DVA_ERR_CLOSED,   /* server closed the connection with requests pending */
    DVA_ERR_PROTOCOL, /* bytes that break the protocol: expected vs. seen */
    DVA_ERR_COMMAND,  /* the command failed; see dva_reply.status */
    DVA_ERR_LIMIT,    /* a configured bound on size or count was exceeded */
    DVA_ERR_IO,       /* any other I/O error (errno text in the message) */
    DVA_ERR_USAGE,    /* the caller broke the API contract */
    DVA_ERR_NOMEM,    /* allocation failed */
    DVA_ERR_DECODE,   /* a well-formed reply whose content does not decode */
    DVA_ERR_TLS,      /* TLS failed: certificate, host name, not a TLS server */
} dva_errcode;

#define DVA_ERROR_MESSAGE_MAX 512

typedef struct {
    dva_errcode code;
    char message[DVA_ERROR_MESSAGE_MAX];
} dva_error;

/* Short stable name of a code, e.g. "protocol" (for logs and tests). */
const char *dva_errcode_name(dva_errcode code);

/* Fills err (if not NULL) and returns -1, so callers can `return dva_fail(...)`. */
int dva_fail(dva_error *err, dva_errcode code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Resets err to DVA_OK with an empty message. */
void dva_error_clear(dva_error *err);

/* Room for a quoted untrusted value in an error message. */
#define DVA_QUOTE_MAX 96

/* Writes a printable, bounded rendering of untrusted bytes into out (for
 * "expected X, got Y" messages): bytes outside printable ASCII become \xNN, a backslash
 * \\, and the text is cut with "..." when longer than fits. Returns out. */
char *dva_quote(char *out, size_t out_size, const void *data, size_t len);

#endif
