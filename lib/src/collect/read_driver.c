/* SPDX-License-Identifier: MIT */
/* The read driver: runs the collectors a plan enables (collector.h) over
 * one poll() loop against one deadline. It owns the connections (read_
 * conns.c), the queued requests (read_jobs.c) and the users (read_users.c);
 * every outcome goes back to the collector that asked (handle_outcome). */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "doveadm/clock.h"
#include "read.h"

#define DEFAULT_CONNECTIONS 2
#define MAX_CONNECTIONS 64
/* Pacing the wake-ups of a long reply: after PACE_AFTER bytes on one
 * connection, a wake-up that read less than PACE_BYTES waits before the
 * next poll, for about the time the reply took to bring PACE_BYTES at
 * the rate of the last wake-ups (PACE_MIN_MS to PACE_MAX_MS): a scan of
 * 100,000 users trickles in at the server's pace, and each wake-up costs
 * a poll and receives whatever it brings. */
#define PACE_AFTER ((uint64_t)512)
#define PACE_BYTES ((uint64_t)64 << 10) /* one receive (client.c) */
#define PACE_MIN_MS 1
#define PACE_MAX_MS 50

const dva_scrape_plan *dva_read_plan(const dva_read *r)
{
    return r->plan;
}

dva_scrape_result *dva_read_result(dva_read *r)
{
    return r->result;
}

dva_generation dva_read_generation(const dva_read *r)
{
    return r->gen;
}

size_t dva_collect_one_connection(const dva_read *r)
{
    (void)r;
    return 1;
}

bool dva_read_in_time(const dva_read *r)
{
    return dva_now_ms() < r->deadline;
}

static bool answers(const dva_read *r, const dva_collector *c, dva_errcode code)
{
    if (code == DVA_OK)
        return true;
    if (code == DVA_ERR_COMMAND)
        return c->answers >= DVA_ANSWER_STATUS;
    return c->answers == DVA_ANSWER_ALL ||
           (c->answers == DVA_ANSWER_IN_TIME && dva_read_in_time(r));
}

static void handle_outcome(dva_read *r, const char *where)
{
    size_t index = dva_read_tag_job(r->res.tag);
    /* Handling may add jobs and move r->jobs: only copies are used. */
    dva_read_job j = r->jobs[index];
    const dva_collector *c = j.pub.collector;
    dva_errcode code = r->res.error.code;

    if (code == DVA_OK || code == DVA_ERR_COMMAND) {
        r->result->up = true;
        dva_generation_note(&r->evidence, j.signal, j.server_wide, &r->res.reply);
    }
    if (code == DVA_ERR_CONNECT)
        r->connect_failed = true;
    if (answers(r, c, code)) {
        c->answer(r, &j.pub, where);
    } else if (code == DVA_ERR_CLOSED && j.mail && !j.retried && dva_read_in_time(r)) {
        /* The server process died under this request or one before it:
         * try once more on a fresh connection. */
        r->jobs[index].retried = true;
        dva_read_queue_mail(r, index);
    } else {
        if (code != DVA_ERR_COMMAND)
            dva_read_record_down(r, &r->res.error);
        c->fail(r, &j.pub, &r->res.error);
    }
    if (j.source) {
        r->sources_pending--;
        if (!r->all_users_started && r->sources_pending == 0 && dva_read_in_time(r))
            dva_read_start_all_users(r);
    }
}

/* A streamed reply's rows so far go to its collector, which says how
 * many of them the client may forget. */
static void handle_rows(dva_read *r, dva_client *client)
{
    dva_job j = r->jobs[dva_read_tag_job(r->res.tag)].pub;
    size_t used = j.collector->rows(r, &j, dva_client_rows(client));
    dva_client_drop_rows(client, used);
}

/* Drains one connection; frees it when it has nothing left to do. */
static void drain(dva_read *r, size_t i)
{
    dva_recv got;
    while (
        r->conns[i].client != NULL &&
        ((got = dva_client_receive(r->conns[i].client, &r->res)) == DVA_RECV_RESULT ||
         got == DVA_RECV_ROWS)) {
        if (got == DVA_RECV_ROWS) {
            handle_rows(r, r->conns[i].client);
            continue;
        }
        /* may open connections: r->conns can move, the transport not */
        handle_outcome(r, dva_transport_describe(r->conns[i].transport));
    }
    dva_read_conn *cn = &r->conns[i];
    if (cn->client == NULL)
        return;
    bool idle = dva_client_pending(cn->client) == 0;
    /* A mail connection may still get users from a pending user list. */
    if (idle && (!cn->mail || r->sources_pending == 0))
        dva_read_free_conn(cn);
}

static bool any_open(const dva_read *r)
{
    for (size_t i = 0; i < r->nconns; i++)
        if (r->conns[i].client != NULL)
            return true;
    return false;
}

/* Past the deadline: every connection expires and its requests fail. */
static void expire_all(dva_read *r, uint64_t now)
{
    for (size_t i = 0; i < r->nconns; i++)
        if (r->conns[i].client != NULL)
            dva_client_expire(r->conns[i].client, now);
    /* Collect the timed-out results; no retries after the deadline. */
    for (size_t i = 0; i < r->nconns; i++)
        drain(r, i);
    for (size_t i = 0; i < r->nconns; i++)
        if (r->conns[i].client != NULL)
            dva_read_free_conn(&r->conns[i]);
}

/* Polls the connections with something to wait for; marks quiet[i] the
 * ones polled that have no event (they are not drained: a receive would
 * only meet EAGAIN). Returns false on a poll() failure. */
static bool wait_events(dva_read *r, struct pollfd *fds, size_t *owners, bool *quiet,
                        uint64_t now)
{
    size_t nfds = 0;
    for (size_t i = 0; i < r->nconns; i++) {
        dva_read_conn *cn = &r->conns[i];
        quiet[i] = false;
        if (cn->client == NULL)
            continue;
        short want = dva_client_events(cn->client), ev = 0;
        int fd = dva_transport_poll_fd(cn->transport, want, &ev);
        if (fd < 0 || ev == 0)
            continue;
        fds[nfds] = (struct pollfd){.fd = fd, .events = ev};
        owners[nfds++] = i;
    }
    uint64_t wait = r->deadline - now;
    int n = poll(fds, nfds, wait > 60000 ? 60000 : (int)wait);
    if (n < 0)
        return errno == EINTR;
    for (size_t k = 0; k < nfds; k++)
        quiet[owners[k]] = fds[k].revents == 0;
    return true;
}

/* How long to let a trickling reply gather: got bytes came in `since`
 * ms; 0 when a wake-up brings enough. */
static uint64_t pace_ms(uint64_t got, uint64_t since)
{
    if (got >= PACE_BYTES)
        return 0;
    if (got == 0 || since == 0)
        return PACE_MIN_MS;
    uint64_t wait = (PACE_BYTES - got) * since / got;
    return wait < PACE_MIN_MS ? PACE_MIN_MS : wait > PACE_MAX_MS ? PACE_MAX_MS : wait;
}

static void run_loop(dva_read *r)
{
    struct pollfd *fds = NULL;
    size_t *owners = NULL, cap = 0;
    bool *quiet = NULL;
    uint64_t last_wake = dva_now_ms();

    for (;;) {
        uint64_t most = 0; /* bytes, the most one connection got */
        bool streaming = false;
        /* Connections opened meanwhile (index >= cap) were not polled. */
        for (size_t i = 0; i < r->nconns; i++) {
            if (i < cap && quiet != NULL && quiet[i])
                continue;
            uint64_t before = r->conns[i].client != NULL
                                  ? dva_client_received(r->conns[i].client)
                                  : 0;
            drain(r, i);
            if (r->conns[i].client == NULL)
                continue;
            uint64_t after = dva_client_received(r->conns[i].client);
            most = after - before > most ? after - before : most;
            streaming = streaming || (after > before && after >= PACE_AFTER);
        }
        if (!any_open(r))
            break;
        uint64_t now = dva_now_ms();
        if (now >= r->deadline) {
            expire_all(r, now);
            break;
        }
        uint64_t pause = streaming ? pace_ms(most, now - last_wake) : 0;
        last_wake = now;
        if (pause > 0 && now + pause < r->deadline) {
            /* A long reply trickles in (a scan, all-user rows, many users'
             * replies): let it gather, so that one wake-up reads many
             * users' rows instead of one. */
            struct timespec ts = {0, (long)pause * 1000000L};
            nanosleep(&ts, NULL);
            last_wake = dva_now_ms();
        }
        if (r->nconns > cap) {
            size_t n = r->nconns;
            struct pollfd *f = realloc(fds, n * sizeof(*fds));
            if (f != NULL)
                fds = f;
            size_t *o = realloc(owners, n * sizeof(*owners));
            if (o != NULL)
                owners = o;
            bool *q = realloc(quiet, n * sizeof(*quiet));
            if (q != NULL)
                quiet = q;
            if (f == NULL || o == NULL || q == NULL)
                break;
            cap = n;
        }
        if (!wait_events(r, fds, owners, quiet, now))
            break;
    }
    free(fds);
    free(owners);
    free(quiet);
    for (size_t i = 0; i < r->nconns; i++)
        if (r->conns[i].client != NULL)
            dva_read_free_conn(&r->conns[i]);
}

static bool builtin(const dva_collector *c)
{
    for (size_t i = 0; dva_collectors[i] != NULL; i++)
        if (dva_collectors[i] == c)
            return true;
    return false;
}

/* The plan reads something: a built-in step, or a collector of its own. */
static bool reads_something(const dva_read *r)
{
    const dva_scrape_plan *p = r->plan;
    bool per_user = (p->quota || p->mailbox) && (p->nusers > 0 || p->nuser_masks > 0);
    bool oldstats = false;
    for (size_t i = 0; i < DVA_OLDSTATS_NSCOPES; i++)
        oldstats = oldstats || p->oldstats[i];
    bool health = p->services || p->processes || p->indexer || p->penalty;
    if (p->stats || p->who || per_user || oldstats || health)
        return true;
    for (size_t i = 0; i < r->ncollectors; i++) {
        const dva_collector *c = r->collectors[i];
        if (!builtin(c) && (c->enabled == NULL || c->enabled(r)))
            return true;
    }
    return false;
}

static int check_plan(const dva_read *r, dva_error *err)
{
    const dva_scrape_plan *p = r->plan;
    if ((p->socket_path == NULL) == (p->host == NULL) && p->open_transport == NULL)
        return dva_fail(err, DVA_ERR_USAGE,
                        "a plan needs either a socket path or a host");
    if (p->host != NULL && (p->port == 0 || p->port > 65535))
        return dva_fail(err, DVA_ERR_USAGE, "port %u is not between 1 and 65535",
                        p->port);
    if (!reads_something(r))
        return dva_fail(
            err, DVA_ERR_USAGE,
            "the plan reads nothing: enable stats, who, a server-health command or "
            "old-stats scopes, or name users for quota or mailbox status");
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

static void init_read(dva_read *r, const dva_scrape_plan *plan,
                      dva_scrape_result *result, uint64_t start)
{
    memset(r, 0, sizeof(*r));
    r->plan = plan;
    r->result = result;
    r->collectors = plan->collectors != NULL ? plan->collectors : dva_collectors;
    while (r->collectors[r->ncollectors] != NULL)
        r->ncollectors++;
    r->deadline = start + plan->timeout_ms;
    r->max_users = plan->max_users == 0 ? SIZE_MAX : plan->max_users;
    r->users_part_seed =
        plan->read_count / (plan->user_slices > 1 ? plan->user_slices : 1);
    r->mail_connections =
        plan->connections == 0 ? DEFAULT_CONNECTIONS : plan->connections;
    r->gen = plan->generation;
}

/* Each collector's own connections, the mail connections, and as many
 * again for retries after a server process died. */
static size_t connection_budget(const dva_read *r)
{
    size_t n = 2 * (size_t)r->mail_connections;
    for (size_t i = 0; i < r->ncollectors; i++)
        if (r->collectors[i]->connections != NULL)
            n += r->collectors[i]->connections(r);
    return n;
}

static void finish_read(dva_read *r, uint64_t start)
{
    const dva_scrape_plan *plan = r->plan;
    dva_scrape_result *result = r->result;
    if (!result->up && r->connect_failed && plan->resolver != NULL)
        /* The host may have moved: look its name up again. */
        dva_resolver_connect_failed(plan->resolver);
    if (!result->up && result->down_reason.code == DVA_OK && r->njobs > 0)
        dva_fail(&result->down_reason, DVA_ERR_CONNECT, "no request could be made");
    result->observed = dva_generation_decide(&r->evidence, &result->observed_by);
    result->duration_ms = dva_now_ms() - start;
    dva_result_clear(&r->res);
    for (size_t i = 0; i < r->ncollectors; i++)
        if (r->collectors[i]->finish != NULL)
            r->collectors[i]->finish(r);
    dva_strset_free(&r->user_set);
    dva_tls_context_free(r->tls);
    free(r->state);
    free(r->jobs);
    free(r->conns);
}

int dva_scrape_run(const dva_scrape_plan *plan, dva_scrape_result *result,
                   dva_error *err)
{
    memset(result, 0, sizeof(*result));
    result->user_parts = 1;
    uint64_t start = dva_now_ms();
    dva_read r;
    init_read(&r, plan, result, start);
    if (check_plan(&r, err) < 0)
        return -1;
    r.state = calloc(r.ncollectors + 1, sizeof(*r.state));
    if (r.state == NULL)
        return dva_fail(err, DVA_ERR_NOMEM, "out of memory starting a read");
    r.max_conns_opened = connection_budget(&r);

    if (plan->host != NULL && plan->tls.mode != DVA_TLS_NONE) {
        /* Once per read: the CA file may have been renewed meanwhile. */
        dva_error tls_err;
        r.tls = dva_tls_context_new(&plan->tls, &tls_err);
        if (r.tls == NULL) {
            dva_read_record_down(&r, &tls_err);
            result->duration_ms = dva_now_ms() - start;
            free(r.state);
            dva_error_clear(err);
            return 0;
        }
    }
    for (size_t i = 0; i < r.ncollectors; i++) {
        const dva_collector *c = r.collectors[i];
        if (c->when == DVA_COLLECT_AT_START && c->start != NULL &&
            (c->enabled == NULL || c->enabled(&r)))
            c->start(&r, 0);
    }
    run_loop(&r);
    finish_read(&r, start);
    dva_error_clear(err);
    return 0;
}
