/* SPDX-License-Identifier: MIT */
/* Edge-triggered notifications and logs: see plugin_notify.h. */
#include "plugin_notify.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "plugin_layout.h"
#include "plugin_names.h"

#define KEY_BUF 512

/* Kinds of state entries, the first part of their keys. */
#define KEY_QUOTA_FAILING "quota-failing"
#define KEY_MAILBOX_FAILING "mailbox-failing"
#define KEY_LEVEL "level"

dvp_level dvp_quota_level(uint64_t percent, double warning, double failure)
{
    if (failure > 0 && (double)percent >= failure)
        return DVP_LEVEL_FAILURE;
    if (warning > 0 && (double)percent >= warning)
        return DVP_LEVEL_WARNING;
    return DVP_LEVEL_OKAY;
}

void dvp_notify_init(dvp_notify *notify, const char *instance, const char *host,
                     double quota_warning, double quota_failure, dvp_logger *log)
{
    memset(notify, 0, sizeof(*notify));
    notify->instance = instance;
    notify->host = host;
    notify->quota_warning = quota_warning;
    notify->quota_failure = quota_failure;
    notify->log = log;
    dvp_map_init(&notify->state, DVP_NOTIFY_MAX_STATE);
    dvp_health_notify_init(&notify->health, true);
}

void dvp_notify_free(dvp_notify *notify)
{
    dvp_map_free(&notify->state);
    dvp_health_notify_free(&notify->health);
}

__attribute__((format(printf, 7, 0))) static void
send_as(dvp_notify *n, const char *plugin_instance, int severity, cdtime_t now,
        const char *type, const char *type_instance, const char *fmt, va_list ap)
{
    notification_t notif;
    memset(&notif, 0, sizeof(notif));
    notif.severity = severity;
    notif.time = now;
    vsnprintf(notif.message, sizeof(notif.message), fmt, ap);
    dvp_redact(notif.message, n->log->password);
    const char *host = n->host != NULL ? n->host : hostname_g;
    snprintf(notif.host, sizeof(notif.host), "%s", host != NULL ? host : "");
    snprintf(notif.plugin, sizeof(notif.plugin), "%s", DVP_PLUGIN_NAME);
    snprintf(notif.plugin_instance, sizeof(notif.plugin_instance), "%s",
             plugin_instance);
    snprintf(notif.type, sizeof(notif.type), "%s", type);
    snprintf(notif.type_instance, sizeof(notif.type_instance), "%s", type_instance);
    plugin_dispatch_notification(&notif);
}

__attribute__((format(printf, 6, 7))) static void
send_notification(dvp_notify *n, int severity, cdtime_t now, const char *type,
                  const char *type_instance, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    send_as(n, n->instance, severity, now, type, type_instance, fmt, ap);
    va_end(ap);
}

/* A quota notification, named as the percent value it is about: ti is the
 * classic type instance "<user>-<root>-<resource>" (user_len bytes of
 * user), moved to the labels layout if the instance uses it (and it fits). */
__attribute__((format(printf, 6, 7))) static void send_quota(dvp_notify *n,
                                                             int severity, cdtime_t now,
                                                             char *ti, size_t user_len,
                                                             const char *fmt, ...)
{
    char pi[DATA_MAX_NAME_LEN];
    snprintf(pi, sizeof(pi), "%s", n->instance);
    if (n->layout == DVA_LAYOUT_LABELS && ti[0] != '\0')
        (void)dvp_layout_labels(n->instance, ti, (dvp_layout_key){0, user_len}, pi, ti,
                                DATA_MAX_NAME_LEN);
    va_list ap;
    va_start(ap, fmt);
    send_as(n, pi, severity, now, "percent", ti, fmt, ap);
    va_end(ap);
}

static const char *reason(const dva_error *err)
{
    return err->message[0] != '\0' ? err->message : dva_errcode_name(err->code);
}

/* The length of reason() without a closing full stop, for messages that go
 * on after it. */
static int reason_length(const dva_error *err)
{
    size_t len = strlen(reason(err));
    if (len > 0 && reason(err)[len - 1] == '.')
        len--;
    return (int)len;
}

/* Returns true when the server is up (and the rest should be looked at). */
static bool report_server(dvp_notify *n, const dva_scrape_result *r, cdtime_t now)
{
    bool was_seen = n->seen, was_up = n->up;
    n->seen = true;
    n->up = r->up;
    if (!r->up) {
        if (!was_seen || was_up) {
            dvp_log(n->log, LOG_ERR, "Dovecot does not answer: %s",
                    reason(&r->down_reason));
            send_notification(n, NOTIF_FAILURE, now, "bool", "up",
                              "Dovecot instance \"%s\" is down: %s", n->instance,
                              reason(&r->down_reason));
        }
        return false;
    }
    if (was_seen && !was_up) {
        dvp_log(n->log, LOG_INFO, "Dovecot answers again");
        send_notification(n, NOTIF_OKAY, now, "bool", "up",
                          "Dovecot instance \"%s\" is up again", n->instance);
    }
    return true;
}

static void report_step(dvp_notify *n, const dva_scrape_step *step, bool *failing,
                        const char *what)
{
    if (!step->attempted)
        return;
    bool now_failing = step->error.code != DVA_OK;
    if (now_failing && !*failing)
        dvp_log(n->log, LOG_WARNING,
                "%s failed: %s; its values are not reported until it works again", what,
                reason(&step->error));
    else if (!now_failing && *failing)
        dvp_log(n->log, LOG_INFO, "%s works again", what);
    *failing = now_failing;
}

static void note_state_full(dvp_notify *n)
{
    if (n->state_full_noted)
        return;
    n->state_full_noted = true;
    dvp_log(n->log, LOG_WARNING,
            "more than %d quota conditions to track; new ones are not notified",
            DVP_NOTIFY_MAX_STATE);
}

/* A user's step (quota or mailbox status) that may fail on its own. */
static void report_user_step(dvp_notify *n, const char *kind, const char *what,
                             const char *user, const dva_user_step *user_step)
{
    if (!user_step->attempted)
        return;
    dva_scrape_step full = {.attempted = true}, *step = &full;
    full.error.code = user_step->error.code;
    if (full.error.code != DVA_OK) /* the text only then */
        dva_user_step_error(user_step, &full.error);
    char buf[KEY_BUF];
    size_t len;
    const char *parts[] = {kind, user};
    char *key = dvp_key_join(buf, sizeof(buf), &len, parts, 2);
    if (key == NULL)
        return;
    if (step->error.code != DVA_OK) {
        bool added = false;
        if (dvp_map_touch(&n->state, key, len, &added) == NULL)
            note_state_full(n);
        else if (added)
            dvp_log(n->log, LOG_WARNING,
                    "%s of user \"%s\" could not be read: %.*s; the other users are "
                    "still reported",
                    what, user, reason_length(&step->error), reason(&step->error));
    } else if (dvp_map_find(&n->state, key, len) != NULL) {
        dvp_log(n->log, LOG_INFO, "%s of user \"%s\" can be read again", what, user);
        dvp_map_remove(&n->state, key, len);
    }
    dvp_key_free(key, buf);
}

/* "100 KiB", "10 MiB", "1.5 GiB" from KiB. */
static void format_kib(char *out, size_t size, uint64_t kib)
{
    static const char *const units[] = {"KiB", "MiB", "GiB", "TiB", "PiB"};
    size_t u = 0;
    uint64_t div = 1;
    while (u + 1 < sizeof(units) / sizeof(units[0]) && kib >= div * 1024) {
        div *= 1024;
        u++;
    }
    double v = (double)kib / (double)div;
    if (kib % div == 0)
        snprintf(out, size, "%llu %s", (unsigned long long)(kib / div), units[u]);
    else
        snprintf(out, size, "%.1f %s", v, units[u]);
}

static void format_limit(char *out, size_t size, const dva_quota_row *row)
{
    char amount[32];
    if (row->unlimited) {
        snprintf(out, size, " (no limit)");
        return;
    }
    if (row->type == DVA_QUOTA_STORAGE)
        format_kib(amount, sizeof(amount), row->limit);
    else
        snprintf(amount, sizeof(amount), "%llu messages",
                 (unsigned long long)row->limit);
    snprintf(out, size, " of %s", amount);
}

static void report_quota_row(dvp_notify *n, const char *user, const dva_quota_row *row,
                             cdtime_t now)
{
    const char *resource;
    switch (row->type) {
    case DVA_QUOTA_STORAGE:
        resource = "storage";
        break;
    case DVA_QUOTA_MESSAGE:
        resource = "messages";
        break;
    default:
        return;
    }
    char buf[KEY_BUF];
    size_t len;
    const char *parts[] = {KEY_LEVEL, user, row->root, resource};
    char *key = dvp_key_join(buf, sizeof(buf), &len, parts, 4);
    if (key == NULL)
        return;
    dvp_map_entry *entry = dvp_map_find(&n->state, key, len);
    dvp_level prev = entry != NULL ? (dvp_level)entry->value : DVP_LEVEL_OKAY;
    if (entry != NULL)
        dvp_map_touch(&n->state, key, len, NULL); /* still observed */
    dvp_level level =
        row->error ? prev
                   : dvp_quota_level(row->percent, n->quota_warning, n->quota_failure);
    if (level == prev)
        goto out;
    if (level == DVP_LEVEL_OKAY) {
        dvp_map_remove(&n->state, key, len);
    } else {
        entry = dvp_map_touch(&n->state, key, len, NULL);
        if (entry == NULL) {
            note_state_full(n);
            goto out;
        }
        entry->value = (int)level;
    }

    char ti[DATA_MAX_NAME_LEN], limit[64], threshold[48];
    const char *ti_parts[] = {user, row->root, resource};
    if (!dvp_name_join(ti, sizeof(ti), ti_parts, 3))
        ti[0] = '\0'; /* the message still names everything */
    format_limit(limit, sizeof(limit), row);
    int severity;
    const char *state;
    if (level == DVP_LEVEL_FAILURE) {
        severity = NOTIF_FAILURE;
        state = "is at";
        snprintf(threshold, sizeof(threshold), "failure at %g%%", n->quota_failure);
    } else if (level == DVP_LEVEL_WARNING) {
        severity = NOTIF_WARNING;
        state = "is at";
        snprintf(threshold, sizeof(threshold), "warning at %g%%", n->quota_warning);
    } else {
        severity = NOTIF_OKAY;
        state = "is back at";
        if (n->quota_warning > 0)
            snprintf(threshold, sizeof(threshold), "warning at %g%%", n->quota_warning);
        else
            snprintf(threshold, sizeof(threshold), "failure at %g%%", n->quota_failure);
    }
    /* sanitising keeps the user's length */
    send_quota(n, severity, now, ti, strlen(user),
               "Quota of %s (%s, %s) %s %llu%%%s (%s)", user, row->root, resource,
               state, (unsigned long long)row->percent, limit, threshold);
out:
    dvp_key_free(key, buf);
}

static void report_user_quota(dvp_notify *n, const dva_scrape_user *u, cdtime_t now)
{
    report_user_step(n, KEY_QUOTA_FAILING, "quota", u->name, &u->quota_step);
    if (!u->quota_step.attempted || u->quota_step.error.code != DVA_OK)
        return;
    for (size_t i = 0; i < u->quota.nrows; i++)
        report_quota_row(n, u->name, &u->quota.rows[i], now);
}

/* A user whose quota came during the read has no rows left here. */
static void report_user(dvp_notify *n, const dva_scrape_user *u, cdtime_t now)
{
    if (!u->quota_delivered)
        report_user_quota(n, u, now);
    report_user_step(n, KEY_MAILBOX_FAILING, "mailbox status", u->name,
                     &u->mailbox_step);
}

/* The sender of the server-health notifications (plugin_health_notify.c). */
typedef struct {
    dvp_notify *n;
    cdtime_t now;
} health_sender;

static void health_send(void *ctx, int severity, const char *type,
                        const char *type_instance, const char *message)
{
    health_sender *s = ctx;
    send_notification(s->n, severity, s->now, type, type_instance, "%s", message);
}

/* Once per read that reached the server, before its first quota row. */
static void age_state(dvp_notify *n)
{
    if (n->aged)
        return;
    dvp_map_age(&n->state, DVP_NOTIFY_FORGET_READS);
    n->aged = true;
}

void dvp_notify_user_quota(dvp_notify *notify, const dva_scrape_user *user,
                           cdtime_t now)
{
    age_state(notify); /* rows came: the server is up */
    report_user_quota(notify, user, now);
}

void dvp_notify_result(dvp_notify *notify, const dva_scrape_result *result,
                       cdtime_t now)
{
    bool up = report_server(notify, result, now);
    if (!up) {
        notify->aged = false;
        return; /* while down, nothing else is known: keep the state as it is */
    }
    age_state(notify);
    notify->aged = false; /* for the next read */
    report_step(notify, &result->stats_step, &notify->stats_failing, "stats dump");
    report_step(notify, &result->who_step, &notify->who_failing, "who");
    report_step(notify, &result->users_step, &notify->users_failing,
                "listing users (QuotaUsers)");
    for (size_t i = 0; i < result->nusers; i++)
        report_user(notify, &result->users[i], now);
    health_sender sender = {notify, now};
    dvp_health_report(&notify->health, result, notify->instance, notify->log,
                      health_send, &sender);
}
