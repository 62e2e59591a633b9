/* SPDX-License-Identifier: MIT */
/* The server-health commands (PROTOCOL.md section 7, "health"): `service
 * status`, `process status`, `indexer list` and `penalty`, each a
 * server-wide non-mail command (first on a connection of its own, 6.1).
 * The decoders are lib/src/decode/service.c, process.c, indexer.c and
 * penalty.c; strings point into the reply, which must stay alive. */
#ifndef DOVEADM_HEALTH_H
#define DOVEADM_HEALTH_H

#if defined(DVA_LAYER_BUILD) && !defined(DVA_SEES_DECODE)
#error "doveadm/health.h belongs to the decode layer (doc/ARCHITECTURE.md)"
#endif

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "doveadm/commands.h"

/* The requests and their row widths: commands.h. */
/* Bound on the rows of one reply: a server has a few dozen services and
 * at most its process limits' sum of processes; a reply over it is
 * refused (DVA_ERR_LIMIT) rather than trusted. */
#define DVA_HEALTH_MAX_ROWS 100000

/* `service status`: one row per service of the master. */
typedef struct {
    const char *name;
    uint64_t process_count; /* processes running */
    uint64_t process_avail; /* processes that accept another client */
    uint64_t process_limit;
    uint64_t client_limit; /* clients per process */
    uint64_t throttle_secs;
    uint64_t exit_failure_last;    /* time of the last failed exit, 0: none */
    uint64_t exit_failures_in_sec; /* failed exits in that second */
    uint64_t last_drop_warning;    /* time of the last "limit reached" warning */
    bool listen_pending;           /* clients wait in the listen queue */
    bool listening;
    bool doveadm_stop;
    uint64_t process_total; /* processes created since the master started */
} dva_service_row;

typedef struct {
    dva_service_row *rows;
    size_t nrows;
} dva_services;

/* `process status`: one row per process the master runs. */
typedef struct {
    const char *name; /* its service */
    uint64_t pid;
    uint64_t available_count; /* free client slots in it */
    uint64_t total_count;     /* clients it has served */
    uint64_t idle_start;      /* when it became idle; 0: busy */
    uint64_t last_status_update;
    uint64_t last_kill_sent;
} dva_process_row;

typedef struct {
    dva_process_row *rows;
    size_t nrows;
} dva_processes;

/* `indexer list` (2.4): one row per queued or running indexing request. */
typedef struct {
    const char *username;
    const char *mailbox;
    const char *session_id;
    uint64_t max_recent;
    const char *type;
    const char *status;
} dva_indexer_row;

typedef struct {
    dva_indexer_row *rows;
    size_t nrows;
} dva_indexer;

/* `penalty`: one row per penalised IP of anvil. */
typedef struct {
    const char *ip;
    uint64_t penalty;
    const char *last_penalty; /* "YYYY-MM-DD HH:MM:SS", as sent */
    const char *last_update;  /* "HH:MM:SS", as sent */
} dva_penalty_row;

typedef struct {
    dva_penalty_row *rows;
    size_t nrows;
    uint64_t max_penalty; /* over the rows; 0 without rows */
} dva_penalties;

/* 0, or -1 with err: a failure status (DVA_ERR_COMMAND), a row that does
 * not decode (DVA_ERR_DECODE), too many rows (DVA_ERR_LIMIT). */
int dva_services_decode(const dva_reply *reply, dva_services *out, dva_error *err);
int dva_processes_decode(const dva_reply *reply, dva_processes *out, dva_error *err);
int dva_indexer_decode(const dva_reply *reply, dva_indexer *out, dva_error *err);
int dva_penalties_decode(const dva_reply *reply, dva_penalties *out, dva_error *err);

/* The free functions also take a pointer to a zeroed struct, or NULL. */
void dva_services_free(dva_services *s);
void dva_processes_free(dva_processes *p);
void dva_indexer_free(dva_indexer *x);
void dva_penalties_free(dva_penalties *p);

#endif
