/* SPDX-License-Identifier: MIT */
/* The instance option schema in libconfuse: names, types, defaults,
 * ranges and the messages of a value that does not fit. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "settings_private.h"

#define DEFAULT_QUOTA_WARNING 90.0
#define DEFAULT_QUOTA_FAILURE 98.0
#define DEFAULT_CONNECTIONS 2
#define DEFAULT_OLDSTATS_TOP 20
#define MAX_OLDSTATS_TOP 100000
#define MAX_MAX_USERS 100000000L
#define MAX_SERIES_TOP 100000

/* One row per option, in the order of cfg_opts below; its size is the
 * header's DVA_NOPTIONS (another count does not compile). */
const option_doc dva_option_docs[] = {
    {"Socket", KIND_TEXT, false, false, "Socket \"/run/dovecot/doveadm-server\""},
    {"Host", KIND_TEXT, false, false, "Host \"mail.example.com\""},
    {"Port", KIND_PORT, false, false, "Port 2425"},
    {"Password", KIND_TEXT, false, true, "PasswordFile \"/etc/collectd/dovecot.pass\""},
    {"PasswordFile", KIND_TEXT, false, false,
     "PasswordFile \"/etc/collectd/dovecot.pass\""},
    {"Interval", KIND_SECONDS, false, false, "Interval 60"},
    {"Timeout", KIND_SECONDS, false, false, "Timeout 5"},
    {"CollectStats", KIND_BOOL, false, false, "CollectStats true"},
    {"CollectWho", KIND_BOOL, false, false, "CollectWho true"},
    {"CollectQuota", KIND_BOOL, false, false, "CollectQuota true"},
    {"QuotaUser", KIND_TEXT, true, false, "QuotaUser \"alice@example.com\""},
    {"QuotaUsers", KIND_TEXT, true, false, "QuotaUsers \"*@example.com\""},
    {"QuotaWarning", KIND_PERCENT, false, false, "QuotaWarning 90"},
    {"QuotaFailure", KIND_PERCENT, false, false, "QuotaFailure 98"},
    {"CollectMailbox", KIND_BOOL, false, false, "CollectMailbox true"},
    {"Mailbox", KIND_TEXT, true, false, "Mailbox \"INBOX\""},
    {"ReportHost", KIND_TEXT, false, false, "ReportHost \"mail1\""},
    {"IdentifierLayout", KIND_LAYOUT, false, false, "IdentifierLayout \"labels\""},
    {"Connections", KIND_COUNT, false, false, "Connections 2"},
    {"TLS", KIND_TLS_MODE, false, false, "TLS \"tls\""},
    {"CACert", KIND_TEXT, false, false, "CACert \"/etc/collectd/dovecot-ca.pem\""},
    {"VerifyPeer", KIND_BOOL, false, false, "VerifyPeer true"},
    {"VerifyHost", KIND_BOOL, false, false, "VerifyHost true"},
    {"ServerName", KIND_TEXT, false, false, "ServerName \"mail.example.com\""},
    {"AllowCleartextPassword", KIND_BOOL, false, false, "AllowCleartextPassword false"},
    {"DovecotVersion", KIND_GENERATION, false, false, "DovecotVersion \"2.3\""},
    {"OldStats", KIND_SCOPE, true, false, "OldStats \"global\" \"user\""},
    {"OldStatsTop", KIND_TOP, false, false, "OldStatsTop 20"},
    {"OldStatsSortBy", KIND_TEXT, false, false, "OldStatsSortBy \"num_cmds\""},
    {"OldStatsColumns", KIND_TEXT, true, false,
     "OldStatsColumns \"user_cpu\" \"sys_cpu\" \"mail_read_count\""},
    {"QuotaScan", KIND_BOOL, false, false, "QuotaScan true"},
    {"QuotaScanDir", KIND_TEXT, false, false, "QuotaScanDir \"/run\""},
    {"QuotaInterval", KIND_SECONDS, false, false, "QuotaInterval 600"},
    {"CollectServices", KIND_BOOL, false, false, "CollectServices true"},
    {"CollectProcesses", KIND_BOOL, false, false, "CollectProcesses true"},
    {"CollectIndexer", KIND_BOOL, false, false, "CollectIndexer true"},
    {"CollectPenalty", KIND_BOOL, false, false, "CollectPenalty true"},
    {"ServiceNotifications", KIND_BOOL, false, false, "ServiceNotifications false"},
    {"MaxUsers", KIND_MAX_USERS, false, false, "MaxUsers 200000"},
    {"QuotaSeries", KIND_SERIES, false, false, "QuotaSeries \"domain\""},
};

static cfg_opt_t cfg_opts[] = {
    CFG_STR("Socket", NULL, CFGF_NODEFAULT),
    CFG_STR("Host", NULL, CFGF_NODEFAULT),
    CFG_INT("Port", DVA_DEFAULT_PORT, CFGF_NONE),
    CFG_STR("Password", NULL, CFGF_NODEFAULT),
    CFG_STR("PasswordFile", NULL, CFGF_NODEFAULT),
    CFG_FLOAT("Interval", 0, CFGF_NONE),
    CFG_FLOAT("Timeout", 0, CFGF_NONE),
    CFG_BOOL("CollectStats", cfg_true, CFGF_NONE),
    CFG_BOOL("CollectWho", cfg_true, CFGF_NONE),
    CFG_BOOL("CollectQuota", cfg_true, CFGF_NONE),
    CFG_STR_LIST("QuotaUser", NULL, CFGF_NODEFAULT),
    CFG_STR_LIST("QuotaUsers", NULL, CFGF_NODEFAULT),
    CFG_FLOAT("QuotaWarning", DEFAULT_QUOTA_WARNING, CFGF_NONE),
    CFG_FLOAT("QuotaFailure", DEFAULT_QUOTA_FAILURE, CFGF_NONE),
    CFG_BOOL("CollectMailbox", cfg_false, CFGF_NONE),
    CFG_STR_LIST("Mailbox", NULL, CFGF_NODEFAULT),
    CFG_STR("ReportHost", NULL, CFGF_NODEFAULT),
    CFG_STR("IdentifierLayout", "classic", CFGF_NONE),
    CFG_INT("Connections", DEFAULT_CONNECTIONS, CFGF_NONE),
    CFG_STR("TLS", "none", CFGF_NONE),
    CFG_STR("CACert", NULL, CFGF_NODEFAULT),
    CFG_BOOL("VerifyPeer", cfg_true, CFGF_NONE),
    CFG_BOOL("VerifyHost", cfg_true, CFGF_NONE),
    CFG_STR("ServerName", NULL, CFGF_NODEFAULT),
    CFG_BOOL("AllowCleartextPassword", cfg_false, CFGF_NONE),
    CFG_STR("DovecotVersion", "auto", CFGF_NONE),
    CFG_STR_LIST("OldStats", NULL, CFGF_NODEFAULT),
    CFG_INT("OldStatsTop", DEFAULT_OLDSTATS_TOP, CFGF_NONE),
    CFG_STR("OldStatsSortBy", "num_cmds", CFGF_NONE),
    CFG_STR_LIST("OldStatsColumns", NULL, CFGF_NODEFAULT),
    CFG_BOOL("QuotaScan", cfg_true, CFGF_NONE),
    CFG_STR("QuotaScanDir", DVA_DEFAULT_QUOTA_SCAN_DIR, CFGF_NONE),
    CFG_FLOAT("QuotaInterval", 0, CFGF_NONE),
    CFG_BOOL("CollectServices", cfg_true, CFGF_NONE),
    CFG_BOOL("CollectProcesses", cfg_false, CFGF_NONE),
    CFG_BOOL("CollectIndexer", cfg_false, CFGF_NONE),
    CFG_BOOL("CollectPenalty", cfg_false, CFGF_NONE),
    CFG_BOOL("ServiceNotifications", cfg_true, CFGF_NONE),
    CFG_INT("MaxUsers", 0, CFGF_NONE),
    CFG_STR("QuotaSeries", "user", CFGF_NONE),
    CFG_END(),
};

static void ignore_confuse_error(cfg_t *cfg, const char *fmt, va_list ap)
{
    /* Our own messages name the instance, option, value and fix. */
    (void)cfg;
    (void)fmt;
    (void)ap;
}

dva_config *dva_config_new(const char *instance_name)
{
    dva_config *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return NULL;
    c->name = strdup(instance_name != NULL ? instance_name : "");
    c->cfg = cfg_init(cfg_opts, CFGF_NOCASE);
    if (c->name == NULL || c->cfg == NULL) {
        dva_config_free(c);
        return NULL;
    }
    cfg_set_error_function(c->cfg, ignore_confuse_error);
    return c;
}

void dva_config_free(dva_config *c)
{
    if (c == NULL)
        return;
    if (c->cfg != NULL) {
        /* The password may be in there. */
        const char *pw =
            cfg_size(c->cfg, "Password") > 0 ? cfg_getstr(c->cfg, "Password") : NULL;
        if (pw != NULL)
            explicit_bzero((char *)pw, strlen(pw));
        cfg_free(c->cfg);
    }
    free(c->name);
    free(c);
}

int dva_option_find(const char *option)
{
    for (size_t i = 0; i < DVA_NOPTIONS; i++)
        if (strcasecmp(dva_option_docs[i].name, option) == 0)
            return (int)i;
    return -1;
}

bool dva_config_repeatable(const char *option)
{
    int i = dva_option_find(option);
    return i >= 0 && dva_option_docs[i].repeatable;
}

/* Edit distance ignoring case, for "did you mean". */
static size_t distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 32 || lb > 32)
        return 99;
    size_t d[33][33];
    for (size_t i = 0; i <= la; i++)
        d[i][0] = i;
    for (size_t j = 0; j <= lb; j++)
        d[0][j] = j;
    for (size_t i = 1; i <= la; i++)
        for (size_t j = 1; j <= lb; j++) {
            size_t cost = strncasecmp(a + i - 1, b + j - 1, 1) != 0;
            size_t best = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < best)
                best = d[i][j - 1] + 1;
            if (d[i - 1][j - 1] + cost < best)
                best = d[i - 1][j - 1] + cost;
            d[i][j] = best;
        }
    return d[la][lb];
}

static int unknown_option(const dva_config *c, const char *option, dva_error *err)
{
    char shown[80], valid[512] = "";
    const char *guess = NULL;
    size_t best = 3;
    for (size_t i = 0; i < DVA_NOPTIONS; i++) {
        size_t d = distance(option, dva_option_docs[i].name);
        if (d < best) {
            best = d;
            guess = dva_option_docs[i].name;
        }
        strncat(valid, dva_option_docs[i].name, sizeof(valid) - strlen(valid) - 3);
        if (i + 1 < DVA_NOPTIONS)
            strcat(valid, ", ");
    }
    dva_quote(shown, sizeof(shown), option, strlen(option));
    if (guess != NULL)
        return dva_fail(
            err, DVA_ERR_USAGE,
            "instance \"%s\": unknown option \"%s\"; did you mean %s? Valid "
            "options: %s",
            c->name, shown, guess, valid);
    return dva_fail(err, DVA_ERR_USAGE,
                    "instance \"%s\": unknown option \"%s\". Valid options: %s",
                    c->name, shown, valid);
}

static const char *expectation(value_kind kind)
{
    switch (kind) {
    case KIND_TEXT:
        return "a non-empty text on one line";
    case KIND_PORT:
        return "a whole number from 1 to 65535";
    case KIND_SECONDS:
        return "a number of seconds above 0 and at most 86400";
    case KIND_BOOL:
        return "true or false";
    case KIND_PERCENT:
        return "a percentage from 0 (off) to 1000";
    case KIND_COUNT:
        return "a whole number from 1 to 64";
    case KIND_TLS_MODE:
        return "\"none\", \"starttls\" or \"tls\"";
    case KIND_GENERATION:
        return "auto, 2.2, 2.3 or 2.4";
    case KIND_SCOPE:
        return "global, domain, user or ip";
    case KIND_TOP:
        return "a whole number from 0 (every row) to 100000";
    case KIND_LAYOUT:
        return "\"classic\" or \"labels\"";
    case KIND_MAX_USERS:
        return "a whole number from 0 (no bound) to 100000000";
    case KIND_SERIES:
        return "\"user\", \"domain\", \"top N\" (N from 1 to 100000) or \"none\"";
    }
    return "a valid value";
}

static int bad_value(const dva_config *c, const option_doc *doc, const char *value,
                     const char *why, dva_error *err)
{
    char shown[160];
    if (doc->secret)
        snprintf(shown, sizeof(shown), "(not shown)");
    else
        dva_quote(shown, sizeof(shown), value, strlen(value));
    return dva_fail(err, DVA_ERR_USAGE,
                    "instance \"%s\": option %s: value \"%s\" %s: expected %s, e.g. %s",
                    c->name, doc->name, shown, why, expectation(doc->kind),
                    doc->example);
}

int dva_option_layout(const char *value)
{
    if (value != NULL && strcasecmp(value, "classic") == 0)
        return DVA_LAYOUT_CLASSIC;
    if (value != NULL && strcasecmp(value, "labels") == 0)
        return DVA_LAYOUT_LABELS;
    return -1;
}

int dva_option_tls_mode(const char *value)
{
    if (value == NULL)
        return -1;
    if (strcasecmp(value, "none") == 0)
        return DVA_TLS_NONE;
    if (strcasecmp(value, "starttls") == 0)
        return DVA_TLS_STARTTLS;
    if (strcasecmp(value, "tls") == 0)
        return DVA_TLS_IMMEDIATE;
    return -1;
}

bool dva_quota_series_parse(const char *value, dva_quota_series *series, size_t *top)
{
    static const char *const names[] = {"user", "domain", "top", "none"};
    *top = 0;
    if (value == NULL)
        return false;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        size_t len = strlen(names[i]);
        if (strncasecmp(value, names[i], len) != 0)
            continue;
        *series = (dva_quota_series)i;
        if (*series != DVA_QUOTA_SERIES_TOP)
            return value[len] == '\0';
        /* "top N": one space, then digits only */
        const char *n = value + len;
        if (*n++ != ' ' || *n < '1' || *n > '9' || strlen(n) > 6)
            return false;
        for (const char *d = n; *d != '\0'; d++)
            if (*d < '0' || *d > '9')
                return false;
        *top = (size_t)strtoul(n, NULL, 10);
        return *top <= MAX_SERIES_TOP;
    }
    return false;
}

/* Range checks that libconfuse's types do not express. */
static bool in_range(const dva_config *c, const option_doc *doc)
{
    cfg_t *cfg = c->cfg;
    switch (doc->kind) {
    case KIND_TEXT: {
        unsigned n = cfg_size(cfg, doc->name);
        const char *s = doc->repeatable ? cfg_getnstr(cfg, doc->name, n - 1)
                                        : cfg_getstr(cfg, doc->name);
        return s != NULL && s[0] != '\0';
    }
    case KIND_PORT: {
        long v = cfg_getint(cfg, doc->name);
        return v >= 1 && v <= 65535;
    }
    case KIND_COUNT: {
        long v = cfg_getint(cfg, doc->name);
        return v >= 1 && v <= 64;
    }
    case KIND_SECONDS: {
        double v = cfg_getfloat(cfg, doc->name);
        return isfinite(v) && v > 0 && v <= 86400;
    }
    case KIND_PERCENT: {
        double v = cfg_getfloat(cfg, doc->name);
        return isfinite(v) && v >= 0 && v <= 1000;
    }
    case KIND_BOOL:
        return true;
    case KIND_TLS_MODE:
        return dva_option_tls_mode(cfg_getstr(cfg, doc->name)) >= 0;
    case KIND_GENERATION: {
        dva_generation g;
        return dva_generation_parse(cfg_getstr(cfg, doc->name), &g);
    }
    case KIND_SCOPE: {
        dva_oldstats_scope scope;
        unsigned n = cfg_size(cfg, doc->name);
        return dva_oldstats_scope_parse(cfg_getnstr(cfg, doc->name, n - 1), &scope);
    }
    case KIND_TOP: {
        long v = cfg_getint(cfg, doc->name);
        return v >= 0 && v <= MAX_OLDSTATS_TOP;
    }
    case KIND_LAYOUT:
        return dva_option_layout(cfg_getstr(cfg, doc->name)) >= 0;
    case KIND_MAX_USERS: {
        long v = cfg_getint(cfg, doc->name);
        return v >= 0 && v <= MAX_MAX_USERS;
    }
    case KIND_SERIES: {
        dva_quota_series series;
        size_t top;
        return dva_quota_series_parse(cfg_getstr(cfg, doc->name), &series, &top);
    }
    }
    return false;
}

int dva_config_set(dva_config *c, const char *option, const char *value, dva_error *err)
{
    int i = dva_option_find(option);
    if (i < 0)
        return unknown_option(c, option, err);
    const option_doc *doc = &dva_option_docs[i];
    if (value == NULL)
        return dva_fail(
            err, DVA_ERR_USAGE,
            "instance \"%s\": option %s needs a value: expected %s, e.g. %s", c->name,
            doc->name, expectation(doc->kind), doc->example);
    if (c->seen[i] && !doc->repeatable)
        return dva_fail(err, DVA_ERR_USAGE,
                        "instance \"%s\": option %s is given more than once; keep one",
                        c->name, doc->name);
    c->seen[i] = true;
    if (doc->kind == KIND_TEXT && value[0] == '\0')
        return bad_value(c, doc, value, "is empty", err);
    /* No name, path or password Dovecot knows can hold one (its settings
     * are lines): a line break is a quoting slip, e.g. a pasted newline. */
    if (doc->kind == KIND_TEXT && strpbrk(value, "\r\n") != NULL)
        return bad_value(c, doc, value, "holds a line break", err);
    /* libconfuse 3.3 reads errno after strtod without clearing it first. */
    errno = 0;
    if (cfg_setopt(c->cfg, cfg_getopt(c->cfg, doc->name), value) == NULL)
        return bad_value(c, doc, value, "is not valid", err);
    if (!in_range(c, doc))
        return bad_value(c, doc, value, "is out of range", err);
    return 0;
}

bool dva_config_option(size_t index, dva_option_info *out)
{
    if (index >= DVA_NOPTIONS)
        return false;
    out->name = dva_option_docs[index].name;
    out->expected = expectation(dva_option_docs[index].kind);
    out->example = dva_option_docs[index].example;
    out->repeatable = dva_option_docs[index].repeatable;
    return true;
}
