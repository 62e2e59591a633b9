/* SPDX-License-Identifier: MIT */
/* The read driver's state, shared by its files (read_*.c) and what the
 * built-in collectors need of it beyond doveadm/collector.h. */
#ifndef DVA_COLLECT_READ_H
#define DVA_COLLECT_READ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "doveadm/client.h"
#include "doveadm/collector.h"
#include "doveadm/tls_transport.h"
#include "strset.h"

/* A queued request: the collector's view and the driver's. */
typedef struct {
    dva_job pub;
    bool mail;          /* pipelined on a mail connection (retried once) */
    bool retried;       /* sent again after its connection died */
    bool source;        /* lists users: the ALL_USERS collectors wait for it */
    bool server_wide;   /* sent without a username */
    const char *signal; /* for the generation evidence (generation.h) */
} dva_read_job;

typedef struct {
    dva_transport *transport;
    dva_client *client;
    bool mail; /* takes pipelined mail requests */
} dva_read_conn;

struct dva_read {
    const dva_scrape_plan *plan;
    dva_scrape_result *result;
    const dva_collector *const *collectors; /* NULL-terminated */
    size_t ncollectors;
    void **state;         /* one slot per collector */
    dva_tls_context *tls; /* NULL: plain */
    uint64_t deadline;
    size_t max_users;         /* SIZE_MAX: no bound */
    uint64_t users_part_seed; /* read_count / user_slices */
    unsigned mail_connections;
    size_t max_conns_opened;

    dva_read_job *jobs;
    size_t njobs, jobs_cap;
    dva_read_conn *conns;
    size_t nconns, conns_cap;
    size_t next_mail; /* round-robin cursor */
    size_t users_cap;
    size_t sources_pending; /* user lists not answered yet */
    bool all_users_started;
    dva_strset user_set;
    dva_result res; /* the outcome being handled */
    dva_generation_evidence evidence;
    /* The generation this read speaks to: the plan's, or (auto) what the
     * probe told before the first per-user request; AUTO if it could not. */
    dva_generation gen;
    bool connect_failed; /* a connection failed on every address */
};

/* read_conns.c: connections; the first reason the server seemed down. */
dva_read_conn *dva_read_open_conn(dva_read *r, bool mail);
dva_read_conn *dva_read_next_mail_conn(dva_read *r);
void dva_read_free_conn(dva_read_conn *cn);
void dva_read_record_down(dva_read *r, const dva_error *err);
void *dva_read_grow(void *p, size_t *cap, size_t need, size_t size);

/* read_jobs.c: queued requests, their tags, sending. */
void *dva_read_job_tag(size_t index);
size_t dva_read_tag_job(void *tag);
/* dva_read_solo() for a request that lists users (PROTOCOL.md 6.4). */
bool dva_read_source(dva_read *r, const dva_collector *c, size_t arg);
void dva_read_queue_mail(dva_read *r, size_t index);

/* read_users.c: the users of the read and its phases after the probe. */
long dva_read_new_user(dva_read *r, const char *name);
/* Before the names of one user list are added (n of them, duplicates and
 * known users included): past max_users, splits the users into parts and
 * keeps one (see dva_scrape_plan.max_users). */
void dva_read_bound_users(dva_read *r, const char *const *names, size_t n);
void dva_read_announce_user(dva_read *r, size_t user);
bool dva_read_knows_user(const dva_read *r, const char *name);
/* The lists of users, the configured users' requests, then the ALL_USERS
 * collectors when no list is pending. */
void dva_read_start_per_user(dva_read *r);
/* The per-user steps fail with err, nothing sent: the read's time ran
 * out before they could start. */
void dva_read_skip_per_user(dva_read *r, const dva_error *err);
void dva_read_start_all_users(dva_read *r);
/* What this read's replies told about the generation, now its own. */
void dva_read_decide_generation(dva_read *r);
/* A per-user reply in the named form did not decode: see
 * dva_scrape_result.generation_doubtful. */
void dva_read_doubt_generation(dva_read *r);

/* User `user`'s quota was read: hands it to plan->on_user_quota, if any,
 * and forgets its rows (dva_scrape_plan.on_user_quota). */
void dva_read_deliver_quota(dva_read *r, size_t user);

/* collect_mailbox.c: the masks and fields of a plan, defaults filled in. */
size_t dva_collect_mailbox_masks(const dva_scrape_plan *p, const char *const **masks);
size_t dva_collect_mailbox_fields(const dva_scrape_plan *p, const char *const **fields);
/* collect_quota_scan.c: the plan's quota is read by server-side scans. */
bool dva_collect_scan_wanted(const dva_scrape_plan *p);

#endif
