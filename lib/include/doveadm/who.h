/* SPDX-License-Identifier: MIT */
/* `who` (grouped per user and service) and `who -1` (one row per
 * connection), and the per-service summary the plugin reports. */
#ifndef DOVEADM_WHO_H
#define DOVEADM_WHO_H

#if defined(DVA_LAYER_BUILD) && !defined(DVA_SEES_DECODE)
#error "doveadm/who.h belongs to the decode layer (doc/ARCHITECTURE.md)"
#endif

#include <stdbool.h>
#include <stdint.h>

/* The requests and their columns: commands.h and, for `who -1` of each
 * generation, generation.h. */
#include "doveadm/commands.h"
#include "doveadm/generation.h"

typedef struct {
    const char *user;
    const char *service;
    uint64_t connections;
    const char *pids; /* as sent: "(7272 7274)" */
    const char *ips;  /* as sent: "(127.0.0.1)" */
} dva_who_row;

typedef struct {
    const char *user;
    const char *service;
    const char *pid;
    const char *ip;
    const char *dest_ip; /* 2.4; NULL before */
    size_t nalt;         /* 2.4: alternative usernames, in the server's order */
    const char *alt[DVA_WHO_MAX_ALT_FIELDS];
} dva_who_session;

typedef struct {
    dva_who_row *rows;
    size_t nrows;
} dva_who;

typedef struct {
    dva_who_session *rows;
    size_t nrows;
} dva_who_sessions;

/* Per service: distinct users and sessions; plus totals over services. */
typedef struct {
    const char *service;
    uint64_t users;
    uint64_t sessions;
} dva_who_service;

typedef struct {
    dva_who_service *services; /* sorted by service name */
    size_t nservices;
    uint64_t users;    /* distinct users over all services */
    uint64_t sessions; /* all sessions */
} dva_who_summary;

/* Strings point into reply: keep it alive. */
int dva_who_decode(const dva_reply *reply, dva_who *out, dva_error *err);
int dva_who_sessions_decode(const dva_reply *reply, dva_who_sessions *out,
                            dva_error *err);
/* Strings point into who's reply. */
int dva_who_summarize(const dva_who *who, dva_who_summary *out, dva_error *err);

/* `who -1` of a generation (dva_who_sessions_command_gen()): where the
 * generation table says more columns may follow (2.4), the decoder takes
 * the smallest width (its fixed columns to DVA_WHO_MAX_ALT_FIELDS more)
 * whose every row has a user, a service and a numeric pid in place; a
 * reply that fits no width is refused. Other generations:
 * dva_who_sessions_decode(). */
int dva_who_sessions_decode_gen(const dva_reply *reply, dva_generation gen,
                                dva_who_sessions *out, dva_error *err);

void dva_who_free(dva_who *who);
void dva_who_sessions_free(dva_who_sessions *sessions);
void dva_who_summary_free(dva_who_summary *summary);

#endif
