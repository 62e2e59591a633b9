/* Generation detection and version-related logging: see plugin_versions.h. */
#include "plugin_collectd.h"

#include "plugin_versions.h"

#include <stdio.h>

void dvp_versions_init(dvp_versions *v, dva_generation configured, dvp_logger *log)
{
    *v = (dvp_versions){.configured = configured,
                        .current = configured,
                        .known = configured,
                        .log = log};
}

static void log_unsupported(dvp_versions *v, const char *key, const char *what,
                            const dva_scrape_step *step)
{
    if (step->unsupported)
        dvp_log_once(v->log, LOG_NOTICE, key, "%s is not read: %s", what,
                     step->error.message);
}

static void report_oldstats(dvp_versions *v, size_t scope, const dva_scrape_step *step)
{
    const char *name = dva_oldstats_scope_name((dva_oldstats_scope)scope);
    if (!step->attempted)
        return;
    bool failing = step->error.code != DVA_OK;
    if (failing && !v->oldstats_failing[scope])
        dvp_log(v->log, LOG_WARNING,
                "old statistics (scope %s) cannot be read: %s; logged once until it "
                "works again",
                name, step->error.message);
    else if (!failing && v->oldstats_failing[scope])
        dvp_log(v->log, LOG_INFO, "old statistics (scope %s) can be read again", name);
    v->oldstats_failing[scope] = failing;
}

dva_generation dvp_versions_after_read(dvp_versions *v, const dva_scrape_result *r)
{
    bool auto_ = v->configured == DVA_GEN_AUTO;
    bool switching = auto_ && r->observed != DVA_GEN_AUTO && r->observed != v->known;
    if (switching) {
        if (v->known == DVA_GEN_AUTO)
            dvp_log(v->log, LOG_INFO,
                    "the server answers like Dovecot %s (seen in the reply to %s); "
                    "using its commands (DovecotVersion pins it)",
                    dva_generation_name(r->observed),
                    r->observed_by != NULL ? r->observed_by : "a command");
        else
            dvp_log(v->log, LOG_INFO,
                    "the server now answers like Dovecot %s, no longer like %s (seen "
                    "in the reply to %s); using its commands (DovecotVersion pins it)",
                    dva_generation_name(r->observed), dva_generation_name(v->known),
                    r->observed_by != NULL ? r->observed_by : "a command");
        v->known = r->observed;
    }
    if (auto_ && r->observed != DVA_GEN_AUTO)
        v->current = r->observed;
    else if (auto_ && (!r->up || r->generation_doubtful))
        /* It may come back as another generation (an upgrade restarts it),
         * or a per-user reply did not fit the generation used: the next
         * read asks again before its per-user requests. */
        v->current = DVA_GEN_AUTO;
    log_unsupported(v, "unsupported:stats", "stats dump", &r->stats_step);
    for (size_t i = 0; i < DVA_OLDSTATS_NSCOPES; i++) {
        char key[48];
        snprintf(key, sizeof(key), "unsupported:oldstats:%zu", i);
        char what[64];
        snprintf(what, sizeof(what), "old statistics (scope %s)",
                 dva_oldstats_scope_name((dva_oldstats_scope)i));
        log_unsupported(v, key, what, &r->oldstats[i].step);
        /* The read that revealed the generation failed for that reason:
         * the INFO line above said so. */
        if (!switching)
            report_oldstats(v, i, &r->oldstats[i].step);
    }
    return v->current;
}
