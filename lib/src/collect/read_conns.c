/* SPDX-License-Identifier: MIT */
/* The connections of one read: each opened on the plan's transport (UNIX,
 * TCP through the resolver, TLS over either) within the read's budget,
 * and the mail connections that take pipelined per-user requests. */
#include <stdlib.h>

#include "doveadm/socket_transport.h"
#include "read.h"

void *dva_read_grow(void *p, size_t *cap, size_t need, size_t size)
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

void dva_read_record_down(dva_read *r, const dva_error *err)
{
    if (r->result->down_reason.code == DVA_OK)
        r->result->down_reason = *err;
}

static dva_transport *open_transport(dva_read *r, dva_error *err)
{
    const dva_scrape_plan *plan = r->plan;
    dva_transport *t;
    if (plan->open_transport != NULL)
        t = plan->open_transport(plan->open_transport_ctx, err);
    else if (plan->socket_path != NULL)
        t = dva_unix_transport_new(plan->socket_path, err);
    else if (plan->resolver != NULL)
        t = dva_resolver_transport(plan->resolver, r->deadline, err);
    else
        t = dva_tcp_transport_new(plan->host, plan->port, err);
    if (t != NULL && r->tls != NULL)
        t = dva_tls_transport_new(
            t, r->tls, plan->server_name != NULL ? plan->server_name : plan->host, err);
    return t;
}

dva_read_conn *dva_read_open_conn(dva_read *r, bool mail)
{
    const dva_scrape_plan *plan = r->plan;
    if (r->result->connections_opened >= r->max_conns_opened)
        return NULL;
    dva_read_conn *conns =
        dva_read_grow(r->conns, &r->conns_cap, r->nconns + 1, sizeof(*conns));
    if (conns == NULL)
        return NULL;
    r->conns = conns;

    dva_error err;
    dva_transport *t = open_transport(r, &err);
    if (t == NULL) {
        dva_read_record_down(r, &err);
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
    dva_client_set_deadline(c, r->deadline);
    r->result->connections_opened++;
    dva_read_conn *cn = &r->conns[r->nconns++];
    *cn = (dva_read_conn){.transport = t, .client = c, .mail = mail};
    return cn;
}

void dva_read_free_conn(dva_read_conn *cn)
{
    dva_client_free(cn->client);
    dva_transport_destroy(cn->transport);
    cn->client = NULL;
    cn->transport = NULL;
}

static bool open_mail(const dva_read_conn *cn)
{
    return cn->mail && cn->client != NULL &&
           dva_client_state(cn->client) != DVA_STATE_CLOSED;
}

dva_read_conn *dva_read_next_mail_conn(dva_read *r)
{
    size_t nopen = 0;
    for (size_t i = 0; i < r->nconns; i++)
        if (open_mail(&r->conns[i]))
            nopen++;
    if (nopen < r->mail_connections) {
        dva_read_conn *cn = dva_read_open_conn(r, true);
        if (cn != NULL)
            return cn;
    }
    for (size_t n = 0; n < r->nconns; n++) {
        dva_read_conn *cn = &r->conns[r->next_mail++ % r->nconns];
        if (open_mail(cn))
            return cn;
    }
    return NULL;
}
