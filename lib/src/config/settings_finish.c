/* SPDX-License-Identifier: MIT */
/* The options of an instance together: the checks that need more than
 * one option, and the validated dva_settings. */
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "settings_private.h"

static char *dup_opt(cfg_t *cfg, const char *name)
{
    if (cfg_size(cfg, name) == 0)
        return NULL;
    const char *s = cfg_getstr(cfg, name);
    return s == NULL ? NULL : strdup(s);
}

static int dup_list(cfg_t *cfg, const char *name, char ***out, size_t *n)
{
    size_t size = cfg_size(cfg, name);
    *n = 0;
    *out = NULL;
    if (size == 0)
        return 0;
    *out = calloc(size, sizeof(char *));
    if (*out == NULL)
        return -1;
    *n = size;
    for (size_t i = 0; i < *n; i++)
        if (((*out)[i] = strdup(cfg_getnstr(cfg, name, (unsigned)i))) == NULL)
            return -1;
    return 0;
}

/* OldStats* together with DovecotVersion: the column set must build for
 * every scope asked for, and the sort column must be one of them. */
static int check_oldstats(const dva_config *c, dva_settings *s, dva_error *err)
{
    static const char *const needs_scope[] = {"OldStatsTop", "OldStatsSortBy",
                                              "OldStatsColumns"};
    bool any = false;
    for (size_t i = 0; i < DVA_OLDSTATS_NSCOPES; i++)
        any = any || s->oldstats[i];
    for (size_t i = 0; !any && i < sizeof(needs_scope) / sizeof(needs_scope[0]); i++)
        if (c->seen[dva_option_find(needs_scope[i])])
            return dva_fail(err, DVA_ERR_USAGE,
                            "instance \"%s\": option %s is given without OldStats; add "
                            "OldStats \"user\" (or global, domain, ip) or remove %s",
                            c->name, needs_scope[i], needs_scope[i]);
    if (!any)
        return 0;
    if (dva_generation_info_of(s->generation)->oldstats_command == NULL)
        return dva_fail(err, DVA_ERR_USAGE,
                        "instance \"%s\": option OldStats: Dovecot %s has no old "
                        "statistics (old_stats was removed); remove OldStats or fix "
                        "DovecotVersion",
                        c->name, dva_generation_name(s->generation));
    for (size_t i = 0; i < DVA_OLDSTATS_NSCOPES; i++) {
        if (!s->oldstats[i])
            continue;
        dva_oldstats_layout l;
        dva_error why;
        if (dva_oldstats_layout_init(&l, s->generation, (dva_oldstats_scope)i,
                                     (const char *const *)s->oldstats_columns,
                                     s->noldstats_columns, &why) < 0)
            return dva_fail(
                err, DVA_ERR_USAGE,
                "instance \"%s\": option OldStatsColumns: %s List the "
                "fields after num_cmds in the header of `doveadm "
                "oldstats dump %s`, e.g. %s",
                c->name, why.message, dva_oldstats_scope_name((dva_oldstats_scope)i),
                dva_option_docs[dva_option_find("OldStatsColumns")].example);
        if (i != DVA_OLDSTATS_GLOBAL && s->oldstats_top > 0 &&
            dva_oldstats_column(&l, s->oldstats_sort_by) < 0)
            return dva_fail(err, DVA_ERR_USAGE,
                            "instance \"%s\": option OldStatsSortBy: \"%s\" is not a "
                            "column of the %s scope; use a counter such as num_cmds, "
                            "num_logins or one of OldStatsColumns",
                            c->name, s->oldstats_sort_by,
                            dva_oldstats_scope_name((dva_oldstats_scope)i));
    }
    return 0;
}

static int check_together(const dva_config *c, dva_settings *s, dva_error *err)
{
    cfg_t *cfg = c->cfg;
    if (s->socket_path != NULL && s->host != NULL)
        return dva_fail(
            err, DVA_ERR_USAGE,
            "instance \"%s\": options Socket and Host are both given; use "
            "Socket for a local Dovecot or Host (with Port) for TCP, not both",
            c->name);
    if (s->socket_path != NULL &&
        strlen(s->socket_path) >= sizeof(((struct sockaddr_un *)0)->sun_path))
        return dva_fail(err, DVA_ERR_USAGE,
                        "instance \"%s\": option Socket: the path is longer than %zu "
                        "bytes, the limit of UNIX socket paths",
                        c->name, sizeof(((struct sockaddr_un *)0)->sun_path) - 1);
    if (s->host == NULL && c->seen[dva_option_find("Port")])
        return dva_fail(err, DVA_ERR_USAGE,
                        "instance \"%s\": option Port is given without Host; add "
                        "Host \"...\" or remove Port",
                        c->name);
    if (cfg_size(cfg, "Password") > 0 && cfg_size(cfg, "PasswordFile") > 0)
        return dva_fail(err, DVA_ERR_USAGE,
                        "instance \"%s\": options Password and PasswordFile are both "
                        "given; keep PasswordFile",
                        c->name);
    if (s->interval > 0 && s->timeout > 0 && s->timeout >= s->interval)
        return dva_fail(err, DVA_ERR_USAGE,
                        "instance \"%s\": option Timeout: %g seconds is not below the "
                        "Interval of %g seconds; lower Timeout",
                        c->name, s->timeout, s->interval);
    if (check_oldstats(c, s, err) < 0)
        return -1;
    if (s->quota_scan_dir == NULL || s->quota_scan_dir[0] != '/')
        return dva_fail(
            err, DVA_ERR_USAGE,
            "instance \"%s\": option QuotaScanDir: \"%s\" is not an absolute "
            "path; give a directory such as \"/run\"",
            c->name, s->quota_scan_dir != NULL ? s->quota_scan_dir : "");
    if (s->quota_warning > 0 && s->quota_failure > 0 &&
        s->quota_failure < s->quota_warning)
        return dva_fail(
            err, DVA_ERR_USAGE,
            "instance \"%s\": option QuotaFailure: %g%% is below QuotaWarning "
            "%g%%; the failure level must be the higher one",
            c->name, s->quota_failure, s->quota_warning);
    return 0;
}

int dva_config_finish(dva_config *c, dva_settings *s, dva_config_warn_fn *warn,
                      void *warn_ctx, dva_error *err)
{
    cfg_t *cfg = c->cfg;
    memset(s, 0, sizeof(*s));
    s->name = strdup(c->name);
    s->socket_path = dup_opt(cfg, "Socket");
    s->host = dup_opt(cfg, "Host");
    s->port = (unsigned)cfg_getint(cfg, "Port");
    s->password = dup_opt(cfg, "Password");
    s->password_file = dup_opt(cfg, "PasswordFile");
    s->interval = cfg_getfloat(cfg, "Interval");
    s->timeout = cfg_getfloat(cfg, "Timeout");
    s->collect_stats = cfg_getbool(cfg, "CollectStats");
    s->collect_who = cfg_getbool(cfg, "CollectWho");
    s->collect_quota = cfg_getbool(cfg, "CollectQuota");
    s->collect_mailbox = cfg_getbool(cfg, "CollectMailbox");
    s->collect_services = cfg_getbool(cfg, "CollectServices");
    s->collect_processes = cfg_getbool(cfg, "CollectProcesses");
    s->collect_indexer = cfg_getbool(cfg, "CollectIndexer");
    s->collect_penalty = cfg_getbool(cfg, "CollectPenalty");
    s->service_notifications = cfg_getbool(cfg, "ServiceNotifications");
    s->quota_warning = cfg_getfloat(cfg, "QuotaWarning");
    s->quota_failure = cfg_getfloat(cfg, "QuotaFailure");
    s->report_host = dup_opt(cfg, "ReportHost");
    s->identifier_layout =
        (dva_identifier_layout)dva_option_layout(cfg_getstr(cfg, "IdentifierLayout"));
    s->connections = (unsigned)cfg_getint(cfg, "Connections");
    s->tls = (dva_tls_mode)dva_option_tls_mode(cfg_getstr(cfg, "TLS"));
    s->ca_cert = dup_opt(cfg, "CACert");
    s->verify_peer = cfg_getbool(cfg, "VerifyPeer");
    s->verify_host = cfg_getbool(cfg, "VerifyHost");
    s->server_name = dup_opt(cfg, "ServerName");
    s->allow_cleartext_password = cfg_getbool(cfg, "AllowCleartextPassword");
    s->quota_scan = cfg_getbool(cfg, "QuotaScan");
    s->quota_scan_dir = dup_opt(cfg, "QuotaScanDir");
    s->quota_interval = cfg_getfloat(cfg, "QuotaInterval");
    s->max_users = (size_t)cfg_getint(cfg, "MaxUsers");
    /* Checked when set; the default parses. */
    (void)dva_quota_series_parse(cfg_getstr(cfg, "QuotaSeries"), &s->quota_series,
                                 &s->quota_series_top);
    /* Both were checked when set; the defaults parse. */
    (void)dva_generation_parse(cfg_getstr(cfg, "DovecotVersion"), &s->generation);
    for (unsigned i = 0; i < cfg_size(cfg, "OldStats"); i++) {
        dva_oldstats_scope scope;
        if (dva_oldstats_scope_parse(cfg_getnstr(cfg, "OldStats", i), &scope))
            s->oldstats[scope] = true;
    }
    s->oldstats_top = (size_t)cfg_getint(cfg, "OldStatsTop");
    s->oldstats_sort_by = dup_opt(cfg, "OldStatsSortBy");
    if (s->name == NULL || s->oldstats_sort_by == NULL ||
        dup_list(cfg, "OldStatsColumns", &s->oldstats_columns, &s->noldstats_columns) ||
        dup_list(cfg, "QuotaUser", &s->quota_users, &s->nquota_users) ||
        dup_list(cfg, "QuotaUsers", &s->quota_masks, &s->nquota_masks) ||
        dup_list(cfg, "Mailbox", &s->mailboxes, &s->nmailboxes))
        goto nomem;

    if (check_together(c, s, err) < 0)
        goto fail;
    if (s->socket_path == NULL && s->host == NULL &&
        (s->socket_path = strdup(DVA_DEFAULT_SOCKET)) == NULL)
        goto nomem;
    if (s->password_file != NULL &&
        dva_settings_read_password_file(c, s, warn, warn_ctx, err) < 0)
        goto fail;
    if (dva_settings_check_tls(c, s, warn, warn_ctx, err) < 0)
        goto fail;
    if (s->host != NULL && s->password == NULL) {
        dva_fail(
            err, DVA_ERR_USAGE,
            "instance \"%s\": Host \"%s\" needs a password: doveadm over TCP always "
            "authenticates; add PasswordFile \"/path\" holding the server's "
            "doveadm_password",
            c->name, s->host);
        goto fail;
    }
    if (dva_settings_check_cleartext(c, s, err) < 0)
        goto fail;
    return 0;
nomem:
    dva_fail(err, DVA_ERR_NOMEM, "out of memory reading the configuration");
fail:
    dva_settings_free(s);
    return -1;
}

dva_tls_options dva_settings_tls_options(const dva_settings *s)
{
    return (dva_tls_options){.mode = s->tls,
                             .ca_file = s->ca_cert,
                             .skip_verify_peer = !s->verify_peer,
                             .skip_verify_host = !s->verify_host};
}

bool dva_settings_quota_scan(const dva_settings *s)
{
    return s->quota_scan && s->collect_quota && s->host == NULL &&
           (s->nquota_users > 0 || s->nquota_masks > 0);
}

static void free_list(char **list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(list[i]);
    free(list);
}

void dva_settings_free(dva_settings *s)
{
    if (s->password != NULL) {
        explicit_bzero(s->password, strlen(s->password));
        free(s->password);
    }
    free(s->name);
    free(s->socket_path);
    free(s->host);
    free(s->password_file);
    free(s->report_host);
    free(s->quota_scan_dir);
    free(s->ca_cert);
    free(s->server_name);
    free_list(s->quota_users, s->nquota_users);
    free_list(s->quota_masks, s->nquota_masks);
    free_list(s->mailboxes, s->nmailboxes);
    free_list(s->oldstats_columns, s->noldstats_columns);
    free(s->oldstats_sort_by);
    memset(s, 0, sizeof(*s));
}
