/* SPDX-License-Identifier: MIT */
/* One read's results -> collectd values (default types.db types only).
 *
 * Identifiers: host = ReportHost, or empty so collectd fills in its own
 * host name; plugin "dovecot"; plugin_instance = the <Instance> name;
 * interval = the instance's interval. type and type_instance (the classic
 * layout; IdentifierLayout "labels" moves the user or key out of the type
 * instance: plugin_layout.h):
 *
 *   what                  type              type_instance
 *   --------------------  ----------------  ---------------------------------
 *   server answered       bool              up                (1 or 0)
 *   time the read took    duration          read              (seconds)
 *   stats dump, per       derive            <metric>          (count)
 *   metric (rows of       derive            <metric>-sum_us   (duration sum)
 *   `stats dump`)         gauge             <metric>-min_us, -max_us,
 *                                           -avg_us, -median_us,
 *                                           -stddev_us, -p95_us
 *     other field F       derive            <metric>-<F>-sum
 *                         gauge             <metric>-<F>-min, -max, -avg,
 *                                           -median, -stddev, -p95
 *   who, per service      users             <service>  (distinct users)
 *                         current_sessions  <service>
 *   who, all services     users             ""  (empty type instance)
 *                         current_sessions  ""
 *   quota STORAGE         bytes             <user>-<root>-used   (KiB x 1024)
 *                         bytes             <user>-<root>-limit  (if limited)
 *                         percent           <user>-<root>-storage (if limited,
 *                                                                 max 100)
 *   quota MESSAGE         email_count       <user>-<root>-used
 *                         email_count       <user>-<root>-limit  (if limited)
 *                         percent           <user>-<root>-messages (if
 *                                                               limited, max 100)
 *   mailbox status        email_count       <user>-<mailbox>-messages
 *                         email_count       <user>-<mailbox>-unseen
 *                         email_size        <user>-<mailbox>     (vsize bytes)
 *   old stats, global     derive            old_global-<column>  (counters;
 *   (OldStats, Dovecot                        times as <column>_us, e.g.
 *   2.2/2.3)                                  old_global-user_cpu_us)
 *                         gauge             old_global-num_connected_sessions
 *   old stats, per key    derive            old_<scope>-<key>-<column>
 *   (domain, user, ip;    gauge             old_<scope>-<key>-
 *   top OldStatsTop)                          num_connected_sessions
 *                         (reset_timestamp and last_update are not values)
 *
 * QuotaSeries "domain" sends, instead of the quota values above, per
 * domain D (after the name's last '@'; "_" without one) and quota root R:
 *   count        @D-R-storage_users    users with a STORAGE row
 *   count        @D-R-storage_warning  of them at or over QuotaWarning
 *   bytes        @D-R-used, @D-R-limit sums (limit: users with a limit)
 *   percent      @D-R-storage          the highest, max 100
 * and the same with messages_users, messages_warning, email_count and
 * percent @D-R-messages; "top N" sends the quota values above for the N
 * users of highest percent only, "none" no quota values.
 *
 * Rules:
 * - Nothing comes from a step that failed (its error is not DVA_OK); quota
 *   rows with "error" values and resources other than STORAGE and MESSAGE
 *   are skipped; an unlimited quota never reports a limit (not even 0) nor
 *   a percentage. Gauges Dovecot sent no value for (NaN) are skipped.
 * - Percentages are clamped to 100 because the percent type's maximum is
 *   100.1; quota notifications use Dovecot's unclamped value.
 * - Every name is sanitised: bytes outside [A-Za-z0-9@._+=-] become '_'
 *   ("User quota" -> "User_quota").
 * - A type instance that does not fit DATA_MAX_NAME_LEN is skipped, with
 *   one warning per name. Two values that end up with the same identifier
 *   in one read (a mailbox matched by two masks, names equal after
 *   sanitising) are dispatched once: the first wins; for quota values, the
 *   first row of a user, root and resource (the set keeps one key per row,
 *   not per value: at 100,000 users it was the read's largest memory). */
#ifndef DVP_PLUGIN_SUBMIT_H
#define DVP_PLUGIN_SUBMIT_H

#include <stddef.h>

#include "plugin_collectd.h"

#include "doveadm/scrape.h"
#include "plugin_health.h"
#include "doveadm/settings.h"
#include "plugin_layout.h"
#include "plugin_log.h"
#include "plugin_map.h"
#include "plugin_resets.h"
#include "plugin_quota_series.h"
#include "plugin_rowset.h"
#include "plugin_seen.h"

/* The mailbox status fields the plugin asks for, in this order. */
#define DVP_MAILBOX_FIELD_MESSAGES 0
#define DVP_MAILBOX_FIELD_UNSEEN 1
#define DVP_MAILBOX_FIELD_VSIZE 2
#define DVP_MAILBOX_NFIELDS 3
extern const char *const dvp_mailbox_fields[DVP_MAILBOX_NFIELDS];

typedef struct dvp_submit dvp_submit;

/* The values of one read as they are dispatched (private to
 * plugin_submit.c). */
typedef struct {
    dvp_submit *s;
    cdtime_t interval; /* of the values being dispatched */
    cdtime_t time;
    size_t count;
    /* Filled once per read; each value sets only its own fields. */
    value_list_t vl;
    value_t value;
    const char *vl_type; /* the string vl.type was copied from last */
    dvp_layout_key key;  /* the user or key in the values now dispatched */
} dvp_batch;

struct dvp_submit {
    const char *instance; /* borrowed */
    const char *host;     /* borrowed; NULL: collectd's host name */
    cdtime_t interval;
    /* Of per-user values (quota, mailbox status): QuotaInterval when the
     * users are spread over reads, so each series keeps its period; 0:
     * interval. */
    cdtime_t user_interval;
    dvp_logger *log;              /* borrowed */
    dvp_seen seen;                /* identifiers dispatched during the current read */
    dvp_rowset rows;              /* ... and its quota rows (plugin_rowset.h) */
    dvp_resets resets;            /* stats counters across a reload */
    dvp_health_values health;     /* processes across reads */
    dva_identifier_layout layout; /* IdentifierLayout; 0: classic */
    /* QuotaSeries; "user" after dvp_submit_init(), dvp_series_init() sets
     * another. */
    dvp_quota_series series;
    dvp_batch batch; /* the read in progress */
    bool batch_open; /* dvp_submit_begin() was called, the result not yet */
};

void dvp_submit_init(dvp_submit *submit, const char *instance, const char *host,
                     cdtime_t interval, dvp_logger *log);
void dvp_submit_free(dvp_submit *submit);

/* Starts a read whose users' quota may come during it (stamped with
 * when): dvp_submit_user_quota() for each, then dvp_submit_result(). */
void dvp_submit_begin(dvp_submit *submit, cdtime_t when);
/* One user's quota values as the read delivers them (the library's
 * on_user_quota): dispatched now with QuotaSeries "user", summed with
 * "domain"; nothing with "none" or "top N" (top N needs every user, so
 * the plugin does not take users as they come then). */
void dvp_submit_user_quota(dvp_submit *submit, const dva_scrape_result *result,
                           const dva_scrape_user *user);

/* Dispatches the values of one read, all stamped with when (or the time
 * dvp_submit_begin() was given). Returns how many values were dispatched,
 * those of dvp_submit_user_quota() included. */
size_t dvp_submit_result(dvp_submit *submit, const dva_scrape_result *result,
                         cdtime_t when);

#endif
