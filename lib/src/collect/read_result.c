/* SPDX-License-Identifier: MIT */
/* What one read yields: the steps of its collectors, the replies they
 * keep (decoded rows point into them) and freeing it all. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "read.h"
#include "strpool.h"

void dva_step_fail(dva_scrape_step *step, const dva_error *err)
{
    step->attempted = true;
    step->error = *err;
}

void dva_step_unsupported(dva_scrape_step *step, const char *why)
{
    step->unsupported = true;
    dva_fail(&step->error, DVA_ERR_COMMAND, "%s", why);
}

/* A reply that arrived whole but does not decode: the message says which
 * server sent it and for which request, as a transport error does. */
void dva_step_decode_failed(dva_scrape_step *step, const dva_error *err,
                            const char *where, const char *command, const char *user)
{
    if (step->error.code != DVA_OK)
        return;
    dva_fail(&step->error, err->code, "%s: the reply to '%s'%s%s: %s", where, command,
             user != NULL ? " for " : "", user != NULL ? user : "", err->message);
}

void dva_user_step_fail(dva_user_step *step, const dva_error *err)
{
    step->attempted = true;
    free(step->error.message);
    step->error.code = err->code;
    step->error.message = err->code != DVA_OK ? strdup(err->message) : NULL;
}

void dva_user_step_decode_failed(dva_user_step *step, const dva_error *err,
                                 const char *where, const char *command,
                                 const char *user)
{
    if (step->error.code != DVA_OK)
        return;
    dva_scrape_step full = {0};
    dva_step_decode_failed(&full, err, where, command, user);
    bool attempted = step->attempted;
    dva_user_step_fail(step, &full.error);
    step->attempted = attempted;
}

void dva_user_step_error(const dva_user_step *step, dva_error *out)
{
    out->code = step->error.code;
    snprintf(out->message, sizeof(out->message), "%s",
             step->error.message != NULL ? step->error.message : "");
}

dva_result *dva_read_outcome(dva_read *r)
{
    return &r->res;
}

void dva_read_take_reply(dva_read *r, dva_reply *dst)
{
    dva_reply tmp = *dst;
    *dst = r->res.reply;
    r->res.reply = tmp;
    dva_reply_reset(&r->res.reply);
}

static size_t collector_index(const dva_read *r, const dva_collector *c)
{
    size_t i = 0;
    while (i < r->ncollectors && r->collectors[i] != c)
        i++;
    return i;
}

void **dva_read_state(dva_read *r, const dva_collector *c)
{
    size_t i = collector_index(r, c);
    return i < r->ncollectors ? &r->state[i] : NULL;
}

dva_collected *dva_read_collected(dva_read *r, const dva_collector *c)
{
    dva_scrape_result *res = r->result;
    size_t i = collector_index(r, c);
    if (i == r->ncollectors)
        return NULL;
    if (res->collected == NULL) {
        res->collected = calloc(r->ncollectors, sizeof(*res->collected));
        if (res->collected == NULL)
            return NULL;
        res->ncollected = r->ncollectors;
        for (size_t k = 0; k < r->ncollectors; k++)
            res->collected[k].collector = r->collectors[k];
    }
    return &res->collected[i];
}

const dva_collected *dva_scrape_collected(const dva_scrape_result *r,
                                          const dva_collector *c)
{
    for (size_t i = 0; i < r->ncollected; i++)
        if (r->collected[i].collector == c)
            return &r->collected[i];
    return NULL;
}

char *dva_scrape_result_strdup(dva_scrape_result *r, const char *s)
{
    dva_strpool names = {r->user_names};
    char *copy = dva_strpool_dup(&names, s);
    r->user_names = names.head;
    return copy;
}

static void free_user(dva_scrape_user *u)
{
    if (!u->quota_shared)
        dva_quota_free(&u->quota);
    if (u->quota_reply != NULL)
        dva_reply_free(u->quota_reply);
    free(u->quota_reply);
    free(u->quota_step.error.message);
    free(u->mailbox_step.error.message);
    for (size_t m = 0; m < u->nmailbox_masks; m++) {
        dva_mailbox_free(&u->mailboxes[m]);
        dva_reply_free(&u->mailbox_replies[m]);
    }
    free(u->mailboxes);
    free(u->mailbox_replies);
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
    for (size_t i = 0; i < r->nusers; i++)
        free_user(&r->users[i]);
    free(r->users);
    for (size_t c = 0; c < r->nscans; c++) {
        dva_quota_free(&r->scan_quota[c]);
        dva_reply_free(&r->scan_replies[c]);
    }
    free(r->scan_quota);
    free(r->scan_replies);
    for (size_t i = 0; i < r->ncollected; i++) {
        dva_collected *c = &r->collected[i];
        if (c->free_data != NULL && c->data != NULL)
            c->free_data(c->data);
        dva_reply_free(&c->reply);
    }
    free(r->collected);
    dva_strpool names = {r->user_names};
    dva_strpool_free(&names);
    memset(r, 0, sizeof(*r));
}
