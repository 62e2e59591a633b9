/* SPDX-License-Identifier: MIT */
/* A collector reads one Dovecot command for the read driver (scrape.h):
 * which requests it needs for this generation (start, request), how it
 * decodes their replies (answer), and what it yields into the result. The
 * driver owns the connections, the deadline, the retries and the users.
 *
 * The built-in collectors are listed in dva_collectors (collect/
 * collectors.c); a plan may run another list (dva_scrape_plan.collectors).
 * Adding a collector is one file and one line in a table: see
 * doc/ARCHITECTURE.md for a minimal one. */
#ifndef DOVEADM_COLLECTOR_H
#define DOVEADM_COLLECTOR_H

#if defined(DVA_LAYER_BUILD) && !defined(DVA_SEES_COLLECT)
#error "doveadm/collector.h belongs to the collect layer (doc/ARCHITECTURE.md)"
#endif

#include <stdbool.h>
#include <stddef.h>

#include "doveadm/commands.h"
#include "doveadm/scrape.h"

typedef struct dva_read dva_read; /* one read in progress */

/* One request of a collector, as it was queued. */
typedef struct {
    const dva_collector *collector;
    size_t user; /* its user's index in the result (per-user requests) */
    size_t arg;  /* the collector's own: a mask, a scope, a scan */
} dva_job;

/* When the driver calls start(). */
typedef enum {
    DVA_COLLECT_AT_START,  /* when the read starts */
    DVA_COLLECT_PER_USER,  /* once the generation is known, before any user */
    DVA_COLLECT_EACH_USER, /* for each user the read learns (user: its index) */
    DVA_COLLECT_ALL_USERS, /* once every user is known */
} dva_collect_when;

/* Which outcomes of a request go to answer(); the others go to fail(). */
typedef enum {
    DVA_ANSWER_OK = 0,  /* a successful reply */
    DVA_ANSWER_STATUS,  /* any reply, also one with a failure status */
    DVA_ANSWER_IN_TIME, /* also a lost connection while the read has time */
    DVA_ANSWER_ALL,     /* every outcome, also past the deadline */
} dva_answers;

struct dva_collector {
    const char *name; /* the command, for messages */
    dva_collect_when when;
    dva_answers answers;
    /* Whether the plan asks for it (NULL: always). */
    bool (*enabled)(const dva_read *r);
    /* Connections of its own it may open in a read of this plan (NULL:
     * none); the read opens at most their sum and the mail connections. */
    size_t (*connections)(const dva_read *r);
    /* Queues its requests with dva_read_solo() or dva_read_mail(); NULL:
     * another collector queues them. */
    void (*start)(dva_read *r, size_t user);
    /* The command of j, built when it is sent, and the user it runs as
     * (*username, left NULL for a server-wide command). 0, or -1 with err:
     * j then fails with it. */
    int (*request)(dva_read *r, const dva_job *j, dva_command *cmd,
                   const char **username, dva_error *err);
    /* Optional: the complete rows so far of j's reply, while it arrives,
     * when the plan takes users' quota as it comes (on_user_quota; the
     * request is then streamed). Use what can be used now and return how
     * many of the first rows may be forgotten; the others come again, and
     * the rest of the reply goes to answer() or fail() as usual. */
    size_t (*rows)(dva_read *r, const dva_job *j, const dva_reply *rows);
    /* j's outcome (dva_read_outcome()): decode it, yield into the result. */
    void (*answer)(dva_read *r, const dva_job *j, const char *where);
    /* j failed with err (not sent, a failure status, its connection, the
     * deadline), or it was never queued because the read's time ran out
     * (PER_USER and EACH_USER): mark its step. */
    void (*fail)(dva_read *r, const dva_job *j, const dva_error *err);
    /* The read ends: release what it kept in dva_read_state() (NULL: none). */
    void (*finish)(dva_read *r);
};

/* The built-in collectors, and their list in the order they start. */
extern const dva_collector dva_collect_stats, dva_collect_who, dva_collect_oldstats,
    dva_collect_probe, dva_collect_users, dva_collect_quota_all, dva_collect_quota,
    dva_collect_mailbox, dva_collect_quota_scan, dva_collect_services,
    dva_collect_processes, dva_collect_indexer, dva_collect_penalty;
extern const dva_collector *const dva_collectors[];

const dva_scrape_plan *dva_read_plan(const dva_read *r);
dva_scrape_result *dva_read_result(dva_read *r);
/* The generation the read speaks to: the plan's, or what the probe told. */
dva_generation dva_read_generation(const dva_read *r);
/* The read's deadline has not passed. */
bool dva_read_in_time(const dva_read *r);
/* In answer() and fail(): the request's error and reply. */
dva_result *dva_read_outcome(dva_read *r);
/* Moves the outcome's reply into dst (their buffers swapped for reuse). */
void dva_read_take_reply(dva_read *r, dva_reply *dst);

/* A server-wide request of c on a fresh connection of its own
 * (PROTOCOL.md 6.1). true when sent; else c->fail() has been called. */
bool dva_read_solo(dva_read *r, const dva_collector *c, size_t arg);
/* A per-user mail request of c, pipelined on a mail connection. */
void dva_read_mail(dva_read *r, const dva_collector *c, size_t user, size_t arg);
/* Adds a user the EACH_USER collectors then start for; its index, or -1
 * when known already, outside this read's slice or over max_users. */
long dva_read_add_user(dva_read *r, const char *name);

/* For .connections: one request on a connection of its own. */
size_t dva_collect_one_connection(const dva_read *r);

/* A slot c may keep its own state in for the read (see finish); NULL
 * when c is not in the plan's list. */
void **dva_read_state(dva_read *r, const dva_collector *c);
/* What c yields when it is not a built-in one (NULL: out of memory). */
dva_collected *dva_read_collected(dva_read *r, const dva_collector *c);

/* Step outcomes: failed with err; not sent because the generation lacks
 * the command; a reply that arrived whole but does not decode (the message
 * names where from, the command and the user; the first failure stays). */
void dva_step_fail(dva_scrape_step *step, const dva_error *err);
void dva_step_unsupported(dva_scrape_step *step, const char *why);
void dva_step_decode_failed(dva_scrape_step *step, const dva_error *err,
                            const char *where, const char *command, const char *user);
/* The same for a user's step (its text allocated here). */
void dva_user_step_fail(dva_user_step *step, const dva_error *err);
void dva_user_step_decode_failed(dva_user_step *step, const dva_error *err,
                                 const char *where, const char *command,
                                 const char *user);

#endif
