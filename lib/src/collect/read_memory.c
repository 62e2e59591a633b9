/* SPDX-License-Identifier: MIT */
/* From read to read: the generation and the lines it deserves (see
 * doveadm/read_memory.h). */
#include "doveadm/read_memory.h"

#include <stdarg.h>
#include <stdio.h>

#include "doveadm/collector.h"

static void say(dva_notice_fn *notice, void *ctx, dva_log_level level, const char *key,
                const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static void say(dva_notice_fn *notice, void *ctx, dva_log_level level, const char *key,
                const char *fmt, ...)
{
    char msg[2 * DVA_ERROR_MESSAGE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    notice(ctx, level, key, msg);
}

void dva_read_memory_init(dva_read_memory *m, dva_generation configured)
{
    *m = (dva_read_memory){
        .configured = configured, .current = configured, .known = configured};
}

static void log_unsupported(dva_notice_fn *notice, void *ctx, const char *key,
                            const char *what, const dva_scrape_step *step)
{
    if (step->unsupported)
        say(notice, ctx, DVA_LOG_NOTICE, key, "%s is not read: %s", what,
            step->error.message);
}

static void report_oldstats(dva_read_memory *m, size_t scope,
                            const dva_scrape_step *step, dva_notice_fn *notice,
                            void *ctx)
{
    const char *name = dva_oldstats_scope_name((dva_oldstats_scope)scope);
    if (!step->attempted)
        return;
    bool failing = step->error.code != DVA_OK;
    if (failing && !m->oldstats_failing[scope])
        say(notice, ctx, DVA_LOG_WARNING, NULL,
            "old statistics (scope %s) cannot be read: %s; logged once until it "
            "works again",
            name, step->error.message);
    else if (!failing && m->oldstats_failing[scope])
        say(notice, ctx, DVA_LOG_INFO, NULL,
            "old statistics (scope %s) can be read again", name);
    m->oldstats_failing[scope] = failing;
}

dva_generation dva_read_memory_after(dva_read_memory *m, const dva_scrape_result *r,
                                     dva_notice_fn *notice, void *ctx)
{
    bool auto_ = m->configured == DVA_GEN_AUTO;
    bool switching = auto_ && r->observed != DVA_GEN_AUTO && r->observed != m->known;
    const char *by = r->observed_by != NULL ? r->observed_by : "a command";
    if (switching) {
        if (m->known == DVA_GEN_AUTO)
            say(notice, ctx, DVA_LOG_INFO, NULL,
                "the server answers like Dovecot %s (seen in the reply to %s); "
                "using its commands (DovecotVersion pins it)",
                dva_generation_name(r->observed), by);
        else
            say(notice, ctx, DVA_LOG_INFO, NULL,
                "the server now answers like Dovecot %s, no longer like %s (seen "
                "in the reply to %s); using its commands (DovecotVersion pins it)",
                dva_generation_name(r->observed), dva_generation_name(m->known), by);
        m->known = r->observed;
    }
    if (auto_ && r->observed != DVA_GEN_AUTO)
        m->current = r->observed;
    else if (auto_ && (!r->up || r->generation_doubtful))
        /* It may come back as another generation (an upgrade restarts it),
         * or a per-user reply did not fit the generation used: the next
         * read asks again before its per-user requests. */
        m->current = DVA_GEN_AUTO;
    log_unsupported(notice, ctx, "unsupported:stats", "stats dump", &r->stats_step);
    for (size_t i = 0; i < r->ncollected; i++) {
        const dva_collected *c = &r->collected[i];
        char key[80];
        snprintf(key, sizeof(key), "unsupported:%s", c->collector->name);
        log_unsupported(notice, ctx, key, c->collector->name, &c->step);
    }
    for (size_t i = 0; i < DVA_OLDSTATS_NSCOPES; i++) {
        char key[48];
        snprintf(key, sizeof(key), "unsupported:oldstats:%zu", i);
        char what[64];
        snprintf(what, sizeof(what), "old statistics (scope %s)",
                 dva_oldstats_scope_name((dva_oldstats_scope)i));
        log_unsupported(notice, ctx, key, what, &r->oldstats[i].step);
        /* The read that revealed the generation failed for that reason:
         * the INFO line above said so. */
        if (!switching)
            report_oldstats(m, i, &r->oldstats[i].step, notice, ctx);
    }
    return m->current;
}

void dva_read_explain(const dva_scrape_plan *plan, const dva_scrape_result *r,
                      dva_notice_fn *notice, void *ctx)
{
    if (r->scan_step.error.code != DVA_OK)
        say(notice, ctx, DVA_LOG_WARNING, "scan",
            "the server-side quota scan did not work (%s); its users were read one "
            "request each. Check that the doveadm server can read files in %s, or "
            "set QuotaScan false.",
            r->scan_step.error.message, plan->scan_dir);
    if (r->quota_all_step.error.code != DVA_OK)
        say(notice, ctx, DVA_LOG_NOTICE, "quota-all",
            "the server did not list every user's quota for 'quota get -A' (%s); its "
            "users are listed with 'doveadm user' and read one request each, as on "
            "Dovecot 2.3",
            r->quota_all_step.error.message);
    if (r->user_parts > 1)
        say(notice, ctx, DVA_LOG_NOTICE, "max-users",
            "the user lists name %zu users, more than MaxUsers %zu: each read takes "
            "one of %u parts of them (by a hash of the name), so every user is read "
            "once in %u reads and their values carry %u times the interval",
            r->listed_users, plan->max_users, r->user_parts, r->user_parts,
            r->user_parts);
    if (r->users_dropped > 0)
        say(notice, ctx, DVA_LOG_WARNING, "max-users-dropped",
            "%zu users did not fit MaxUsers %zu in this read and are not read; raise "
            "MaxUsers",
            r->users_dropped, plan->max_users);
}
