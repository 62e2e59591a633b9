/* SPDX-License-Identifier: MIT */
/* `mailbox status <fields> <mask>` per user and mask, pipelined on the
 * mail connections in the per-user form of the generation (PROTOCOL.md
 * 6.7), into the user's mailboxes[mask]. */
#include "read.h"

#define DEFAULT_MASK "INBOX"

static const char *const default_masks[] = {DEFAULT_MASK};
static const char *const default_fields[] = {"messages", "unseen", "vsize"};

size_t dva_collect_mailbox_masks(const dva_scrape_plan *p, const char *const **masks)
{
    if (masks != NULL)
        *masks = p->nmailbox_masks > 0 ? p->mailbox_masks : default_masks;
    return p->nmailbox_masks > 0 ? p->nmailbox_masks : 1;
}

size_t dva_collect_mailbox_fields(const dva_scrape_plan *p, const char *const **fields)
{
    *fields = p->nmailbox_fields > 0 ? p->mailbox_fields : default_fields;
    return p->nmailbox_fields > 0 ? p->nmailbox_fields : 3;
}

static bool enabled(const dva_read *r)
{
    return dva_read_plan(r)->mailbox;
}

static void start(dva_read *r, size_t user)
{
    size_t n = dva_collect_mailbox_masks(dva_read_plan(r), NULL);
    for (size_t m = 0; m < n; m++)
        dva_read_mail(r, &dva_collect_mailbox, user, m);
}

static int request(dva_read *r, const dva_job *j, dva_command *cmd,
                   const char **username, dva_error *err)
{
    const dva_scrape_plan *p = dva_read_plan(r);
    const char *const *masks, *const *fields;
    dva_collect_mailbox_masks(p, &masks);
    size_t nfields = dva_collect_mailbox_fields(p, &fields);
    if (dva_mailbox_command(cmd, fields, nfields, masks[j->arg],
                            dva_generation_user_rows(dva_read_generation(r)), err) < 0)
        return -1;
    *username = dva_read_result(r)->users[j->user].name;
    return 0;
}

static void answer(dva_read *r, const dva_job *j, const char *where)
{
    const char *const *fields;
    size_t nfields = dva_collect_mailbox_fields(dva_read_plan(r), &fields);
    dva_scrape_user *u = &dva_read_result(r)->users[j->user];
    dva_error err;
    dva_read_take_reply(r, &u->mailbox_replies[j->arg]);
    u->mailbox_step.attempted = true;
    if (dva_mailbox_decode(&u->mailbox_replies[j->arg], nfields, u->name,
                           &u->mailboxes[j->arg], &err) < 0) {
        dva_user_step_decode_failed(&u->mailbox_step, &err, where, "mailbox status",
                                    u->name);
        dva_read_doubt_generation(r);
    }
}

static void fail(dva_read *r, const dva_job *j, const dva_error *err)
{
    dva_user_step_fail(&dva_read_result(r)->users[j->user].mailbox_step, err);
}

const dva_collector dva_collect_mailbox = {
    .name = "mailbox status",
    .when = DVA_COLLECT_EACH_USER,
    .enabled = enabled,
    .start = start,
    .request = request,
    .answer = answer,
    .fail = fail,
};
