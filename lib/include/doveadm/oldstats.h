/* SPDX-License-Identifier: MIT */
/* Old statistics: `oldstats dump <scope>` (Dovecot 2.3 with the old_stats
 * plugin and service) and `stats dump <scope>` (Dovecot 2.2). Removed in
 * 2.4. Scopes global, domain, user and ip.
 *
 * The server sends no header over the doveadm protocol, so the columns
 * must be known in advance: a fixed prefix per generation and scope
 * (old-stats/client-export.c) followed by the stats fields of the modules
 * the server loaded (mail, and on 2.3 auth). The prefix is built in; the
 * fields default to Dovecot's own lists and can be configured. A reply
 * that does not fit the columns is refused with a message naming the fix,
 * never misread. */
#ifndef DOVEADM_OLDSTATS_H
#define DOVEADM_OLDSTATS_H

#if defined(DVA_LAYER_BUILD) && !defined(DVA_SEES_DECODE)
#error "doveadm/oldstats.h belongs to the decode layer (doc/ARCHITECTURE.md)"
#endif

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "doveadm/command.h"
#include "doveadm/generation.h"

typedef enum {
    DVA_OLDSTATS_GLOBAL = 0,
    DVA_OLDSTATS_DOMAIN,
    DVA_OLDSTATS_USER,
    DVA_OLDSTATS_IP,
} dva_oldstats_scope;
#define DVA_OLDSTATS_NSCOPES 4

#define DVA_OLDSTATS_MAX_FIELDS 48  /* configured stats fields */
#define DVA_OLDSTATS_MAX_COLUMNS 56 /* fixed prefix + fields */
#define DVA_OLDSTATS_FIELD_MAX 64   /* bytes of one field name */

/* "global", "domain", "user", "ip". */
const char *dva_oldstats_scope_name(dva_oldstats_scope scope);
bool dva_oldstats_scope_parse(const char *name, dva_oldstats_scope *out);

/* Dovecot's stats fields for a generation (the generation table: AUTO
 * reads as 2.3; *n = 0 for 2.4). */
const char *const *dva_oldstats_default_fields(dva_generation gen, size_t *n);

/* The columns of one scope's rows, key column first (none for global). */
typedef struct {
    dva_generation gen; /* DVA_GEN_22 or DVA_GEN_23 */
    dva_oldstats_scope scope;
    size_t ncolumns;
    const char *columns[DVA_OLDSTATS_MAX_COLUMNS]; /* borrowed strings */
} dva_oldstats_layout;

/* fields NULL: the defaults. Fails (DVA_ERR_USAGE) for 2.4, for too many,
 * empty, over-long or repeated fields, and for a field that repeats a
 * fixed column. AUTO is treated as 2.3. */
int dva_oldstats_layout_init(dva_oldstats_layout *layout, dva_generation gen,
                             dva_oldstats_scope scope, const char *const *fields,
                             size_t nfields, dva_error *err);
/* Index of a column by name, or -1. */
long dva_oldstats_column(const dva_oldstats_layout *layout, const char *name);
/* Columns Dovecot prints as "<seconds>.<microseconds>": decoded to µs. */
bool dva_oldstats_column_is_time(const char *name);
/* Monotonic counters (everything but the key, reset_timestamp, last_update
 * and num_connected_sessions, which is a current count). */
bool dva_oldstats_column_is_counter(const char *name);

/* The server-wide command: "oldstats dump <scope>" (2.3) or
 * "stats dump <scope>" (2.2). Rows are cut by the decoder (ncols 0), so a
 * reply of another width is a clear decode error, not a protocol error. */
void dva_oldstats_command(dva_command *cmd, const dva_oldstats_layout *layout);

typedef struct {
    const char *key;  /* user, domain or ip; NULL for global */
    uint64_t *values; /* one per layout column (0 at the key column) */
} dva_oldstats_row;

typedef struct {
    dva_oldstats_row *rows;
    size_t nrows;
    size_t server_rows; /* rows the server sent (before keep_top) */
    uint64_t *storage;
} dva_oldstats;

/* Decodes a successful reply. Keys point into reply: keep it alive. */
int dva_oldstats_decode(const dva_reply *reply, const dva_oldstats_layout *layout,
                        dva_oldstats *out, dva_error *err);
/* Keeps the n rows with the largest value in column (ties: key order);
 * n == 0 keeps every row. */
void dva_oldstats_keep_top(dva_oldstats *stats, size_t column, size_t n);
void dva_oldstats_free(dva_oldstats *stats);

#endif
