/* SPDX-License-Identifier: MIT */
/* Old statistics (Dovecot 2.2 and 2.3): `oldstats dump <scope>` (2.2:
 * `stats dump <scope>`) for each scope the plan names, each a server-wide
 * request on a connection of its own, decoded with the scope's column
 * layout into result->oldstats[scope], keyed scopes cut to the top rows. */
#include <stdio.h>

#include "read.h"

#define DEFAULT_SORT "num_cmds"

static bool enabled(const dva_read *r)
{
    const dva_scrape_plan *p = dva_read_plan(r);
    for (size_t i = 0; i < DVA_OLDSTATS_NSCOPES; i++)
        if (p->oldstats[i])
            return true;
    return false;
}

static size_t connections(const dva_read *r)
{
    (void)r;
    return DVA_OLDSTATS_NSCOPES;
}

static void start(dva_read *r, size_t user)
{
    (void)user;
    const dva_scrape_plan *p = dva_read_plan(r);
    const dva_generation_info *g = dva_generation_info_of(p->generation);
    for (size_t i = 0; i < DVA_OLDSTATS_NSCOPES; i++) {
        dva_scrape_oldstats *o = &dva_read_result(r)->oldstats[i];
        if (!p->oldstats[i])
            continue;
        if (g->oldstats_command == NULL) {
            dva_step_unsupported(&o->step, g->no_oldstats);
            continue;
        }
        dva_error err;
        if (dva_oldstats_layout_init(&o->layout, p->generation, (dva_oldstats_scope)i,
                                     p->oldstats_fields, p->noldstats_fields,
                                     &err) < 0) {
            dva_step_fail(&o->step, &err);
            continue;
        }
        dva_read_solo(r, &dva_collect_oldstats, i);
    }
}

static int request(dva_read *r, const dva_job *j, dva_command *cmd,
                   const char **username, dva_error *err)
{
    (void)username, (void)err;
    dva_oldstats_command(cmd, &dva_read_result(r)->oldstats[j->arg].layout);
    return 0;
}

/* Keyed scopes keep the plan's top rows by its sort column. */
static void keep_top(dva_read *r, size_t scope)
{
    const dva_scrape_plan *p = dva_read_plan(r);
    dva_scrape_oldstats *o = &dva_read_result(r)->oldstats[scope];
    if (scope == DVA_OLDSTATS_GLOBAL || p->oldstats_top == 0)
        return;
    const char *by = p->oldstats_sort_by != NULL ? p->oldstats_sort_by : DEFAULT_SORT;
    long column = dva_oldstats_column(&o->layout, by);
    if (column < 0) {
        dva_fail(&o->step.error, DVA_ERR_USAGE,
                 "old-stats scope %s has no column \"%s\" to keep the top rows by",
                 dva_oldstats_scope_name((dva_oldstats_scope)scope), by);
        dva_oldstats_free(&o->stats);
        return;
    }
    dva_oldstats_keep_top(&o->stats, (size_t)column, p->oldstats_top);
}

static void answer(dva_read *r, const dva_job *j, const char *where)
{
    dva_scrape_oldstats *o = &dva_read_result(r)->oldstats[j->arg];
    dva_error err;
    dva_read_take_reply(r, &o->reply);
    o->step.attempted = true;
    if (dva_oldstats_decode(&o->reply, &o->layout, &o->stats, &err) < 0) {
        dva_command cmd;
        dva_oldstats_command(&cmd, &o->layout);
        char command[64];
        snprintf(command, sizeof(command), "%s %s", cmd.argv[0], cmd.argv[1]);
        dva_step_decode_failed(&o->step, &err, where, command, NULL);
        return;
    }
    keep_top(r, j->arg);
}

static void fail(dva_read *r, const dva_job *j, const dva_error *err)
{
    dva_step_fail(&dva_read_result(r)->oldstats[j->arg].step, err);
}

const dva_collector dva_collect_oldstats = {
    .name = "oldstats dump",
    .when = DVA_COLLECT_AT_START,
    .enabled = enabled,
    .connections = connections,
    .start = start,
    .request = request,
    .answer = answer,
    .fail = fail,
};
