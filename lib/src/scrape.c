/* One read of one server: see scrape.h for the connection plan. */
#include "doveadm/scrape.h"

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "doveadm/clock.h"
#include "doveadm/socket_transport.h"
#include "doveadm/userlist.h"
#include "quota_scan.h"
#include "strset.h"

#define DEFAULT_CONNECTIONS 2
#define MAX_CONNECTIONS 64
#define DEFAULT_MAX_USERS 100000
#define DEFAULT_MAILBOX_MASK "INBOX"
#define DEFAULT_OLDSTATS_SORT "num_cmds"

static const char *const default_mailbox_fields[] = {"messages", "unseen", "vsize"};

typedef enum {
    JOB_STATS,
    JOB_WHO,
    JOB_USERS,
    JOB_QUOTA,
    JOB_MAILBOX,
    JOB_OLDSTATS,  /* mask: the scope */
    JOB_QUOTA_ALL, /* 2.4: `quota get -A` iterated by the server */
    JOB_SCAN,      /* `quota get -F FILE`; mask: the chunk */
    JOB_PROBE,     /* tells the generation before per-user requests */
} job_kind;

typedef struct {
    job_kind kind;
    size_t user; /* JOB_QUOTA, JOB_MAILBOX */
    size_t mask; /* JOB_USERS, JOB_MAILBOX, JOB_OLDSTATS; JOB_SCAN: the chunk */
    bool retried;
} job;

typedef struct {
    dva_transport *transport;
    dva_client *client;
    bool mail; /* takes pipelined mail requests */
} conn;

/* The users of one server-side scan, in the order of its file. */
typedef struct {
    size_t *users;
    size_t nusers;
    char *path;
} chunk;

typedef struct {
    const dva_scrape_plan *plan;
    dva_scrape_result *result;
    dva_tls_context *tls; /* NULL: plain */
    uint64_t deadline;
    size_t max_users;
    unsigned mail_connections;
    size_t max_conns_opened;
    const char *const *mb_masks;
    size_t n_mb_masks;
    const char *const *mb_fields;
    size_t n_mb_fields;

    job *jobs;
    size_t njobs, jobs_cap;
    conn *conns;
    size_t nconns, conns_cap;
    size_t next_mail; /* round-robin cursor */
    size_t users_cap;
    size_t masks_pending;
    dva_strset user_set;
    dva_result res;
    dva_generation_evidence evidence;
    /* The generation this read speaks to: the plan's, or (auto) what the
     * probe told before the first per-user request; AUTO if it could not. */
    dva_generation gen;
    bool scan;           /* quota by server-side scans */
    bool scans_started;  /* once every user is known */
    chunk *chunks;       /* result->nscans of them */
    bool connect_failed; /* a connection failed on every address */
} scrape;

/* ---- bookkeeping ---- */

static void *grow_array(void *p, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return p;
    size_t n = *cap == 0 ? 16 : *cap * 2;
    while (n < need)
        n *= 2;
    void *q = realloc(p, n * size);
    if (q == NULL)
        return NULL;
    *cap = n;
    return q;
}

static long add_job(scrape *s, job j)
{
    job *jobs = grow_array(s->jobs, &s->jobs_cap, s->njobs + 1, sizeof(job));
    if (jobs == NULL)
        return -1;
    s->jobs = jobs;
    s->jobs[s->njobs] = j;
    return (long)s->njobs++;
}

static void *job_tag(size_t index)
{
    return (void *)(uintptr_t)(index + 1);
}

static size_t tag_job(void *tag)
{
    return (size_t)(uintptr_t)tag - 1;
}

static void record_down(scrape *s, const dva_error *err)
{
    if (s->result->down_reason.code == DVA_OK)
        s->result->down_reason = *err;
}

static conn *open_conn(scrape *s, bool mail)
{
    const dva_scrape_plan *plan = s->plan;
    if (s->result->connections_opened >= s->max_conns_opened)
        return NULL;
    conn *conns = grow_array(s->conns, &s->conns_cap, s->nconns + 1, sizeof(conn));
    if (conns == NULL)
        return NULL;
    s->conns = conns;

    dva_error err;
    dva_transport *t;
    if (plan->socket_path != NULL)
        t = dva_unix_transport_new(plan->socket_path, &err);
    else if (plan->resolver != NULL)
        t = dva_resolver_transport(plan->resolver, s->deadline, &err);
    else
        t = dva_tcp_transport_new(plan->host, plan->port, &err);
    if (t != NULL && s->tls != NULL)
        t = dva_tls_transport_new(
            t, s->tls, plan->server_name != NULL ? plan->server_name : plan->host,
            &err);
    if (t == NULL) {
        record_down(s, &err);
        return NULL;
    }
    dva_client_options opt = {.password = plan->password,
                              .limits = plan->limits,
                              .log = plan->log,
                              .log_ctx = plan->log_ctx,
                              .starttls = plan->tls.mode == DVA_TLS_STARTTLS};
    dva_client *c = dva_client_new(t, &opt);
    if (c == NULL) {
        dva_transport_destroy(t);
        return NULL;
    }
    dva_client_set_deadline(c, s->deadline);
    s->result->connections_opened++;
    conn *cn = &s->conns[s->nconns++];
    *cn = (conn){.transport = t, .client = c, .mail = mail};
    return cn;
}

static void free_conn(conn *cn)
{
    dva_client_free(cn->client);
    dva_transport_destroy(cn->transport);
    cn->client = NULL;
    cn->transport = NULL;
}

static void fail_step(dva_scrape_step *step, const dva_error *err)
{
    step->attempted = true;
    step->error = *err;
}

static dva_scrape_user *job_user(scrape *s, const job *j)
{
    return &s->result->users[j->user];
}

static void fail_job(scrape *s, const job *j, const dva_error *err)
{
    switch (j->kind) {
    case JOB_STATS:
        fail_step(&s->result->stats_step, err);
        break;
    case JOB_WHO:
        fail_step(&s->result->who_step, err);
        break;
    case JOB_USERS:
        fail_step(&s->result->users_step, err);
        break;
    case JOB_QUOTA:
        fail_step(&job_user(s, j)->quota_step, err);
        break;
    case JOB_MAILBOX:
        fail_step(&job_user(s, j)->mailbox_step, err);
        break;
    case JOB_OLDSTATS:
        fail_step(&s->result->oldstats[j->mask].step, err);
        break;
    case JOB_QUOTA_ALL:
        fail_step(&s->result->users_step, err);
        break;
    case JOB_SCAN: {
        const chunk *c = &s->chunks[j->mask];
        for (size_t i = 0; i < c->nusers; i++)
            fail_step(&s->result->users[c->users[i]].quota_step, err);
        break;
    }
    case JOB_PROBE: /* the per-user requests go in the generation-safe form */
        break;
    }
}

/* ---- sending ---- */

static int send_job(scrape *s, conn *cn, size_t index)
{
    job *j = &s->jobs[index];
    dva_command cmd;
    const char *user = NULL;
    dva_error err;

    switch (j->kind) {
    case JOB_STATS:
        dva_stats_command(&cmd);
        break;
    case JOB_WHO:
        dva_who_command(&cmd);
        break;
    case JOB_USERS:
        if (dva_userlist_command(&cmd, s->plan->user_masks[j->mask]) < 0) {
            dva_fail(&err, DVA_ERR_USAGE, "user mask is too long");
            fail_job(s, j, &err);
            return -1;
        }
        break;
    case JOB_QUOTA:
        dva_quota_command(&cmd, dva_generation_user_rows(s->gen));
        user = job_user(s, j)->name;
        break;
    case JOB_SCAN:
        if (dva_scan_command(&cmd, s->chunks[j->mask].path) < 0) {
            dva_fail(&err, DVA_ERR_USAGE, "the quota scan file path is too long");
            fail_job(s, j, &err);
            return -1;
        }
        break;
    case JOB_MAILBOX:
        if (dva_mailbox_command(&cmd, s->mb_fields, s->n_mb_fields,
                                s->mb_masks[j->mask], dva_generation_user_rows(s->gen),
                                &err) < 0) {
            fail_job(s, j, &err);
            return 0;
        }
        user = job_user(s, j)->name;
        break;
    case JOB_OLDSTATS:
        dva_oldstats_command(&cmd, &s->result->oldstats[j->mask].layout);
        break;
    case JOB_QUOTA_ALL:
        /* Server-wide: no username, the server iterates every user. */
        dva_quota_command(&cmd, DVA_ROWS_NAMED);
        break;
    case JOB_PROBE:
        dva_generation_probe_command(&cmd);
        break;
    }
    dva_request req = dva_command_request(&cmd, user, job_tag(index));
    if (dva_client_send(cn->client, &req, &err) < 0) {
        fail_job(s, j, &err);
        return -1;
    }
    return 0;
}

/* A server-wide command on a fresh connection of its own; true if sent. */
static bool start_solo(scrape *s, job_kind kind, size_t mask)
{
    long index = add_job(s, (job){.kind = kind, .mask = mask});
    conn *cn = index < 0 ? NULL : open_conn(s, false);
    if (cn != NULL) {
        if (send_job(s, cn, (size_t)index) < 0)
            return false;
        if (kind == JOB_USERS || kind == JOB_QUOTA_ALL)
            s->masks_pending++;
        return true;
    }
    dva_error err = s->result->down_reason;
    if (err.code == DVA_OK)
        dva_fail(&err, DVA_ERR_NOMEM, "could not open a connection");
    job j = {.kind = kind, .mask = mask};
    fail_job(s, &j, &err);
    return false;
}

/* The next open mail connection, opening one while fewer than asked. */
static conn *next_mail_conn(scrape *s)
{
    size_t open_mail = 0;
    for (size_t i = 0; i < s->nconns; i++)
        if (s->conns[i].mail && s->conns[i].client != NULL &&
            dva_client_state(s->conns[i].client) != DVA_STATE_CLOSED)
            open_mail++;
    if (open_mail < s->mail_connections) {
        conn *cn = open_conn(s, true);
        if (cn != NULL)
            return cn;
    }
    for (size_t n = 0; n < s->nconns; n++) {
        conn *cn = &s->conns[s->next_mail++ % s->nconns];
        if (cn->mail && cn->client != NULL &&
            dva_client_state(cn->client) != DVA_STATE_CLOSED)
            return cn;
    }
    return NULL;
}

static void queue_mail_job(scrape *s, size_t index)
{
    conn *cn = next_mail_conn(s);
    if (cn == NULL) {
        dva_error err = s->result->down_reason;
        if (err.code == DVA_OK)
            dva_fail(&err, DVA_ERR_LIMIT, "no connection left for this read");
        fail_job(s, &s->jobs[index], &err);
        return;
    }
    send_job(s, cn, index);
}

static void queue_quota_job(scrape *s, size_t user)
{
    long i = add_job(s, (job){.kind = JOB_QUOTA, .user = user});
    if (i >= 0)
        queue_mail_job(s, (size_t)i);
}

static void queue_user_jobs(scrape *s, size_t user)
{
    if (s->plan->quota && !s->scan) {
        long i = add_job(s, (job){.kind = JOB_QUOTA, .user = user});
        if (i >= 0)
            queue_mail_job(s, (size_t)i);
    }
    if (s->plan->mailbox) {
        for (size_t m = 0; m < s->n_mb_masks; m++) {
            long i = add_job(s, (job){.kind = JOB_MAILBOX, .user = user, .mask = m});
            if (i >= 0)
                queue_mail_job(s, (size_t)i);
        }
    }
}

unsigned dva_scrape_user_slice(const char *user, unsigned slices)
{
    if (slices <= 1)
        return 0;
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (const unsigned char *p = (const unsigned char *)user; *p != '\0'; p++) {
        h ^= *p;
        h *= 1099511628211ULL;
    }
    return (unsigned)(h % slices);
}

/* Adds a user unless known or in another slice; returns its index, or -1. */
static long add_user(scrape *s, const char *name)
{
    dva_scrape_result *r = s->result;
    if (s->plan->user_slices > 1 &&
        dva_scrape_user_slice(name, s->plan->user_slices) != s->plan->user_slice)
        return -1;
    if (dva_strset_has(&s->user_set, name))
        return -1;
    if (r->nusers >= s->max_users) {
        if (r->users_step.error.code == DVA_OK)
            dva_fail(&r->users_step.error, DVA_ERR_LIMIT,
                     "more than %zu users; the rest are not read", s->max_users);
        return -1;
    }
    dva_scrape_user *users =
        grow_array(r->users, &s->users_cap, r->nusers + 1, sizeof(*users));
    if (users == NULL)
        return -1;
    r->users = users;
    dva_scrape_user *u = &r->users[r->nusers];
    memset(u, 0, sizeof(*u));
    u->name = strdup(name);
    u->nmailbox_masks = s->plan->mailbox ? s->n_mb_masks : 0;
    if (u->nmailbox_masks > 0) {
        u->mailbox_replies = calloc(u->nmailbox_masks, sizeof(dva_reply));
        u->mailboxes = calloc(u->nmailbox_masks, sizeof(dva_mailbox_status));
    }
    if (u->name == NULL || (u->nmailbox_masks > 0 &&
                            (u->mailbox_replies == NULL || u->mailboxes == NULL))) {
        free(u->name);
        free(u->mailbox_replies);
        free(u->mailboxes);
        return -1;
    }
    /* The set borrows the name owned by the result. */
    if (dva_strset_add(&s->user_set, u->name) < 0) {
        free(u->name);
        free(u->mailbox_replies);
        free(u->mailboxes);
        return -1;
    }
    return (long)r->nusers++;
}

/* ---- results ---- */

/* Moves the result's reply into dst (swapping buffers for reuse). */
static void take_reply(scrape *s, dva_reply *dst)
{
    dva_reply tmp = *dst;
    *dst = s->res.reply;
    s->res.reply = tmp;
    dva_reply_reset(&s->res.reply);
}

/* A reply that arrived whole but does not decode: the message says which
 * server sent it and for which request, as a transport error does. */
static void decode_failed(dva_scrape_step *step, const dva_error *err,
                          const char *where, const char *command, const char *user)
{
    if (step->error.code != DVA_OK)
        return;
    dva_fail(&step->error, err->code, "%s: the reply to '%s'%s%s: %s", where, command,
             user != NULL ? " for " : "", user != NULL ? user : "", err->message);
}

static void handle_users(scrape *s, const char *where)
{
    dva_scrape_result *r = s->result;
    dva_userlist list = {0};
    dva_error err;
    r->users_step.attempted = true;
    if (dva_userlist_decode(&s->res.reply, s->max_users, &list, &err) < 0) {
        decode_failed(&r->users_step, &err, where, "user", NULL);
        return;
    }
    for (size_t i = 0; i < list.nusers; i++) {
        long u = add_user(s, list.users[i]);
        if (u >= 0)
            queue_user_jobs(s, (size_t)u);
    }
    dva_userlist_free(&list);
}

static void handle_oldstats(scrape *s, size_t scope, const char *where)
{
    dva_scrape_oldstats *o = &s->result->oldstats[scope];
    dva_error err;
    take_reply(s, &o->reply);
    o->step.attempted = true;
    if (dva_oldstats_decode(&o->reply, &o->layout, &o->stats, &err) < 0) {
        dva_command cmd;
        dva_oldstats_command(&cmd, &o->layout);
        char command[64];
        snprintf(command, sizeof(command), "%s %s", cmd.argv[0], cmd.argv[1]);
        decode_failed(&o->step, &err, where, command, NULL);
        return;
    }
    if (scope == DVA_OLDSTATS_GLOBAL || s->plan->oldstats_top == 0)
        return;
    const char *by = s->plan->oldstats_sort_by != NULL ? s->plan->oldstats_sort_by
                                                       : DEFAULT_OLDSTATS_SORT;
    long column = dva_oldstats_column(&o->layout, by);
    if (column < 0) {
        dva_fail(&o->step.error, DVA_ERR_USAGE,
                 "old-stats scope %s has no column \"%s\" to keep the top rows by",
                 dva_oldstats_scope_name((dva_oldstats_scope)scope), by);
        dva_oldstats_free(&o->stats);
        return;
    }
    dva_oldstats_keep_top(&o->stats, (size_t)column, s->plan->oldstats_top);
}

/* 2.4's `quota get -A` without a username: rows of every user, each row
 * naming its user. Users known already (configured ones, which have their
 * own request) are skipped; the others are added with their rows. False,
 * with why, when the reply lists nobody: it does not decode, or has no
 * rows. */
static bool handle_quota_all(scrape *s, const char *where, dva_error *why)
{
    dva_scrape_result *r = s->result;
    dva_quota all = {0};
    dva_error err;
    if (dva_quota_decode(&r->quota_all_reply, NULL, &all, &err) < 0) {
        dva_fail(why, err.code, "%s: the reply to 'quota get -A': %s", where,
                 err.message);
        return false;
    }
    if (all.nrows == 0) {
        dva_quota_free(&all);
        dva_fail(why, DVA_ERR_PROTOCOL,
                 "%s: 'quota get -A' without a user answered no rows", where);
        return false;
    }
    r->users_step.attempted = true;
    size_t first_new = r->nusers;
    /* The server prints each user's rows together: one run per user. A
     * run of a user known already (configured, or a second run of one
     * seen in this reply) is skipped. O(rows). */
    for (size_t i = 0, end; i < all.nrows; i = end) {
        const char *name = all.rows[i].user;
        for (end = i + 1; end < all.nrows && strcmp(all.rows[end].user, name) == 0;
             end++)
            ;
        if (dva_strset_has(&s->user_set, name))
            continue;
        long u = add_user(s, name);
        if (u < 0)
            continue;
        dva_scrape_user *user = &r->users[u];
        user->quota_step.attempted = true;
        user->quota.rows = calloc(end - i, sizeof(dva_quota_row));
        if (user->quota.rows == NULL) {
            dva_fail(&user->quota_step.error, DVA_ERR_NOMEM, "out of memory");
            continue;
        }
        memcpy(user->quota.rows, &all.rows[i], (end - i) * sizeof(dva_quota_row));
        user->quota.nrows = end - i;
    }
    for (size_t u = first_new; s->plan->mailbox && u < r->nusers; u++) {
        for (size_t m = 0; m < s->n_mb_masks; m++) {
            long i = add_job(s, (job){.kind = JOB_MAILBOX, .user = u, .mask = m});
            if (i >= 0)
                queue_mail_job(s, (size_t)i);
        }
    }
    dva_quota_free(&all);
    return true;
}

/* The answer to 2.4's all-user `quota get -A`. A server that does not
 * iterate users for it (2.3 answers NOUSER; what every 2.4 release does is
 * not verified here) is read as 2.3 is, in this same read: `user MASK`,
 * then one request per user. quota_all_step says why. */
static void quota_all_done(scrape *s, size_t mask, dva_errcode code, const char *where)
{
    dva_scrape_result *r = s->result;
    dva_error why;
    if (code == DVA_OK) {
        take_reply(s, &r->quota_all_reply);
        if (handle_quota_all(s, where, &why))
            return;
    } else {
        why = s->res.error; /* names the server and the status */
    }
    fail_step(&r->quota_all_step, &why);
    if (dva_now_ms() < s->deadline)
        start_solo(s, JOB_USERS, mask);
    else
        fail_step(&r->users_step, &why);
}

/* The command name a job sends, for the generation signals. */
static const char *job_command_name(const scrape *s, const job *j)
{
    switch (j->kind) {
    case JOB_STATS:
        return "stats dump -f";
    case JOB_WHO:
        return "who";
    case JOB_USERS:
        return "user";
    case JOB_QUOTA:
    case JOB_QUOTA_ALL:
    case JOB_SCAN:
        return "quota get";
    case JOB_MAILBOX:
        return "mailbox status";
    case JOB_OLDSTATS:
        return s->result->oldstats[j->mask].layout.gen == DVA_GEN_22 ? "stats dump"
                                                                     : "oldstats dump";
    case JOB_PROBE:
        return "oldstats dump";
    }
    return "";
}

static void observe(scrape *s, const job *j)
{
    bool server_wide = j->kind != JOB_QUOTA && j->kind != JOB_MAILBOX;
    dva_generation_note(&s->evidence, job_command_name(s, j), server_wide,
                        &s->res.reply);
}

/* A per-user reply in the named form that does not decode may come from a
 * server that iterates users for `-A`: a 2.3 known from an earlier read,
 * upgraded to 2.4 since. Nothing of it is credited; the next read asks
 * for the generation again. */
static void doubt_generation(scrape *s)
{
    if (dva_generation_user_rows(s->gen) == DVA_ROWS_NAMED)
        s->result->generation_doubtful = true;
}

/* ---- server-side quota scans ---- */

static void scan_failed(scrape *s, const dva_error *err)
{
    if (s->result->scan_step.error.code == DVA_OK)
        fail_step(&s->result->scan_step, err);
}

/* Reads one by one the users of chunk c that have no quota yet. */
static void fallback_chunk(scrape *s, size_t c)
{
    const chunk *ch = &s->chunks[c];
    dva_error err;
    bool late = dva_now_ms() >= s->deadline;
    if (late)
        dva_fail(&err, DVA_ERR_TIMEOUT, "the read's time was over");
    for (size_t i = 0; i < ch->nusers; i++) {
        dva_scrape_step *step = &s->result->users[ch->users[i]].quota_step;
        if (step->attempted)
            continue;
        if (late)
            fail_step(step, &err);
        else
            queue_quota_job(s, ch->users[i]);
    }
}

/* Splits the users into one scan per mail connection, once every user is
 * known; users whose name cannot go into the file are read one by one. */
static void start_scans(scrape *s)
{
    dva_scrape_result *r = s->result;
    dva_error err;
    s->scans_started = true;
    size_t *eligible = malloc((r->nusers ? r->nusers : 1) * sizeof(size_t));
    if (eligible == NULL) {
        dva_fail(&err, DVA_ERR_NOMEM, "out of memory for the quota scan");
        scan_failed(s, &err);
        for (size_t u = 0; u < r->nusers; u++)
            if (!r->users[u].quota_step.attempted)
                queue_quota_job(s, u);
        return;
    }
    size_t n = 0;
    for (size_t u = 0; u < r->nusers; u++) {
        if (r->users[u].quota_step.attempted)
            continue; /* read already (2.4's all-user `quota get -A`) */
        if (dva_scan_name_ok(r->users[u].name))
            eligible[n++] = u;
        else
            queue_quota_job(s, u);
    }
    size_t k = n < s->mail_connections ? n : s->mail_connections;
    if (k == 0) {
        free(eligible);
        return;
    }
    s->chunks = calloc(k, sizeof(chunk));
    r->scan_replies = calloc(k, sizeof(dva_reply));
    r->scan_quota = calloc(k, sizeof(dva_quota));
    if (s->chunks == NULL || r->scan_replies == NULL || r->scan_quota == NULL) {
        free(s->chunks);
        free(r->scan_replies);
        free(r->scan_quota);
        s->chunks = NULL;
        r->scan_replies = NULL;
        r->scan_quota = NULL;
        dva_fail(&err, DVA_ERR_NOMEM, "out of memory for the quota scan");
        scan_failed(s, &err);
        for (size_t i = 0; i < n; i++)
            queue_quota_job(s, eligible[i]);
        free(eligible);
        return;
    }
    r->nscans = k;
    /* Each chunk owns a slice of eligible: chunk 0 keeps the array. */
    for (size_t c = 0; c < k; c++) {
        chunk *ch = &s->chunks[c];
        ch->users = eligible + c * n / k;
        ch->nusers = (c + 1) * n / k - c * n / k;
    }
    for (size_t c = 0; c < k; c++) {
        chunk *ch = &s->chunks[c];
        const char **names = malloc(ch->nusers * sizeof(char *));
        int rc = -1;
        if (names == NULL) {
            dva_fail(&err, DVA_ERR_NOMEM, "out of memory for the quota scan");
        } else {
            for (size_t i = 0; i < ch->nusers; i++)
                names[i] = r->users[ch->users[i]].name;
            rc = dva_scan_write_file(s->plan->scan_dir, names, ch->nusers, &ch->path,
                                     &err);
            free(names);
        }
        if (rc < 0) {
            scan_failed(s, &err);
            fallback_chunk(s, c);
            continue;
        }
        start_solo(s, JOB_SCAN, c);
    }
}

/* A scan's reply (success or a failure status): its rows are credited to
 * the users of its file; whoever it did not answer for is read alone. */
static void handle_scan(scrape *s, const job *j)
{
    dva_scrape_result *r = s->result;
    size_t c = j->mask;
    const chunk *ch = &s->chunks[c];
    dva_error err;
    take_reply(s, &r->scan_replies[c]);
    r->scan_step.attempted = true;
    dva_scan_range *ranges = NULL;
    const char **names = NULL;
    if (dva_quota_decode(&r->scan_replies[c], NULL, &r->scan_quota[c], &err) < 0)
        goto fallback;
    ranges = malloc((ch->nusers ? ch->nusers : 1) * sizeof(*ranges));
    names = malloc((ch->nusers ? ch->nusers : 1) * sizeof(*names));
    if (ranges == NULL || names == NULL) {
        dva_fail(&err, DVA_ERR_NOMEM, "out of memory for the quota scan");
        goto fallback;
    }
    for (size_t i = 0; i < ch->nusers; i++)
        names[i] = r->users[ch->users[i]].name;
    if (dva_scan_assign(&r->scan_quota[c], names, ch->nusers, ranges, &err) < 0)
        goto fallback;
    for (size_t i = 0; i < ch->nusers; i++) {
        dva_scrape_user *u = &r->users[ch->users[i]];
        if (ranges[i].count == 0 || u->quota_step.attempted)
            continue;
        dva_quota q = {.rows = r->scan_quota[c].rows + ranges[i].first,
                       .nrows = ranges[i].count};
        bool failed = false;
        for (size_t k = 0; k < q.nrows; k++)
            failed = failed || q.rows[k].error;
        if (failed) {
            /* As its own `quota get` would have: "error" rows, TEMPFAIL. */
            dva_fail(&err, DVA_ERR_COMMAND,
                     "'quota get' for %s failed in the quota scan: TEMPFAIL", u->name);
            fail_step(&u->quota_step, &err);
            continue;
        }
        u->quota = q;
        u->quota_shared = true;
        u->quota_step.attempted = true;
    }
    free(ranges);
    free(names);
    fallback_chunk(s, c);
    return;

fallback:
    free(ranges);
    free(names);
    dva_quota_free(&r->scan_quota[c]);
    scan_failed(s, &err);
    fallback_chunk(s, c);
}

static void handle_success(scrape *s, const job *j, const char *where)
{
    dva_scrape_result *r = s->result;
    dva_error err;
    switch (j->kind) {
    case JOB_STATS:
        take_reply(s, &r->stats_reply);
        r->stats_step.attempted = true;
        if (dva_stats_decode(&r->stats_reply, &r->stats, &err) < 0)
            decode_failed(&r->stats_step, &err, where, "stats dump", NULL);
        break;
    case JOB_WHO:
        take_reply(s, &r->who_reply);
        r->who_step.attempted = true;
        if (dva_who_decode(&r->who_reply, &r->who, &err) < 0 ||
            dva_who_summarize(&r->who, &r->who_summary, &err) < 0)
            decode_failed(&r->who_step, &err, where, "who", NULL);
        break;
    case JOB_USERS:
        handle_users(s, where);
        break;
    case JOB_SCAN:
        handle_scan(s, j);
        break;
    case JOB_QUOTA: {
        dva_scrape_user *u = job_user(s, j);
        take_reply(s, &u->quota_reply);
        u->quota_step.attempted = true;
        if (dva_quota_decode(&u->quota_reply, u->name, &u->quota, &err) < 0) {
            decode_failed(&u->quota_step, &err, where, "quota get", u->name);
            doubt_generation(s);
        }
        break;
    }
    case JOB_MAILBOX: {
        dva_scrape_user *u = job_user(s, j);
        take_reply(s, &u->mailbox_replies[j->mask]);
        u->mailbox_step.attempted = true;
        if (dva_mailbox_decode(&u->mailbox_replies[j->mask], s->n_mb_fields, u->name,
                               &u->mailboxes[j->mask], &err) < 0) {
            decode_failed(&u->mailbox_step, &err, where, "mailbox status", u->name);
            doubt_generation(s);
        }
        break;
    }
    case JOB_OLDSTATS:
        handle_oldstats(s, j->mask, where);
        break;
    case JOB_QUOTA_ALL: /* quota_all_done() */
    case JOB_PROBE:     /* probe_done() */
        break;
    }
}

static void start_per_user(scrape *s);

/* The per-user steps fail with err, nothing sent: the read's time ran
 * out before they could start. */
static void fail_per_user(scrape *s, const dva_error *err)
{
    const dva_scrape_plan *plan = s->plan;
    record_down(s, err);
    if (plan->nuser_masks > 0)
        fail_step(&s->result->users_step, err);
    for (size_t i = 0; i < plan->nusers; i++) {
        long u = add_user(s, plan->users[i]);
        if (u < 0)
            continue;
        if (plan->quota)
            fail_step(&s->result->users[u].quota_step, err);
        if (plan->mailbox)
            fail_step(&s->result->users[u].mailbox_step, err);
    }
}

/* The probe answered (or failed): the generation is what its reply and
 * those before it showed, and the per-user requests start, unless the
 * probe took the read's whole time. */
static void probe_done(scrape *s)
{
    s->gen = dva_generation_decide(&s->evidence, NULL);
    if (dva_now_ms() >= s->deadline && s->res.error.code != DVA_OK &&
        s->res.error.code != DVA_ERR_COMMAND)
        fail_per_user(s, &s->res.error);
    else
        start_per_user(s);
}

static void handle_result(scrape *s, const char *where)
{
    size_t index = tag_job(s->res.tag);
    job *j = &s->jobs[index];
    /* Handling a user list adds jobs and may move s->jobs: j is not used
     * after handle_success(), only this copy of its kind. */
    job_kind kind = j->kind;
    dva_errcode code = s->res.error.code;

    if (code == DVA_OK || code == DVA_ERR_COMMAND) {
        s->result->up = true;
        observe(s, j);
    }
    if (code == DVA_ERR_CONNECT)
        s->connect_failed = true;
    if (kind == JOB_PROBE) {
        /* A failed probe tells nothing; the per-user requests will say
         * whether the server is down. */
        probe_done(s);
        return;
    }
    if (kind == JOB_QUOTA_ALL && (code == DVA_OK || code == DVA_ERR_COMMAND)) {
        quota_all_done(s, j->mask, code, where);
    } else if (code == DVA_OK || (code == DVA_ERR_COMMAND && j->kind == JOB_SCAN)) {
        handle_success(s, j, where);
    } else if (j->kind == JOB_SCAN && dva_now_ms() < s->deadline) {
        /* The scan's connection failed: its users are read one by one. */
        scan_failed(s, &s->res.error);
        fallback_chunk(s, j->mask);
    } else if (code == DVA_ERR_CLOSED && !j->retried &&
               (j->kind == JOB_QUOTA || j->kind == JOB_MAILBOX) &&
               dva_now_ms() < s->deadline) {
        /* The server process died under this request or one before it:
         * try once more on a fresh connection. */
        j->retried = true;
        queue_mail_job(s, index);
    } else {
        if (code != DVA_ERR_COMMAND)
            record_down(s, &s->res.error);
        fail_job(s, j, &s->res.error);
    }
    if (kind == JOB_USERS || kind == JOB_QUOTA_ALL) {
        s->masks_pending--;
        if (s->scan && !s->scans_started && s->masks_pending == 0 &&
            dva_now_ms() < s->deadline)
            start_scans(s);
    }
}

/* Drains one connection; frees it when it has nothing left to do. */
static void drain(scrape *s, size_t i)
{
    dva_recv r;
    while (s->conns[i].client != NULL &&
           (r = dva_client_receive(s->conns[i].client, &s->res)) == DVA_RECV_RESULT)
        /* may open connections: s->conns can move, the transport not */
        handle_result(s, dva_transport_describe(s->conns[i].transport));
    conn *cn = &s->conns[i];
    if (cn->client == NULL)
        return;
    bool idle = dva_client_pending(cn->client) == 0;
    /* A mail connection may still get users from a pending user list. */
    if (idle && (!cn->mail || s->masks_pending == 0))
        free_conn(cn);
}

static bool any_open(const scrape *s)
{
    for (size_t i = 0; i < s->nconns; i++)
        if (s->conns[i].client != NULL)
            return true;
    return false;
}

static void run_loop(scrape *s)
{
    struct pollfd *fds = NULL;
    size_t *owners = NULL, cap = 0;

    for (;;) {
        for (size_t i = 0; i < s->nconns; i++)
            drain(s, i);
        if (!any_open(s))
            break;
        uint64_t now = dva_now_ms();
        if (now >= s->deadline) {
            for (size_t i = 0; i < s->nconns; i++)
                if (s->conns[i].client != NULL)
                    dva_client_expire(s->conns[i].client, now);
            /* Collect the timed-out results; no retries after the deadline. */
            for (size_t i = 0; i < s->nconns; i++)
                drain(s, i);
            for (size_t i = 0; i < s->nconns; i++)
                if (s->conns[i].client != NULL)
                    free_conn(&s->conns[i]);
            break;
        }
        if (s->nconns > cap) {
            cap = s->nconns;
            struct pollfd *f = realloc(fds, cap * sizeof(*fds));
            size_t *o = realloc(owners, cap * sizeof(*owners));
            if (f != NULL)
                fds = f;
            if (o != NULL)
                owners = o;
            if (f == NULL || o == NULL)
                break;
        }
        size_t nfds = 0;
        for (size_t i = 0; i < s->nconns; i++) {
            conn *cn = &s->conns[i];
            if (cn->client == NULL)
                continue;
            short want = dva_client_events(cn->client), ev = 0;
            int fd = dva_transport_poll_fd(cn->transport, want, &ev);
            if (fd < 0 || ev == 0)
                continue;
            fds[nfds] = (struct pollfd){.fd = fd, .events = ev};
            owners[nfds++] = i;
        }
        uint64_t wait = s->deadline - now;
        int n = poll(fds, nfds, wait > 60000 ? 60000 : (int)wait);
        if (n < 0 && errno != EINTR)
            break;
    }
    free(fds);
    free(owners);
    for (size_t i = 0; i < s->nconns; i++)
        if (s->conns[i].client != NULL)
            free_conn(&s->conns[i]);
}

static void mark_unsupported(dva_scrape_step *step, const char *why)
{
    step->unsupported = true;
    dva_fail(&step->error, DVA_ERR_COMMAND, "%s", why);
}

static void start_stats(scrape *s)
{
    if (s->plan->generation == DVA_GEN_22) {
        mark_unsupported(&s->result->stats_step,
                         "stats dump -f (the statistics of Dovecot 2.3 and later) does "
                         "not exist on Dovecot 2.2; read its old statistics with "
                         "OldStats instead");
        return;
    }
    start_solo(s, JOB_STATS, 0);
}

static void start_oldstats(scrape *s)
{
    const dva_scrape_plan *p = s->plan;
    for (size_t i = 0; i < DVA_OLDSTATS_NSCOPES; i++) {
        dva_scrape_oldstats *o = &s->result->oldstats[i];
        if (!p->oldstats[i])
            continue;
        if (p->generation == DVA_GEN_24) {
            mark_unsupported(&o->step,
                             "Dovecot 2.4 has no old statistics (old_stats and "
                             "`oldstats dump` were removed); use CollectStats");
            continue;
        }
        dva_error err;
        if (dva_oldstats_layout_init(&o->layout, p->generation, (dva_oldstats_scope)i,
                                     p->oldstats_fields, p->noldstats_fields,
                                     &err) < 0) {
            fail_step(&o->step, &err);
            continue;
        }
        start_solo(s, JOB_OLDSTATS, i);
    }
}

/* The user lists, the configured users' requests and the scans. */
static void start_per_user(scrape *s)
{
    const dva_scrape_plan *plan = s->plan;
    bool quota_all = plan->quota && s->gen == DVA_GEN_24;
    for (size_t m = 0; m < plan->nuser_masks; m++) {
        /* 2.4 iterates all users itself: one request instead of
         * `user *` and one request per user. */
        if (quota_all && strcmp(plan->user_masks[m], "*") == 0) {
            start_solo(s, JOB_QUOTA_ALL, m);
            quota_all = false;
            continue;
        }
        start_solo(s, JOB_USERS, m);
    }
    for (size_t i = 0; i < plan->nusers; i++) {
        long u = add_user(s, plan->users[i]);
        if (u >= 0)
            queue_user_jobs(s, (size_t)u);
    }
    if (s->scan && s->masks_pending == 0)
        start_scans(s);
}

static int check_plan(const dva_scrape_plan *p, dva_error *err)
{
    if ((p->socket_path == NULL) == (p->host == NULL))
        return dva_fail(err, DVA_ERR_USAGE,
                        "a plan needs either a socket path or a host");
    if (p->host != NULL && (p->port == 0 || p->port > 65535))
        return dva_fail(err, DVA_ERR_USAGE, "port %u is not between 1 and 65535",
                        p->port);
    bool per_user = (p->quota || p->mailbox) && (p->nusers > 0 || p->nuser_masks > 0);
    bool oldstats = false;
    for (size_t i = 0; i < DVA_OLDSTATS_NSCOPES; i++)
        oldstats = oldstats || p->oldstats[i];
    if (!p->stats && !p->who && !per_user && !oldstats)
        return dva_fail(
            err, DVA_ERR_USAGE,
            "the plan reads nothing: enable stats, who or old-stats scopes, or "
            "name users for quota or mailbox status");
    if (p->timeout_ms == 0)
        return dva_fail(err, DVA_ERR_USAGE, "a plan needs a timeout");
    if (p->user_slices > 1 && p->user_slice >= p->user_slices)
        return dva_fail(err, DVA_ERR_USAGE, "user slice %u of %u does not exist",
                        p->user_slice, p->user_slices);
    if (p->connections > MAX_CONNECTIONS)
        return dva_fail(err, DVA_ERR_USAGE, "at most %d connections", MAX_CONNECTIONS);
    if (p->nmailbox_fields > DVA_MAILBOX_MAX_FIELDS)
        return dva_fail(err, DVA_ERR_USAGE, "at most %d mailbox fields",
                        DVA_MAILBOX_MAX_FIELDS);
    return 0;
}

int dva_scrape_run(const dva_scrape_plan *plan, dva_scrape_result *result,
                   dva_error *err)
{
    memset(result, 0, sizeof(*result));
    if (check_plan(plan, err) < 0)
        return -1;
    static const char *const default_masks[] = {DEFAULT_MAILBOX_MASK};
    uint64_t start = dva_now_ms();
    scrape s = {
        .plan = plan,
        .result = result,
        .deadline = start + plan->timeout_ms,
        .max_users = plan->max_users == 0 ? DEFAULT_MAX_USERS : plan->max_users,
        .mail_connections =
            plan->connections == 0 ? DEFAULT_CONNECTIONS : plan->connections,
        .mb_masks = plan->nmailbox_masks > 0 ? plan->mailbox_masks : default_masks,
        .n_mb_masks = plan->nmailbox_masks > 0 ? plan->nmailbox_masks : 1,
        .mb_fields =
            plan->nmailbox_fields > 0 ? plan->mailbox_fields : default_mailbox_fields,
        .n_mb_fields = plan->nmailbox_fields > 0 ? plan->nmailbox_fields : 3,
        .gen = plan->generation,
    };
    bool per_user = plan->quota || plan->mailbox;
    s.scan = plan->quota && plan->scan_dir != NULL && plan->socket_path != NULL;
    /* Solo connections (with the probe), the scans, the mail connections,
     * and as many again for retries after a server process died. */
    s.max_conns_opened = 3 + (per_user ? plan->nuser_masks : 0) +
                         (s.scan ? s.mail_connections : 0) + 2 * s.mail_connections +
                         DVA_OLDSTATS_NSCOPES;

    if (plan->host != NULL && plan->tls.mode != DVA_TLS_NONE) {
        /* Once per read: the CA file may have been renewed meanwhile. */
        dva_error tls_err;
        s.tls = dva_tls_context_new(&plan->tls, &tls_err);
        if (s.tls == NULL) {
            record_down(&s, &tls_err);
            result->duration_ms = dva_now_ms() - start;
            dva_error_clear(err);
            return 0;
        }
    }
    if (plan->stats)
        start_stats(&s);
    if (plan->who)
        start_solo(&s, JOB_WHO, 0);
    start_oldstats(&s);
    /* DovecotVersion auto: the generation decides the per-user form, so it
     * is asked first; the per-user requests start when it answers. */
    if (per_user && (s.gen != DVA_GEN_AUTO || !start_solo(&s, JOB_PROBE, 0)))
        start_per_user(&s);
    run_loop(&s);

    if (!result->up && s.connect_failed && plan->resolver != NULL)
        /* The host may have moved: look its name up again. */
        dva_resolver_connect_failed(plan->resolver);
    if (!result->up && result->down_reason.code == DVA_OK && s.njobs > 0)
        dva_fail(&result->down_reason, DVA_ERR_CONNECT, "no request could be made");
    result->observed = dva_generation_decide(&s.evidence, &result->observed_by);
    result->duration_ms = dva_now_ms() - start;
    dva_result_clear(&s.res);
    for (size_t c = 0; c < result->nscans && s.chunks != NULL; c++) {
        if (s.chunks[c].path != NULL)
            unlink(s.chunks[c].path);
        free(s.chunks[c].path);
    }
    if (s.chunks != NULL)
        free(s.chunks[0].users); /* the one array all chunks slice */
    free(s.chunks);
    dva_strset_free(&s.user_set);
    dva_tls_context_free(s.tls);
    free(s.jobs);
    free(s.conns);
    dva_error_clear(err);
    return 0;
}

void dva_scrape_result_free(dva_scrape_result *r)
{
    dva_stats_free(&r->stats);
    dva_reply_free(&r->stats_reply);
    dva_who_summary_free(&r->who_summary);
    dva_who_free(&r->who);
    dva_reply_free(&r->who_reply);
    for (size_t i = 0; i < DVA_OLDSTATS_NSCOPES; i++) {
        dva_oldstats_free(&r->oldstats[i].stats);
        dva_reply_free(&r->oldstats[i].reply);
    }
    dva_reply_free(&r->quota_all_reply);
    for (size_t i = 0; i < r->nusers; i++) {
        dva_scrape_user *u = &r->users[i];
        free(u->name);
        if (!u->quota_shared)
            dva_quota_free(&u->quota);
        dva_reply_free(&u->quota_reply);
        for (size_t m = 0; m < u->nmailbox_masks; m++) {
            dva_mailbox_free(&u->mailboxes[m]);
            dva_reply_free(&u->mailbox_replies[m]);
        }
        free(u->mailboxes);
        free(u->mailbox_replies);
    }
    free(r->users);
    for (size_t c = 0; c < r->nscans; c++) {
        dva_quota_free(&r->scan_quota[c]);
        dva_reply_free(&r->scan_replies[c]);
    }
    free(r->scan_quota);
    free(r->scan_replies);
    memset(r, 0, sizeof(*r));
}
