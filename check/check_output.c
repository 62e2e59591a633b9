/* SPDX-License-Identifier: MIT */
/* What the check tool prints and its status: see check_output.h. */
#include "check_output.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <string.h>

#include "plugin_notify.h"

#define SUMMARY_ITEMS_MAX 5

const char *chk_status_name(chk_status status)
{
    switch (status) {
    case CHK_OK:
        return "OK";
    case CHK_WARNING:
        return "WARNING";
    case CHK_CRITICAL:
        return "CRITICAL";
    case CHK_UNKNOWN:
        return "UNKNOWN";
    }
    return "UNKNOWN";
}

/* Appends to a summary, dropping what does not fit. */
__attribute__((format(printf, 3, 4))) static void append(char *buf, size_t size,
                                                         const char *fmt, ...)
{
    size_t len = strlen(buf);
    if (len + 1 >= size)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf + len, size - len, fmt, ap);
    va_end(ap);
}

typedef struct {
    size_t count[3]; /* by dvp_level */
    char items[3][768];
    size_t failed_steps;
    char failed[512];
    size_t quotas;
} tally;

static void note_step(tally *t, const dva_scrape_step *step, const char *what,
                      const char *user)
{
    if (!step->attempted || step->error.code == DVA_OK)
        return;
    if (t->failed_steps++ < SUMMARY_ITEMS_MAX)
        append(t->failed, sizeof(t->failed), "%s%s%s%s", t->failed[0] ? ", " : "", what,
               user ? " of " : "", user ? user : "");
}

static void note_user_step(tally *t, const dva_user_step *step, const char *what,
                           const char *user)
{
    dva_scrape_step s = {.attempted = step->attempted};
    s.error.code = step->error.code;
    note_step(t, &s, what, user);
}

static void note_quota(tally *t, const char *user, const dva_quota_row *row,
                       double warning, double failure)
{
    if (row->error || row->unlimited ||
        (row->type != DVA_QUOTA_STORAGE && row->type != DVA_QUOTA_MESSAGE))
        return;
    t->quotas++;
    dvp_level level = dvp_quota_level(row->percent, warning, failure);
    if (level == DVP_LEVEL_OKAY)
        return;
    if (t->count[level]++ < SUMMARY_ITEMS_MAX)
        append(t->items[level], sizeof(t->items[level]), "%s%s (%s, %s) %" PRIu64 "%%",
               t->items[level][0] ? ", " : "", user, row->root,
               row->type == DVA_QUOTA_STORAGE ? "storage" : "messages", row->percent);
}

void chk_verdict_of(const dva_scrape_result *r, double warning, double failure,
                    const char *where, chk_verdict *out)
{
    memset(out, 0, sizeof(*out));
    if (!r->up) {
        out->status = CHK_UNKNOWN;
        snprintf(out->summary, sizeof(out->summary),
                 "Dovecot at %s does not answer: %s", where,
                 r->down_reason.message[0] ? r->down_reason.message
                                           : dva_errcode_name(r->down_reason.code));
        return;
    }
    tally t;
    memset(&t, 0, sizeof(t));
    note_step(&t, &r->stats_step, "stats dump", NULL);
    note_step(&t, &r->who_step, "who", NULL);
    note_step(&t, &r->users_step, "the user listing", NULL);
    for (size_t i = 0; i < r->nusers; i++) {
        const dva_scrape_user *u = &r->users[i];
        note_user_step(&t, &u->quota_step, "quota", u->name);
        note_user_step(&t, &u->mailbox_step, "mailbox status", u->name);
        if (u->quota_step.attempted && u->quota_step.error.code == DVA_OK)
            for (size_t q = 0; q < u->quota.nrows; q++)
                note_quota(&t, u->name, &u->quota.rows[q], warning, failure);
    }

    char *s = out->summary;
    size_t size = sizeof(out->summary);
    if (t.count[DVP_LEVEL_FAILURE] > 0) {
        out->status = CHK_CRITICAL;
        append(s, size, "%zu quota%s at or above %g%%: %s; ",
               t.count[DVP_LEVEL_FAILURE], t.count[DVP_LEVEL_FAILURE] == 1 ? "" : "s",
               failure, t.items[DVP_LEVEL_FAILURE]);
    }
    if (t.failed_steps > 0) {
        if (out->status == CHK_OK)
            out->status = CHK_UNKNOWN;
        append(s, size, "%zu step%s failed: %s; ", t.failed_steps,
               t.failed_steps == 1 ? "" : "s", t.failed);
    }
    if (t.count[DVP_LEVEL_WARNING] > 0) {
        if (out->status == CHK_OK)
            out->status = CHK_WARNING;
        append(s, size, "%zu quota%s at or above %g%%: %s; ",
               t.count[DVP_LEVEL_WARNING], t.count[DVP_LEVEL_WARNING] == 1 ? "" : "s",
               warning, t.items[DVP_LEVEL_WARNING]);
    }
    append(s, size, "%s answered in %.3f s; %zu user%s, %zu quota%s checked", where,
           (double)r->duration_ms / 1000.0, r->nusers, r->nusers == 1 ? "" : "s",
           t.quotas, t.quotas == 1 ? "" : "s");
}

void chk_print_status(FILE *out, const chk_verdict *v)
{
    fprintf(out, "DOVECOT %s - %s\n", chk_status_name(v->status), v->summary);
}

void chk_format_value(const chk_value *v, char *buf, size_t size)
{
    switch (v->ds_type) {
    case CHK_GAUGE:
        if (isnan(v->value.gauge))
            snprintf(buf, size, "U");
        else
            snprintf(buf, size, "%.15g", v->value.gauge);
        return;
    case CHK_DERIVE:
        snprintf(buf, size, "%" PRIi64, (int64_t)v->value.derive);
        return;
    case CHK_COUNTER:
        snprintf(buf, size, "%llu", (unsigned long long)v->value.counter);
        return;
    case CHK_ABSOLUTE:
        snprintf(buf, size, "%" PRIu64, (uint64_t)v->value.absolute);
        return;
    }
    snprintf(buf, size, "U");
}

/* type-type_instance, or type alone for an empty type instance; after
 * "dovecot-<plugin_instance>/" when that is not the instance's own
 * (IdentifierLayout "labels": plugin/plugin_layout.h). */
static void short_name(const chk_value *v, const char *instance, char *buf, size_t size)
{
    bool own = strcmp(v->plugin_instance, instance) == 0;
    snprintf(buf, size, "%s%s%s%s%s%s", own ? "" : v->plugin, own ? "" : "-",
             own ? "" : v->plugin_instance, own ? "" : "/", v->type,
             v->type_instance[0] ? "-" : "");
    size_t len = strlen(buf);
    snprintf(buf + len, size - len, "%s", v->type_instance);
}

static const char *severity_name(int severity)
{
    switch (severity) {
    case NOTIF_FAILURE:
        return "FAILURE";
    case NOTIF_WARNING:
        return "WARNING";
    case NOTIF_OKAY:
        return "OKAY";
    }
    return "?";
}

void chk_print_table(FILE *out, const chk_capture *c)
{
    if (c->nvalues > 0)
        fprintf(out, "%s/%s-%s: %zu values\n", c->values[0].host, c->values[0].plugin,
                c->values[0].plugin_instance, c->nvalues);
    size_t width = 0;
    char name[4 * DATA_MAX_NAME_LEN + 4], value[64];
    const char *instance = c->nvalues > 0 ? c->values[0].plugin_instance : "";
    for (size_t i = 0; i < c->nvalues; i++) {
        short_name(&c->values[i], instance, name, sizeof(name));
        if (strlen(name) > width)
            width = strlen(name);
    }
    if (width > 70)
        width = 70;
    for (size_t i = 0; i < c->nvalues; i++) {
        short_name(&c->values[i], instance, name, sizeof(name));
        chk_format_value(&c->values[i], value, sizeof(value));
        fprintf(out, "  %-*s  %s\n", (int)width, name, value);
    }
    if (c->nnotifications == 0)
        return;
    fprintf(out, "notifications the plugin would send:\n");
    for (size_t i = 0; i < c->nnotifications; i++) {
        const chk_notification *n = &c->notifications[i];
        fprintf(out, "  %-7s %s%s%s: %s\n", severity_name(n->severity), n->type,
                n->type_instance[0] ? "-" : "", n->type_instance, n->message);
    }
}

/* A quoted identifier part: collectd's parser takes \" and \\ in quotes. */
static void put_quoted(FILE *out, const char *s)
{
    for (; *s != '\0'; s++) {
        if (*s == '"' || *s == '\\')
            fputc('\\', out);
        fputc(*s, out);
    }
}

void chk_print_putval(FILE *out, const chk_capture *c)
{
    char value[64];
    for (size_t i = 0; i < c->nvalues; i++) {
        const chk_value *v = &c->values[i];
        fputs("PUTVAL \"", out);
        put_quoted(out, v->host);
        fputc('/', out);
        put_quoted(out, v->plugin);
        if (v->plugin_instance[0] != '\0') {
            fputc('-', out);
            put_quoted(out, v->plugin_instance);
        }
        fputc('/', out);
        put_quoted(out, v->type);
        if (v->type_instance[0] != '\0') {
            fputc('-', out);
            put_quoted(out, v->type_instance);
        }
        fputc('"', out);
        if (v->interval > 0)
            fprintf(out, " interval=%.3f", CDTIME_T_TO_DOUBLE(v->interval));
        chk_format_value(v, value, sizeof(value));
        fprintf(out, " %.3f:%s\n", CDTIME_T_TO_DOUBLE(v->time), value);
    }
}
