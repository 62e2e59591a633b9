/* SPDX-License-Identifier: MIT */
/* One read's results -> collectd values: the table is in plugin_submit.h. */
#include "plugin_submit.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plugin_names.h"

/* Bound on identifiers remembered per read (to dispatch each once). */
#define SEEN_MAX ((size_t)1 << 22)
/* What the set may keep of its memory from one read to the next. */
#define SEEN_KEEP_BYTES ((size_t)256 << 10)

const char *const dvp_mailbox_fields[DVP_MAILBOX_NFIELDS] = {"messages", "unseen",
                                                             "vsize"};

typedef dvp_batch batch;

/* A string literal with its length, for the names built per value. */
typedef struct {
    const char *s;
    size_t len;
} lit;
#define LIT(x) ((lit){(x), sizeof(x) - 1})

void dvp_submit_init(dvp_submit *submit, const char *instance, const char *host,
                     cdtime_t interval, dvp_logger *log)
{
    memset(submit, 0, sizeof(*submit));
    submit->instance = instance;
    submit->host = host;
    submit->interval = interval;
    submit->log = log;
    dvp_seen_init(&submit->seen, SEEN_MAX);
    dvp_rowset_init(&submit->rows);
    dvp_resets_init(&submit->resets, log);
    dvp_health_values_init(&submit->health, log);
    dvp_series_init(&submit->series, DVA_QUOTA_SERIES_USER, 0, 0);
}

void dvp_submit_free(dvp_submit *submit)
{
    dvp_seen_free(&submit->seen);
    dvp_rowset_free(&submit->rows);
    dvp_resets_free(&submit->resets);
    dvp_health_values_free(&submit->health);
    dvp_series_free(&submit->series);
}

/* "long:<type>/<part>-<part>..." unsanitised and uncut, the key of the
 * warning about a name too long; NULL when out of memory. */
static char *long_name_key(const char *type, const char *const *parts, size_t nparts,
                           size_t *name_len)
{
    size_t n = nparts > 0 ? nparts - 1 : 0;
    for (size_t i = 0; i < nparts; i++)
        n += strlen(parts[i]);
    *name_len = n;
    size_t size = strlen("long:") + strlen(type) + 1 + n + 1;
    char *key = malloc(size);
    if (key == NULL)
        return NULL;
    size_t pos = (size_t)snprintf(key, size, "long:%s/", type);
    for (size_t i = 0; i < nparts; i++)
        pos +=
            (size_t)snprintf(key + pos, size - pos, "%s%s", i > 0 ? "-" : "", parts[i]);
    return key;
}

/* A value's identifier as the key of the seen-set, "type NUL
 * type_instance", hashed and its slot prefetched before the value is
 * dispatched (see dvp_seen_prefetch). Quota values are checked one row at
 * a time instead (first_row()). */
typedef struct {
    const char *type;
    size_t tlen;
    char key[2 * DATA_MAX_NAME_LEN + 1]; /* NUL-terminated */
    size_t len;                          /* of key */
    uint64_t hash;
} ident;

/* id = type NUL ti last; ti and last: ilen + last.len < DATA_MAX_NAME_LEN
 * bytes, already sanitised. */
static void ident_set(const batch *b, ident *id, lit type, const char *ti, size_t ilen,
                      lit last)
{
    id->type = type.s;
    id->tlen = type.len < DATA_MAX_NAME_LEN ? type.len : DATA_MAX_NAME_LEN;
    char *k = id->key;
    memcpy(k, type.s, id->tlen);
    k[id->tlen] = '\0'; /* the two parts stay apart */
    memcpy(k + id->tlen + 1, ti, ilen);
    memcpy(k + id->tlen + 1 + ilen, last.s, last.len);
    id->len = id->tlen + 1 + ilen + last.len;
    k[id->len] = '\0';
    id->hash = dvp_seen_hash(k, id->len);
    dvp_seen_prefetch(&b->s->seen, id->hash);
}

/* b->vl (named the classic way) in the labels layout, on a copy: the batch
 * keeps the instance as its plugin instance. */
static void dispatch_labels(batch *b)
{
    value_list_t vl = b->vl;
    if (!dvp_layout_labels(b->s->instance, b->vl.type_instance, b->key,
                           vl.plugin_instance, vl.type_instance,
                           sizeof(vl.plugin_instance))) {
        char once[DATA_MAX_NAME_LEN + 16];
        snprintf(once, sizeof(once), "long-pi:%s", b->vl.type_instance);
        dvp_log_once(b->s->log, LOG_WARNING, once,
                     "the plugin instance of %s-%s in the labels layout is more than "
                     "the %d bytes collectd allows; its values are not reported",
                     b->s->instance, b->vl.type_instance, DATA_MAX_NAME_LEN - 1);
        return;
    }
    plugin_dispatch_values(&vl);
    b->count++;
}

static void warn_duplicate(batch *b, const char *type, const char *ti)
{
    char once[3 * DATA_MAX_NAME_LEN];
    snprintf(once, sizeof(once), "dup:%s/%s", type, ti);
    dvp_log_once(b->s->log, LOG_WARNING, once,
                 "two values would be reported as %s-%s in one read (names that "
                 "differ only in characters outside [A-Za-z0-9@._+=-], or a mailbox "
                 "matched twice); only the first is reported",
                 type, ti);
}

/* Dispatches value as id (its duplicates ruled out already). */
static void emit(batch *b, const ident *id, value_t value)
{
    const char *ti = id->key + id->tlen + 1;
    memcpy(b->vl.type_instance, ti, id->len - id->tlen); /* with its NUL */
    b->value = value;
    b->vl.interval = b->interval;
    if (b->vl_type != id->type) { /* the same string: nothing to copy */
        size_t tlen = id->tlen < sizeof(b->vl.type) ? id->tlen : sizeof(b->vl.type) - 1;
        memcpy(b->vl.type, id->type, tlen);
        b->vl.type[tlen] = '\0';
        b->vl_type = id->type;
    }
    if (b->key.len > 0 && b->s->layout == DVA_LAYOUT_LABELS) {
        dispatch_labels(b);
        return;
    }
    plugin_dispatch_values(&b->vl);
    b->count++;
}

/* Dispatches value as id, unless id was dispatched before in this read. */
static void dispatch_ident(batch *b, const ident *id, value_t value,
                           bool quiet_duplicate)
{
    int rc = dvp_seen_add_hashed(&b->s->seen, id->key, id->len, id->hash);
    /* rc < 0: cannot tell; better a duplicate than a lost value */
    if (rc == 0) {
        if (!quiet_duplicate)
            warn_duplicate(b, id->type, id->key + id->tlen + 1);
        return;
    }
    emit(b, id, value);
}

static void dispatch(batch *b, const char *type, const char *const *parts,
                     size_t nparts, value_t value, bool quiet_duplicate)
{
    dvp_submit *s = b->s;
    char *ti = b->vl.type_instance;
    if (!dvp_name_join(ti, sizeof(b->vl.type_instance), parts, nparts)) {
        size_t len = 0;
        char *key = long_name_key(type, parts, nparts, &len);
        if (key != NULL)
            dvp_log_once(s->log, LOG_WARNING, key,
                         "the %s name \"%.60s...\" is %zu bytes long, more than the %d "
                         "collectd allows; its values are not reported",
                         type, ti, len, DATA_MAX_NAME_LEN - 1);
        free(key);
        return;
    }
    ident id;
    ident_set(b, &id, (lit){type, strlen(type)}, ti, strlen(ti), LIT(""));
    dispatch_ident(b, &id, value, quiet_duplicate);
}

static void gauge(batch *b, const char *type, const char *const *parts, size_t nparts,
                  double v)
{
    if (isnan(v))
        return;
    dispatch(b, type, parts, nparts, (value_t){.gauge = v}, false);
}

static void derive(batch *b, const char *type, const char *const *parts, size_t nparts,
                   uint64_t v, bool quiet_duplicate)
{
    derive_t d = v > (uint64_t)INT64_MAX ? INT64_MAX : (derive_t)v;
    dispatch(b, type, parts, nparts, (value_t){.derive = d}, quiet_duplicate);
}

static bool step_ok(const dva_scrape_step *step)
{
    return step->attempted && step->error.code == DVA_OK;
}

static bool user_ok(const dva_user_step *step)
{
    return step->attempted && step->error.code == DVA_OK;
}

static void submit_self(batch *b, const dva_scrape_result *r)
{
    const char *up[] = {"up"}, *took[] = {"read"};
    gauge(b, "bool", up, 1, r->up ? 1.0 : 0.0);
    gauge(b, "duration", took, 1, (double)r->duration_ms / 1000.0);
}

static void submit_stats_row(batch *b, const dva_stats_row *row)
{
    static const char *const stat_names[] = {"min",    "max",    "avg",
                                             "median", "stddev", "p95"};
    static const char *const us_names[] = {"min_us",    "max_us",    "avg_us",
                                           "median_us", "stddev_us", "p95_us"};
    const double stat_values[] = {row->min,    row->max,    row->avg,
                                  row->median, row->stddev, row->p95};

    const char *count[] = {row->metric};
    /* Every field row repeats the metric's count: dispatch it once. */
    derive(b, "derive", count, 1,
           dvp_resets_value(&b->s->resets, row->metric, DVP_RESETS_COUNT, row->count),
           true);

    if (strcmp(row->field, "duration") == 0) {
        const char *sum[] = {row->metric, "sum_us"};
        derive(b, "derive", sum, 2,
               dvp_resets_value(&b->s->resets, row->metric, row->field, row->sum),
               false);
        for (size_t i = 0; i < 6; i++) {
            const char *parts[] = {row->metric, us_names[i]};
            gauge(b, "gauge", parts, 2, stat_values[i]);
        }
        return;
    }
    const char *sum[] = {row->metric, row->field, "sum"};
    derive(b, "derive", sum, 3,
           dvp_resets_value(&b->s->resets, row->metric, row->field, row->sum), false);
    for (size_t i = 0; i < 6; i++) {
        const char *parts[] = {row->metric, row->field, stat_names[i]};
        gauge(b, "gauge", parts, 3, stat_values[i]);
    }
}

static void submit_stats(batch *b, const dva_scrape_result *r)
{
    if (!step_ok(&r->stats_step))
        return;
    dvp_resets_begin(&b->s->resets, &r->stats); /* a reload restarts them */
    for (size_t i = 0; i < r->stats.nrows; i++) {
        const dva_stats_row *row = &r->stats.rows[i];
        if (row->metric != NULL && row->field != NULL)
            submit_stats_row(b, row);
    }
}

static void submit_who(batch *b, const dva_scrape_result *r)
{
    if (!step_ok(&r->who_step))
        return;
    const dva_who_summary *w = &r->who_summary;
    /* Totals first: they keep the empty type instance. */
    gauge(b, "users", NULL, 0, (double)w->users);
    gauge(b, "current_sessions", NULL, 0, (double)w->sessions);
    for (size_t i = 0; i < w->nservices; i++) {
        const char *service[] = {w->services[i].service};
        gauge(b, "users", service, 1, (double)w->services[i].users);
        gauge(b, "current_sessions", service, 1, (double)w->services[i].sessions);
    }
}

/* The sink of the server-health values (plugin_health.c). */
static void health_gauge(void *ctx, const char *type, const char *const *parts,
                         size_t nparts, double v)
{
    gauge(ctx, type, parts, nparts, v);
}

static void health_derive(void *ctx, const char *type, const char *const *parts,
                          size_t nparts, uint64_t v)
{
    derive(ctx, type, parts, nparts, v, false);
}

/* A sanitised name prefix ("<user>-", "<user>-<root>-") built once and
 * shared by the values under it: sanitising is the bulk of a value's cost. */
typedef struct {
    char name[DATA_MAX_NAME_LEN];
    size_t len;
    bool fits; /* false: too long, the values go the slow way and warn */
} name_prefix;

/* dst = base + part sanitised + '-'. */
static void prefix_extend(name_prefix *dst, const name_prefix *base, const char *part)
{
    memcpy(dst->name, base->name, base->len + 1);
    dst->len = base->len;
    dst->fits = base->fits &&
                dvp_name_append(dst->name, sizeof(dst->name), &dst->len, part) &&
                dst->len + 1 < sizeof(dst->name);
    if (dst->fits) {
        dst->name[dst->len++] = '-';
        dst->name[dst->len] = '\0';
    }
}

/* One value of a quota row: type/<user>-<root>-<last>. */
typedef struct {
    lit type, last; /* last: a literal that needs no sanitising */
    double v;
} quota_value;

/* True when no row of this prefix and resource was reported in this read.
 * A quota value's identifier is <type>/<prefix><last>: the prefix ends at
 * its last '-' and no last part holds one, so two values collide only
 * when their prefixes and resources do (plugin_rowset.h). */
static bool first_row(batch *b, const name_prefix *p, const dva_quota_row *row)
{
    /* < 0: cannot tell; better a duplicate than a lost value */
    return dvp_rowset_add(&b->s->rows, p->name, p->len, (unsigned)row->type) != 0;
}

/* p: "<user>-<root>-" sanitised. */
static void submit_quota_row(batch *b, const char *user, const name_prefix *p,
                             const dva_quota_row *row)
{
    lit type, pct_name;
    double scale;
    switch (row->type) {
    case DVA_QUOTA_STORAGE:
        type = LIT("bytes");
        pct_name = LIT("storage");
        scale = DVA_QUOTA_STORAGE_UNIT;
        break;
    case DVA_QUOTA_MESSAGE:
        type = LIT("email_count");
        pct_name = LIT("messages");
        scale = 1.0;
        break;
    default:
        return;
    }
    const quota_value v[3] = {
        {type, LIT("used"), (double)row->value * scale},
        {type, LIT("limit"), (double)row->limit * scale},
        {LIT("percent"), pct_name, row->percent > 100 ? 100.0 : (double)row->percent},
    };
    size_t n = row->unlimited ? 1 : 3; /* no limit, no percentage */
    if (p->fits && !first_row(b, p, row)) {
        char ti[DATA_MAX_NAME_LEN + 8];
        snprintf(ti, sizeof(ti), "%s%s", p->name, v[0].last.s);
        warn_duplicate(b, type.s, ti);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        if (p->fits && v[i].last.len < DATA_MAX_NAME_LEN - p->len) {
            ident id; /* its hash is not needed: first_row() ruled out duplicates */
            id.type = v[i].type.s;
            id.tlen = v[i].type.len;
            memcpy(id.key, v[i].type.s, id.tlen + 1);
            memcpy(id.key + id.tlen + 1, p->name, p->len);
            memcpy(id.key + id.tlen + 1 + p->len, v[i].last.s, v[i].last.len + 1);
            id.len = id.tlen + 1 + p->len + v[i].last.len;
            emit(b, &id, (value_t){.gauge = v[i].v});
        } else { /* too long: dispatch() warns */
            const char *parts[] = {user, row->root, v[i].last.s};
            gauge(b, v[i].type.s, parts, 3, v[i].v);
        }
    }
}

/* True when the user's mailbox was not reported yet in this read (masks
 * may overlap: "INBOX" and "*"). Keys start with a byte no type has. */
static bool first_mailbox(batch *b, const char *user, const char *mailbox)
{
    char buf[512];
    size_t len;
    const char *parts[] = {"\001mailbox", user, mailbox};
    char *key = dvp_key_join(buf, sizeof(buf), &len, parts, 3);
    if (key == NULL)
        return true;
    bool added = dvp_seen_add(&b->s->seen, key, len) != 0;
    dvp_key_free(key, buf);
    return added;
}

static void submit_user_quota(batch *b, const dva_scrape_user *u)
{
    if (user_ok(&u->quota_step)) {
        static const name_prefix empty = {.fits = true};
        name_prefix user_prefix, row_prefix;
        const char *prefix_root = NULL; /* the root row_prefix was built for */
        prefix_extend(&user_prefix, &empty, u->name);
        for (size_t i = 0; i < u->quota.nrows; i++) {
            const dva_quota_row *row = &u->quota.rows[i];
            if (row->error)
                continue;
            /* A user's resources mostly share one root. */
            if (prefix_root == NULL || strcmp(prefix_root, row->root) != 0) {
                prefix_extend(&row_prefix, &user_prefix, row->root);
                prefix_root = row->root;
            }
            submit_quota_row(b, u->name, &row_prefix, row);
        }
    }
}

static void submit_user_mailboxes(batch *b, const dva_scrape_user *u)
{
    if (!user_ok(&u->mailbox_step))
        return;
    for (size_t m = 0; m < u->nmailbox_masks; m++) {
        const dva_mailbox_status *st = &u->mailboxes[m];
        if (st->nfields != DVP_MAILBOX_NFIELDS)
            continue;
        for (size_t i = 0; i < st->nrows; i++) {
            const dva_mailbox_row *row = &st->rows[i];
            if (!first_mailbox(b, u->name, row->mailbox))
                continue; /* matched by an earlier mask too */
            const char *messages[] = {u->name, row->mailbox, "messages"};
            const char *unseen[] = {u->name, row->mailbox, "unseen"};
            const char *size[] = {u->name, row->mailbox};
            gauge(b, "email_count", messages, 3,
                  (double)row->values[DVP_MAILBOX_FIELD_MESSAGES]);
            gauge(b, "email_count", unseen, 3,
                  (double)row->values[DVP_MAILBOX_FIELD_UNSEEN]);
            gauge(b, "email_size", size, 2,
                  (double)row->values[DVP_MAILBOX_FIELD_VSIZE]);
        }
    }
}

static void submit_user(batch *b, const dva_scrape_user *u, bool quota)
{
    /* The user leads every name (sanitising keeps the length). */
    b->key = (dvp_layout_key){0, strlen(u->name)};
    if (quota)
        submit_user_quota(b, u);
    submit_user_mailboxes(b, u);
    b->key = (dvp_layout_key){0, 0};
}

/* Old statistics: counters as DERIVE, kept monotone across a restart of
 * the old-stats process or a user Dovecot forgot (plugin_resets.h: a
 * reset_timestamp change starts them again at 0), num_connected_sessions
 * as a gauge; reset_timestamp and last_update are not values. */
static void submit_oldstats_scope(batch *b, const dva_scrape_oldstats *o)
{
    char scope[16];
    snprintf(scope, sizeof(scope), "old_%s", dva_oldstats_scope_name(o->layout.scope));
    for (size_t r = 0; r < o->stats.nrows; r++) {
        const dva_oldstats_row *row = &o->stats.rows[r];
        char counter[2 * DATA_MAX_NAME_LEN]; /* its name for dvp_resets_value() */
        int n = snprintf(counter, sizeof(counter), DVP_RESETS_LONE "%s\001%s", scope,
                         row->key != NULL ? row->key : "");
        bool tracked = n > 0 && (size_t)n < sizeof(counter); /* else too long anyway */
        for (size_t c = row->key != NULL ? 1 : 0; c < o->layout.ncolumns; c++) {
            const char *column = o->layout.columns[c];
            char name[DVA_OLDSTATS_FIELD_MAX + 4];
            bool time = dva_oldstats_column_is_time(column);
            snprintf(name, sizeof(name), "%s%s", column, time ? "_us" : "");
            const char *parts[] = {scope, row->key != NULL ? row->key : name, name};
            size_t nparts = row->key != NULL ? 3 : 2;
            /* The key follows "<scope>-". */
            b->key = (dvp_layout_key){strlen(scope) + 1,
                                      row->key != NULL ? strlen(row->key) : 0};
            if (strcmp(column, "num_connected_sessions") == 0)
                gauge(b, "gauge", parts, nparts, (double)row->values[c]);
            else if (dva_oldstats_column_is_counter(column))
                derive(b, "derive", parts, nparts,
                       tracked ? dvp_resets_value(&b->s->resets, counter, name,
                                                  row->values[c])
                               : row->values[c],
                       false);
        }
    }
    b->key = (dvp_layout_key){0, 0};
}

static void submit_oldstats(batch *b, const dva_scrape_result *r)
{
    for (size_t i = 0; i < DVA_OLDSTATS_NSCOPES; i++)
        if (step_ok(&r->oldstats[i].step))
            submit_oldstats_scope(b, &r->oldstats[i]);
}

/* A summary value (plugin_quota_series.c). */
static void series_gauge(void *ctx, const char *type, const char *const *parts,
                         size_t nparts, double v)
{
    gauge(ctx, type, parts, nparts, v);
}

/* Per-user values as QuotaSeries says (mailbox status: always per user). */
static void submit_users(batch *b, const dva_scrape_result *r)
{
    dvp_quota_series *q = &b->s->series;
    size_t n = r->nusers;
    switch (q->mode) {
    case DVA_QUOTA_SERIES_USER:
        for (size_t i = 0; i < n; i++)
            submit_user(b, &r->users[i], true);
        return;
    case DVA_QUOTA_SERIES_NONE:
        for (size_t i = 0; i < n; i++)
            submit_user(b, &r->users[i], false);
        return;
    case DVA_QUOTA_SERIES_DOMAIN:
        for (size_t i = 0; i < n; i++) {
            submit_user(b, &r->users[i], false);
            if (user_ok(&r->users[i].quota_step))
                dvp_series_add_user(q, &r->users[i]);
        }
        /* Every read: their interval is the instance's. */
        b->interval = b->s->interval;
        dvp_series_dispatch(q, series_gauge, b);
        if (q->over_bound)
            dvp_log_once(
                b->s->log, LOG_WARNING, "series-domains",
                "more than %d domains and quota roots: the users of the others "
                "are summed under the domain \"%s\" (QuotaSeries \"domain\")",
                DVP_SERIES_MAX_DOMAINS, DVP_SERIES_OTHER);
        return;
    case DVA_QUOTA_SERIES_TOP:
        dvp_series_pick_top(q, r);
        for (size_t k = 0; k < q->npicked; k++)
            submit_user(b, &r->users[q->picked[k]], true);
        for (size_t i = 0; i < n; i++)
            submit_user(b, &r->users[i], false);
        return;
    }
}

void dvp_submit_begin(dvp_submit *submit, cdtime_t when)
{
    batch *b = &submit->batch;
    *b = (batch){.s = submit, .interval = submit->interval, .time = when, .count = 0};
    b->vl = (value_list_t)VALUE_LIST_INIT;
    b->vl.values = &b->value;
    b->vl.values_len = 1;
    b->vl.time = when;
    if (submit->host != NULL)
        snprintf(b->vl.host, sizeof(b->vl.host), "%s", submit->host);
    snprintf(b->vl.plugin, sizeof(b->vl.plugin), "%s", DVP_PLUGIN_NAME);
    snprintf(b->vl.plugin_instance, sizeof(b->vl.plugin_instance), "%s",
             submit->instance);
    dvp_seen_reset(&submit->seen);
    dvp_rowset_reset(&submit->rows, SEEN_KEEP_BYTES);
    dvp_series_reset(&submit->series);
    submit->batch_open = true;
}

/* The interval of per-user values (QuotaInterval, MaxUsers parts). */
static cdtime_t users_interval(const dvp_submit *s, const dva_scrape_result *r)
{
    cdtime_t interval = s->user_interval > 0 ? s->user_interval : s->interval;
    if (r->user_parts > 1) /* past MaxUsers: once in user_parts reads */
        interval *= r->user_parts;
    return interval;
}

void dvp_submit_user_quota(dvp_submit *submit, const dva_scrape_result *result,
                           const dva_scrape_user *user)
{
    batch *b = &submit->batch;
    if (!submit->batch_open)
        return;
    switch (submit->series.mode) {
    case DVA_QUOTA_SERIES_USER:
        b->interval = users_interval(submit, result);
        b->key = (dvp_layout_key){0, strlen(user->name)};
        submit_user_quota(b, user);
        b->key = (dvp_layout_key){0, 0};
        return;
    case DVA_QUOTA_SERIES_DOMAIN:
        dvp_series_add_user(&submit->series, user);
        return;
    case DVA_QUOTA_SERIES_NONE:
    case DVA_QUOTA_SERIES_TOP: /* needs every user: not streamed */
        return;
    }
}

size_t dvp_submit_result(dvp_submit *submit, const dva_scrape_result *result,
                         cdtime_t when)
{
    if (!submit->batch_open)
        dvp_submit_begin(submit, when);
    batch *b = &submit->batch;
    b->interval = submit->interval;
    submit_self(b, result);
    submit_stats(b, result);
    submit_who(b, result);
    dvp_health_sink health = {b, health_gauge, health_derive};
    dvp_health_submit(&submit->health, result, &health);
    submit_oldstats(b, result);
    b->interval = users_interval(submit, result);
    submit_users(b, result);
    /* Kept for the next read only when small: a read of many users
     * dispatches millions of identifiers. */
    dvp_seen_trim(&submit->seen, SEEN_KEEP_BYTES);
    dvp_rowset_reset(&submit->rows, SEEN_KEEP_BYTES);
    submit->batch_open = false;
    return b->count;
}
