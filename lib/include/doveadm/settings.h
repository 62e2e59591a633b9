/* SPDX-License-Identifier: MIT */
/* The configuration schema of one monitored Dovecot (an <Instance>),
 * defined once with libconfuse: names (case-insensitive), types, defaults,
 * ranges, repeatable options and messages. Front ends (the collectd plugin,
 * a check tool) feed it option/value pairs and get validated settings or
 * an error naming the instance, the option, the value and the fix. */
#ifndef DOVEADM_SETTINGS_H
#define DOVEADM_SETTINGS_H

#if defined(DVA_LAYER_BUILD) && !defined(DVA_SEES_CONFIG)
#error "doveadm/settings.h belongs to the config layer (doc/ARCHITECTURE.md)"
#endif

#include <stdbool.h>
#include <stddef.h>

#include "doveadm/error.h"
#include "doveadm/tls_transport.h"
#include "doveadm/oldstats.h"
#include "doveadm/generation.h"

#define DVA_DEFAULT_SOCKET "/run/dovecot/doveadm-server"
#define DVA_DEFAULT_PORT 2425
#define DVA_DEFAULT_QUOTA_SCAN_DIR "/run"

/* How a front end names the values (IdentifierLayout; the plugin's
 * layouts: doc/metrics.md). */
typedef enum {
    DVA_LAYOUT_CLASSIC, /* the user, root and field in the type instance */
    DVA_LAYOUT_LABELS,  /* the user (or old-stats key) alone in it */
} dva_identifier_layout;
/* QuotaSeries: which quota values go out (notifications are per user in
 * every case). */
typedef enum {
    DVA_QUOTA_SERIES_USER = 0, /* "user": each user's values (the default) */
    DVA_QUOTA_SERIES_DOMAIN,   /* "domain": a summary per domain */
    DVA_QUOTA_SERIES_TOP,      /* "top N": the N users of highest percent */
    DVA_QUOTA_SERIES_NONE,     /* "none" */
} dva_quota_series;

/* "user", "domain", "top N" (N from 1 to 100000) or "none", any letter
 * case; *top gets N. False when value is none of them. */
bool dva_quota_series_parse(const char *value, dva_quota_series *series, size_t *top);

typedef struct {
    char *name;        /* the instance name */
    char *socket_path; /* set for a UNIX socket (the default) */
    char *host;        /* set for TCP */
    unsigned port;
    char *password;      /* from Password or PasswordFile: never log it */
    char *password_file; /* where it came from, if a file */
    double interval;     /* seconds; 0: the front end's default */
    double timeout;      /* seconds; 0: 80% of the interval */
    bool collect_stats, collect_who, collect_quota, collect_mailbox;
    /* CollectServices, CollectProcesses, CollectIndexer, CollectPenalty:
     * the server-health commands (health.h); ServiceNotifications: a
     * WARNING when a service is at its limit, OKAY when it recovers. */
    bool collect_services, collect_processes, collect_indexer, collect_penalty;
    bool service_notifications;
    char **quota_users; /* QuotaUser, repeatable */
    size_t nquota_users;
    char **quota_masks; /* QuotaUsers, repeatable, resolved with `user` */
    size_t nquota_masks;
    double quota_warning; /* percent; 0: no warnings */
    double quota_failure; /* percent; 0: no failures */
    char **mailboxes;     /* Mailbox masks, repeatable; none: INBOX */
    size_t nmailboxes;
    char *report_host;                       /* NULL: the front end's host name */
    dva_identifier_layout identifier_layout; /* IdentifierLayout */
    unsigned connections;
    dva_tls_mode tls;                    /* TLS: none, starttls, tls */
    char *ca_cert;                       /* CACert; NULL: the system's CAs */
    bool verify_peer;                    /* VerifyPeer */
    bool verify_host;                    /* VerifyHost */
    char *server_name;                   /* ServerName; NULL: Host */
    bool allow_cleartext_password;       /* AllowCleartextPassword */
    dva_generation generation;           /* DovecotVersion; AUTO: detect */
    bool oldstats[DVA_OLDSTATS_NSCOPES]; /* OldStats scopes */
    char **oldstats_columns;             /* OldStatsColumns; none: defaults */
    size_t noldstats_columns;
    char *oldstats_sort_by;        /* OldStatsSortBy */
    size_t oldstats_top;           /* OldStatsTop; 0: every row */
    bool quota_scan;               /* QuotaScan: server-side scan over a Socket */
    char *quota_scan_dir;          /* QuotaScanDir: where its private directory goes */
    double quota_interval;         /* QuotaInterval, seconds; 0: every read */
    size_t max_users;              /* MaxUsers; 0: no bound */
    dva_quota_series quota_series; /* QuotaSeries */
    size_t quota_series_top;       /* its N, with DVA_QUOTA_SERIES_TOP */
} dva_settings;

typedef struct dva_config dva_config;

/* A fresh option set with every default, for the instance name. */
dva_config *dva_config_new(const char *instance_name);
void dva_config_free(dva_config *config);

/* Sets option (any letter case) to value, given as text ("true", "2425").
 * Repeatable options append. Fails on an unknown option, a missing (NULL)
 * value, a repeated single option, or a value of the wrong type or out of
 * range. */
int dva_config_set(dva_config *config, const char *option, const char *value,
                   dva_error *err);

/* True when option names a repeatable option (any letter case). */
bool dva_config_repeatable(const char *option);

/* Checks the options together (Socket with Host, TCP without a password,
 * Timeout over Interval, thresholds, TLS options without TLS, a CACert that
 * does not load), reads PasswordFile, and fills out. A password to a
 * non-loopback Host without TLS is refused unless AllowCleartextPassword.
 * warn, if not NULL, receives warnings (a PasswordFile readable by
 * others, certificate checks switched off). */
typedef void dva_config_warn_fn(void *ctx, const char *message);
int dva_config_finish(dva_config *config, dva_settings *out, dva_config_warn_fn *warn,
                      void *warn_ctx, dva_error *err);

/* The TLS options of the settings, as a dva_scrape_plan takes them (with
 * settings->server_name as the plan's server_name). */
dva_tls_options dva_settings_tls_options(const dva_settings *settings);

/* QuotaScan applies: quota is read for named users over a Socket (the
 * server reads the scan's files on its own host, PROTOCOL.md 6.5). */
bool dva_settings_quota_scan(const dva_settings *settings);

/* Frees and wipes the password. */
void dva_settings_free(dva_settings *settings);

/* One option of the schema, for documentation and tools. */
typedef struct {
    const char *name;     /* as documented, e.g. "PasswordFile" */
    const char *expected; /* e.g. "a whole number from 1 to 65535" */
    const char *example;  /* one configuration line */
    bool repeatable;
} dva_option_info;

/* Fills out with the index-th option of the schema (from 0, in schema
 * order); returns false past the last one. */
bool dva_config_option(size_t index, dva_option_info *out);

#endif
