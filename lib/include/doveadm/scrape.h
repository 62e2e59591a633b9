/* SPDX-License-Identifier: MIT */
/* One read of one Dovecot server: a plan of requests over several
 * connections, driven by one poll() loop against one deadline, with the
 * answers decoded into plain structs. The read driver (collect/) runs the
 * collectors the plan enables, one per Dovecot command (collector.h).
 *
 * The connection plan follows PROTOCOL.md section 6: `stats dump`, `who`,
 * the server-health commands (health.h) and each `user <mask>` get a
 * fresh connection of their own as the first
 * and only command; per-user `quota get -A` and `mailbox status -A` are
 * pipelined on mail connections, several in parallel. A mail request lost
 * with its connection (the server process died) is retried once on a new
 * connection while time remains.
 *
 * Server generations (generation.h): 2.2 gets no `stats dump -f` (its
 * `stats dump` is the old statistics), 2.4 no old statistics; those steps
 * are marked unsupported instead of being sent. On 2.4 a `QuotaUsers "*"`
 * mask becomes one server-wide `quota get -A` (the server iterates its
 * users) instead of `user *` plus a request per user. Each old-stats scope
 * is a server-wide command on its own fresh connection. The generation
 * table (generation.h) holds these rules. */
#ifndef DOVEADM_SCRAPE_H
#define DOVEADM_SCRAPE_H

#if defined(DVA_LAYER_BUILD) && !defined(DVA_SEES_COLLECT)
#error "doveadm/scrape.h belongs to the collect layer (doc/ARCHITECTURE.md)"
#endif

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "doveadm/client.h"
#include "doveadm/mailbox.h"
#include "doveadm/oldstats.h"
#include "doveadm/quota.h"
#include "doveadm/resolver.h"
#include "doveadm/stats.h"
#include "doveadm/tls_transport.h"
#include "doveadm/generation.h"
#include "doveadm/health.h"
#include "doveadm/who.h"

typedef struct dva_collector dva_collector;         /* collector.h */
typedef struct dva_scrape_result dva_scrape_result; /* below */
typedef struct dva_scrape_user dva_scrape_user;

/* At most this many parts of the users past dva_scrape_plan.max_users. */
#define DVA_MAX_USER_PARTS 50

typedef struct {
    /* Where: a UNIX socket path, or host and port (TCP). */
    const char *socket_path;
    const char *host;
    unsigned port;
    const char *password;    /* NULL: none */
    dva_tls_options tls;     /* with host; zero: plain TCP */
    const char *server_name; /* the name the certificate must carry; NULL: host */
    /* Optional, with host: the addresses of host:port, kept across reads
     * (no DNS work in the read; it waits for a first lookup only until
     * the read's deadline). NULL: getaddrinfo() on every connection. */
    dva_resolver *resolver;
    /* Optional, instead of socket_path or host: opens the transport of
     * each connection (a seam for tests, e.g. scripted memory peers). */
    dva_transport *(*open_transport)(void *ctx, dva_error *err);
    void *open_transport_ctx;

    bool stats, who, quota, mailbox;
    /* The server-health commands (health.h), each on a connection of its
     * own; what they yield: dva_scrape_collected() of dva_collect_services,
     * _processes, _indexer, _penalty, data a dva_services, dva_processes,
     * dva_indexer, dva_penalties. */
    bool services, processes, indexer, penalty;
    const char *const *users; /* users named in the configuration */
    size_t nusers;
    const char *const *user_masks; /* resolved with `user <mask>` each read */
    size_t nuser_masks;
    const char *const *mailbox_masks; /* for mailbox status; NULL: "INBOX" */
    size_t nmailbox_masks;
    const char *const *mailbox_fields; /* NULL: messages unseen vsize */
    size_t nmailbox_fields;

    /* Server-side quota scan (with socket_path only; NULL: off): the users'
     * quota is read with one `quota get -F <file>` per connection (up to
     * `connections`), over user-list files written into this directory,
     * which must be private to the caller (mode 0700) and readable by the
     * doveadm server (same host). The files are removed before
     * dva_scrape_run() returns. A user the scan does not answer for, or
     * every user of a scan that failed, is read one by one as without it. */
    const char *scan_dir;

    /* Spreading the users over reads: with user_slices > 1, this read
     * keeps only the users whose dva_scrape_user_slice() is user_slice, so
     * user_slices reads in a row (user_slice 0, 1, ...) read every user
     * once, whatever order or list the server gives. 0 or 1: every user. */
    unsigned user_slices;
    unsigned user_slice;
    /* Reads made before this one (the caller counts them): picks the part
     * of the users a read keeps past max_users. */
    uint64_t read_count;

    unsigned connections; /* parallel mail connections; 0: 2 */
    uint64_t timeout_ms;  /* the whole read */
    /* Bound on the listed users one read keeps; 0: no bound. A read whose
     * lists hold more splits them into parts by a hash of the name (apart
     * from user_slices' hash), at most max_users each, and keeps part
     * (read_count / user_slices) % parts: every listed user is read once in
     * `parts` reads (result->user_parts). Configured users are always read. */
    size_t max_users;
    dva_limits limits; /* per reply; zero fields: defaults */
    dva_log_fn *log;   /* optional */
    void *log_ctx;

    /* AUTO: the 2.3 commands (2.4 understands them too). */
    dva_generation generation;
    bool oldstats[DVA_OLDSTATS_NSCOPES]; /* scopes to read (2.2, 2.3) */
    const char *const *oldstats_fields;  /* NULL: Dovecot's defaults */
    size_t noldstats_fields;
    const char *oldstats_sort_by; /* NULL: num_cmds */
    size_t oldstats_top;          /* rows kept per keyed scope; 0: all */

    /* Optional: called during the read with each user whose quota has
     * been read (quota_step attempted, no error), as soon as it is known:
     * by a server-side scan or 2.4's all-user `quota get -A` as their rows
     * arrive, by a request of the user's own when it is answered. The
     * user's rows are forgotten when it returns (u->quota then holds no
     * rows; quota_delivered is set), so a read of many users never holds
     * all their rows or the whole reply. The user's other steps (mailbox
     * status) come with the result as usual. NULL: every user's rows stay
     * in the result until it is freed. */
    void (*on_user_quota)(void *ctx, const dva_scrape_result *result,
                          const dva_scrape_user *user);
    void *on_user_quota_ctx;

    /* The collectors to run, NULL-terminated; NULL: dva_collectors (the
     * built-in ones, collector.h). */
    const dva_collector *const *collectors;
} dva_scrape_plan;

/* A step that can fail on its own: its error is DVA_OK when it worked. */
typedef struct {
    bool attempted;
    dva_error error;
    /* Not sent: the server's generation lacks the command; error says
     * why (attempted stays false). */
    bool unsupported;
} dva_scrape_step;

/* What a collector other than the built-in ones yields: its step, its
 * reply, and what it decoded from it (freed with free_data). */
typedef struct {
    const dva_collector *collector;
    dva_scrape_step step;
    dva_reply reply;
    void *data;
    void (*free_data)(void *data);
} dva_collected;

typedef struct {
    dva_scrape_step step;
    dva_oldstats_layout layout;
    dva_reply reply;
    dva_oldstats stats; /* rows point into reply; top-N applied */
} dva_scrape_oldstats;

/* A user's step (quota, mailbox status): as dva_scrape_step, but the text
 * of its error is allocated only when it fails: a read may hold 100,000
 * users, and a dva_error holds its text inline. */
typedef struct {
    dva_errcode code;
    char *message; /* NULL while code is DVA_OK (or out of memory) */
} dva_user_error;

typedef struct {
    bool attempted;
    dva_user_error error;
} dva_user_step;

/* The step's error as a dva_error: its code and text ("" when none). */
void dva_user_step_error(const dva_user_step *step, dva_error *out);

struct dva_scrape_user {
    char *name;
    dva_user_step quota_step;
    dva_reply *quota_reply; /* of a request of its own; NULL: none */
    dva_quota quota;        /* rows point into quota_reply, or into a scan's */
    bool quota_shared;      /* quota.rows belong to result->scan_quota */
    bool quota_delivered;   /* given to plan->on_user_quota; rows forgotten */
    dva_user_step mailbox_step;
    dva_reply *mailbox_replies; /* one per mailbox mask */
    dva_mailbox_status *mailboxes;
    size_t nmailbox_masks;
};

struct dva_scrape_result {
    bool up;               /* the server answered at least one request */
    dva_error down_reason; /* why not, when !up */
    uint64_t duration_ms;
    unsigned connections_opened;

    dva_scrape_step stats_step;
    dva_reply stats_reply;
    dva_stats stats;

    dva_scrape_step who_step;
    dva_reply who_reply;
    dva_who who;
    dva_who_summary who_summary;

    dva_scrape_oldstats oldstats[DVA_OLDSTATS_NSCOPES];

    /* What this read's replies told about the server (AUTO: nothing), and
     * which reply told it (dva_generation_decide()). */
    dva_generation observed;
    const char *observed_by;
    /* A per-user reply in the form of 2.2/2.3 (`-A`) did not decode: the
     * server may have been upgraded to 2.4 (which lists every user for
     * -A); the next read should ask for the generation again. */
    bool generation_doubtful;

    dva_scrape_step users_step; /* resolving user_masks */
    dva_reply quota_all_reply;  /* 2.4 `quota get -A`: rows of every user */
    /* Fails when 2.4's all-user `quota get -A` listed nobody; the users
     * were then listed with `user MASK` and read one request each. */
    dva_scrape_step quota_all_step;
    dva_scrape_user *users; /* configured users, then resolved ones */
    size_t nusers;
    /* With plan->max_users: the lists named listed_users users (not
     * counted without a bound), and past the bound this
     * read kept part user_part of user_parts (1: every user). Users that
     * did not fit even so (a second list, or a part over the bound) are
     * users_dropped. */
    size_t listed_users;
    unsigned user_parts, user_part;
    size_t users_dropped;

    /* Server-side quota scans (plan->scan_dir): one reply per scan.
     * scan_step fails when a scan could not be used (its users were then
     * read one by one). */
    dva_scrape_step scan_step;
    dva_reply *scan_replies;
    dva_quota *scan_quota;
    size_t nscans;

    dva_collected *collected; /* one per collector of the plan, or NULL */
    size_t ncollected;

    /* Private: the chunks that hold the users' names. */
    struct dva_strpool_chunk *user_names;
};

/* Runs the plan; returns within timeout_ms plus the time of one poll wake.
 * Returns 0 when the plan ran (check result->up and each step), -1 when
 * the plan itself is invalid (err set). Free the result with
 * dva_scrape_result_free() in both cases. */
int dva_scrape_run(const dva_scrape_plan *plan, dva_scrape_result *result,
                   dva_error *err);
void dva_scrape_result_free(dva_scrape_result *result);
/* A copy of s owned by result and freed with it, as the users' names are
 * (for a result built by other code, e.g. tests); NULL when out of memory. */
char *dva_scrape_result_strdup(dva_scrape_result *result, const char *s);

/* What collector c yielded in this read (dva_read_collected()), or NULL. */
const dva_collected *dva_scrape_collected(const dva_scrape_result *result,
                                          const dva_collector *c);

/* The slice (0 .. slices - 1) a user belongs to: a hash of the name, so it
 * never changes while the user exists. */
unsigned dva_scrape_user_slice(const char *user, unsigned slices);

#endif
