/* SPDX-License-Identifier: MIT */
/* Cached, deadline-bounded name resolution: see doveadm/resolver.h.
 *
 * Why a thread of our own rather than glibc's getaddrinfo_a(): a request of
 * getaddrinfo_a() cannot be cancelled once it runs, and its gaicb must stay
 * valid until it finishes, so freeing the resolver (collectd's shutdown)
 * would have to wait for DNS or leak; it is also glibc-only and cannot be
 * replaced by a test's resolve function. Here each lookup is a job with a
 * reference count shared by the resolver and a detached thread: whichever
 * lets go last frees it, so nobody ever waits for the other. */
#include "doveadm/resolver.h"

#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "doveadm/clock.h"
#include "tcp_address.h"

#define WHY_MAX 256

/* One lookup. name, port, resolve and ctx are set before the thread starts
 * and never change; everything else is under mu. */
typedef struct {
    pthread_mutex_t mu;
    pthread_cond_t finished;
    unsigned refs; /* the resolver's and the thread's */
    char *name;
    unsigned port;
    dva_resolve_fn *resolve;
    void *ctx;

    bool done;
    int rc;
    dva_tcp_address *addrs;
    size_t naddrs;
    char why[WHY_MAX];
} lookup;

struct dva_resolver {
    dva_tcp_host host;
    char *host_arg; /* as configured: names the transports */
    unsigned port;
    dva_resolve_fn *resolve;
    void *resolve_ctx;
    uint64_t refresh_ms;
    uint64_t (*now_ms)(void);

    bool numeric; /* addrs never change */
    dva_tcp_address *addrs;
    size_t naddrs;
    uint64_t resolved_at; /* now_ms() */
    bool stale;           /* every address failed to connect */
    lookup *pending;      /* running, or finished and not harvested yet */

    /* The last lookup failed while there were no addresses: its error
     * answers the read that sees it (failure_deadline), then a new
     * lookup starts. */
    bool failed;
    bool failure_reported;
    uint64_t failure_deadline;
    dva_error failure;
};

static int getaddrinfo_resolve(void *ctx, const char *name, unsigned port,
                               dva_tcp_address **addrs, size_t *naddrs, char *why,
                               size_t why_size)
{
    (void)ctx;
    return dva_tcp_lookup(name, port, 0, addrs, naddrs, why, why_size) == 0 ? 0 : -1;
}

/* ---- the job shared with the thread ---- */

static void lookup_release(lookup *l)
{
    pthread_mutex_lock(&l->mu);
    bool last = --l->refs == 0;
    pthread_mutex_unlock(&l->mu);
    if (!last)
        return;
    pthread_cond_destroy(&l->finished);
    pthread_mutex_destroy(&l->mu);
    free(l->addrs);
    free(l->name);
    free(l);
}

static void *lookup_thread(void *arg)
{
    lookup *l = arg;
    dva_tcp_address *addrs = NULL;
    size_t naddrs = 0;
    char why[WHY_MAX] = "";
    int rc = l->resolve(l->ctx, l->name, l->port, &addrs, &naddrs, why, sizeof(why));

    pthread_mutex_lock(&l->mu);
    l->rc = rc;
    l->addrs = addrs;
    l->naddrs = rc == 0 ? naddrs : 0;
    memcpy(l->why, why, sizeof(why));
    l->why[sizeof(l->why) - 1] = '\0';
    l->done = true;
    pthread_cond_broadcast(&l->finished);
    pthread_mutex_unlock(&l->mu);
    lookup_release(l);
    return NULL;
}

static lookup *lookup_alloc(const dva_resolver *r)
{
    lookup *l = calloc(1, sizeof(*l));
    if (l == NULL)
        return NULL;
    l->name = strdup(r->host.name);
    if (l->name == NULL) {
        free(l);
        return NULL;
    }
    /* Deadlines are dva_now_ms() times: wait on the same clock. */
    pthread_condattr_t ca;
    bool cond_ok = pthread_condattr_init(&ca) == 0;
    if (cond_ok) {
        cond_ok = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) == 0 &&
                  pthread_cond_init(&l->finished, &ca) == 0;
        pthread_condattr_destroy(&ca);
    }
    if (!cond_ok || pthread_mutex_init(&l->mu, NULL) != 0) {
        if (cond_ok)
            pthread_cond_destroy(&l->finished);
        free(l->name);
        free(l);
        return NULL;
    }
    l->refs = 2;
    l->port = r->port;
    l->resolve = r->resolve;
    l->ctx = r->resolve_ctx;
    return l;
}

static int start_lookup(dva_resolver *r, dva_error *err)
{
    lookup *l = lookup_alloc(r);
    if (l == NULL)
        return dva_fail(err, DVA_ERR_NOMEM, "out of memory resolving \"%s\"",
                        r->host.name);
    pthread_attr_t attr;
    int e = pthread_attr_init(&attr);
    if (e == 0) {
        (void)pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        /* Signals stay with the caller's threads (collectd's), never
         * with a thread that is only waiting for DNS. */
        sigset_t all, old;
        sigfillset(&all);
        pthread_sigmask(SIG_SETMASK, &all, &old);
        pthread_t tid;
        e = pthread_create(&tid, &attr, lookup_thread, l);
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        pthread_attr_destroy(&attr);
    }
    if (e != 0) {
        l->refs = 1;
        lookup_release(l);
        return dva_fail(err, DVA_ERR_IO, "cannot start a thread to resolve \"%s\": %s",
                        r->host.name, strerror(e));
    }
    r->pending = l;
    return 0;
}

/* Waits for l until deadline; true once it has finished. */
static bool await_lookup(lookup *l, uint64_t deadline)
{
    struct timespec until = {.tv_sec = (time_t)(deadline / 1000u),
                             .tv_nsec = (long)(deadline % 1000u) * 1000000L};
    pthread_mutex_lock(&l->mu);
    while (!l->done && dva_now_ms() < deadline)
        if (pthread_cond_timedwait(&l->finished, &l->mu, &until) == ETIMEDOUT)
            break;
    bool done = l->done;
    pthread_mutex_unlock(&l->mu);
    return done;
}

/* Takes the answer of a finished lookup into r. */
static void harvest(dva_resolver *r)
{
    lookup *l = r->pending;
    if (l == NULL)
        return;
    pthread_mutex_lock(&l->mu);
    bool done = l->done;
    int rc = l->rc;
    dva_tcp_address *addrs = l->addrs;
    size_t naddrs = l->naddrs;
    char why[WHY_MAX];
    memcpy(why, l->why, sizeof(why));
    if (done)
        l->addrs = NULL; /* now r's */
    pthread_mutex_unlock(&l->mu);
    if (!done)
        return;
    lookup_release(l);
    r->pending = NULL;

    if (rc == 0 && naddrs > 0) {
        free(r->addrs);
        r->addrs = addrs;
        r->naddrs = naddrs;
        r->resolved_at = r->now_ms();
        r->stale = false;
        r->failed = false;
        return;
    }
    free(addrs);
    if (r->naddrs > 0)
        return; /* a failed refresh: the addresses we have may still work */
    r->failed = true;
    r->failure_reported = false;
    if (rc == 0)
        dva_tcp_no_address(&r->host, &r->failure);
    else
        dva_tcp_lookup_fail(&r->host, why, &r->failure);
}

/* ---- API ---- */

dva_resolver *dva_resolver_new(const char *host, unsigned port,
                               const dva_resolver_options *opt, dva_error *err)
{
    dva_resolver *r = calloc(1, sizeof(*r));
    if (r == NULL)
        return dva_fail(err, DVA_ERR_NOMEM, "out of memory creating a resolver"), NULL;
    if (dva_tcp_host_parse(&r->host, host, port, err) < 0) {
        free(r);
        return NULL;
    }
    r->host_arg = strdup(host);
    if (r->host_arg == NULL) {
        dva_resolver_free(r);
        return dva_fail(err, DVA_ERR_NOMEM, "out of memory creating a resolver"), NULL;
    }
    r->port = port;
    r->resolve =
        opt != NULL && opt->resolve != NULL ? opt->resolve : getaddrinfo_resolve;
    r->resolve_ctx = opt != NULL ? opt->resolve_ctx : NULL;
    r->refresh_ms =
        opt != NULL && opt->refresh_ms > 0 ? opt->refresh_ms : DVA_RESOLVER_REFRESH_MS;
    r->now_ms = opt != NULL && opt->now_ms != NULL ? opt->now_ms : dva_now_ms;

    /* An address literal: parsed here, no DNS (AI_NUMERICHOST). */
    char why[WHY_MAX];
    int rc = dva_tcp_lookup(r->host.name, port, AI_NUMERICHOST, &r->addrs, &r->naddrs,
                            why, sizeof(why));
    if (rc == 0 && r->naddrs > 0) {
        r->numeric = true;
        return r;
    }
    if (r->host.bracketed) {
        dva_tcp_lookup_fail(&r->host, rc != 0 ? why : "no address", err);
        dva_resolver_free(r);
        return NULL;
    }
    /* A name: look it up now, so the first read likely finds it done. A
     * thread that cannot start now is started again by that read. */
    (void)start_lookup(r, NULL);
    return r;
}

static dva_transport *new_transport(const dva_resolver *r, dva_error *err)
{
    return dva_tcp_transport_new_addresses(r->host_arg, r->port, r->addrs, r->naddrs,
                                           err);
}

dva_transport *dva_resolver_transport(dva_resolver *r, uint64_t deadline,
                                      dva_error *err)
{
    if (r->numeric)
        return new_transport(r, err);
    harvest(r);
    if (r->naddrs > 0) {
        /* The normal path: the addresses we have, and a lookup in the
         * background when they are old or did not work. */
        if (r->pending == NULL &&
            (r->stale || r->now_ms() - r->resolved_at >= r->refresh_ms))
            (void)start_lookup(r, NULL); /* not started: tried again next time */
        return new_transport(r, err);
    }
    if (r->failed && r->failure_reported && r->failure_deadline != deadline)
        r->failed = false; /* a new read: look up again */
    if (!r->failed) {
        if (r->pending == NULL && start_lookup(r, err) < 0)
            return NULL;
        if (!await_lookup(r->pending, deadline))
            return dva_fail(err, DVA_ERR_TIMEOUT,
                            "connect to %s failed: resolving \"%s\" did not finish "
                            "within the read's Timeout",
                            r->host.description, r->host.name),
                   NULL;
        harvest(r);
        if (r->naddrs > 0)
            return new_transport(r, err);
    }
    if (!r->failure_reported) {
        r->failure_reported = true;
        r->failure_deadline = deadline;
    }
    if (err != NULL)
        *err = r->failure;
    return NULL;
}

void dva_resolver_connect_failed(dva_resolver *r)
{
    if (r->numeric)
        return;
    harvest(r);
    r->stale = true;
    if (r->pending == NULL)
        (void)start_lookup(r, NULL);
}

int dva_resolver_settle(dva_resolver *r, uint64_t deadline)
{
    if (r->pending != NULL && await_lookup(r->pending, deadline))
        harvest(r);
    return r->pending == NULL;
}

void dva_resolver_free(dva_resolver *r)
{
    if (r == NULL)
        return;
    if (r->pending != NULL)
        lookup_release(r->pending); /* the thread frees it if still running */
    free(r->addrs);
    free(r->host_arg);
    dva_tcp_host_free(&r->host);
    free(r);
}
