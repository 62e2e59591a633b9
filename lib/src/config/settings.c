/* The instance option schema in libconfuse, and its validation. */
#include "doveadm/settings.h"

#include "doveadm/tls_transport.h"

#include <confuse.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define PASSWORD_FILE_MAX 4096
#define DEFAULT_QUOTA_WARNING 90.0
#define DEFAULT_QUOTA_FAILURE 98.0
#define DEFAULT_CONNECTIONS 2
#define DEFAULT_OLDSTATS_TOP 20
#define MAX_OLDSTATS_TOP 100000

typedef enum {
    KIND_TEXT,
    KIND_PORT,
    KIND_SECONDS,
    KIND_BOOL,
    KIND_PERCENT,
    KIND_COUNT,
    KIND_TLS_MODE,
    KIND_GENERATION, /* DovecotVersion */
    KIND_SCOPE,      /* OldStats */
    KIND_TOP,        /* OldStatsTop */
} value_kind;

typedef struct {
    const char *name;
    value_kind kind;
    bool repeatable;
    bool secret; /* never echo the value */
    const char *example;
} option_doc;

/* One row per option, in the order of cfg_opts below. */
static const option_doc docs[] = {
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
};
#define NOPTS (sizeof(docs) / sizeof(docs[0]))

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
    CFG_END(),
};

struct dva_config {
    cfg_t *cfg;
    char *name;
    bool seen[NOPTS];
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

static int find_doc(const char *option)
{
    for (size_t i = 0; i < NOPTS; i++)
        if (strcasecmp(docs[i].name, option) == 0)
            return (int)i;
    return -1;
}

bool dva_config_repeatable(const char *option)
{
    int i = find_doc(option);
    return i >= 0 && docs[i].repeatable;
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
    for (size_t i = 0; i < NOPTS; i++) {
        size_t d = distance(option, docs[i].name);
        if (d < best) {
            best = d;
            guess = docs[i].name;
        }
        strncat(valid, docs[i].name, sizeof(valid) - strlen(valid) - 3);
        if (i + 1 < NOPTS)
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

static int tls_mode_of(const char *value)
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
        return tls_mode_of(cfg_getstr(cfg, doc->name)) >= 0;
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
    }
    return false;
}

int dva_config_set(dva_config *c, const char *option, const char *value, dva_error *err)
{
    int i = find_doc(option);
    if (i < 0)
        return unknown_option(c, option, err);
    const option_doc *doc = &docs[i];
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

/* ---- finishing ---- */

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

static int read_password_file(const dva_config *c, dva_settings *s,
                              dva_config_warn_fn *warn, void *warn_ctx, dva_error *err)
{
    int fd = open(s->password_file, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return dva_fail(err, DVA_ERR_USAGE,
                        "instance \"%s\": option PasswordFile: cannot read \"%s\": %s "
                        "(make it readable by the user collectd runs as)",
                        c->name, s->password_file, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) == 0 && (st.st_mode & 077) != 0 && warn != NULL) {
        char msg[DVA_ERROR_MESSAGE_MAX];
        snprintf(msg, sizeof(msg),
                 "instance \"%s\": PasswordFile \"%s\" is readable by group or others "
                 "(mode %04o); chmod 600 it",
                 c->name, s->password_file, (unsigned)(st.st_mode & 07777));
        warn(warn_ctx, msg);
    }
    char buf[PASSWORD_FILE_MAX + 1];
    size_t len = 0;
    for (;;) {
        ssize_t n = read(fd, buf + len, sizeof(buf) - 1 - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        len += (size_t)n;
        if (len == sizeof(buf) - 1)
            break;
    }
    close(fd);
    buf[len] = '\0';
    size_t line = strcspn(buf, "\r\n");
    int rc = 0;
    if (line == len && len == sizeof(buf) - 1)
        rc = dva_fail(
            err, DVA_ERR_USAGE,
            "instance \"%s\": option PasswordFile: \"%s\" has no line break in "
            "its first %d bytes; it must hold the password on its first line",
            c->name, s->password_file, PASSWORD_FILE_MAX);
    else if (line == 0)
        rc = dva_fail(
            err, DVA_ERR_USAGE,
            "instance \"%s\": option PasswordFile: the first line of \"%s\" is "
            "empty; write the server's doveadm_password there",
            c->name, s->password_file);
    else if ((s->password = strndup(buf, line)) == NULL)
        rc = dva_fail(err, DVA_ERR_NOMEM, "out of memory");
    explicit_bzero(buf, sizeof(buf));
    return rc;
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
        if (c->seen[find_doc(needs_scope[i])])
            return dva_fail(err, DVA_ERR_USAGE,
                            "instance \"%s\": option %s is given without OldStats; add "
                            "OldStats \"user\" (or global, domain, ip) or remove %s",
                            c->name, needs_scope[i], needs_scope[i]);
    if (!any)
        return 0;
    if (s->generation == DVA_GEN_24)
        return dva_fail(err, DVA_ERR_USAGE,
                        "instance \"%s\": option OldStats: Dovecot 2.4 has no old "
                        "statistics (old_stats was removed); remove OldStats or fix "
                        "DovecotVersion",
                        c->name);
    for (size_t i = 0; i < DVA_OLDSTATS_NSCOPES; i++) {
        if (!s->oldstats[i])
            continue;
        dva_oldstats_layout l;
        dva_error why;
        if (dva_oldstats_layout_init(&l, s->generation, (dva_oldstats_scope)i,
                                     (const char *const *)s->oldstats_columns,
                                     s->noldstats_columns, &why) < 0)
            return dva_fail(err, DVA_ERR_USAGE,
                            "instance \"%s\": option OldStatsColumns: %s List the "
                            "fields after num_cmds in the header of `doveadm "
                            "oldstats dump %s`, e.g. %s",
                            c->name, why.message,
                            dva_oldstats_scope_name((dva_oldstats_scope)i),
                            docs[find_doc("OldStatsColumns")].example);
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
    if (s->host == NULL && c->seen[find_doc("Port")])
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

/* ---- TLS and the cleartext guard ---- */

static void warnf(dva_config_warn_fn *warn, void *warn_ctx, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void warnf(dva_config_warn_fn *warn, void *warn_ctx, const char *fmt, ...)
{
    if (warn == NULL)
        return;
    char msg[DVA_ERROR_MESSAGE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    warn(warn_ctx, msg);
}

static int check_tls(const dva_config *c, const dva_settings *s,
                     dva_config_warn_fn *warn, void *warn_ctx, dva_error *err)
{
    static const char *const tls_only[] = {"CACert", "VerifyPeer", "VerifyHost",
                                           "ServerName"};
    if (s->tls == DVA_TLS_NONE) {
        for (size_t i = 0; i < sizeof(tls_only) / sizeof(tls_only[0]); i++)
            if (c->seen[find_doc(tls_only[i])])
                return dva_fail(err, DVA_ERR_USAGE,
                                "instance \"%s\": option %s applies only to TLS, but "
                                "TLS is \"none\"; add TLS \"tls\" (or \"starttls\") "
                                "or remove %s",
                                c->name, tls_only[i], tls_only[i]);
        return 0;
    }
    const char *mode = s->tls == DVA_TLS_STARTTLS ? "starttls" : "tls";
    if (s->host == NULL)
        return dva_fail(err, DVA_ERR_USAGE,
                        "instance \"%s\": option TLS \"%s\" needs Host: TLS is for "
                        "TCP, a UNIX socket is local; add Host \"...\" or set TLS "
                        "\"none\"",
                        c->name, mode);
    if (s->ca_cert != NULL && access(s->ca_cert, R_OK) != 0)
        return dva_fail(err, DVA_ERR_USAGE,
                        "instance \"%s\": option CACert: cannot read \"%s\": %s (give "
                        "the PEM file of the CA that signed the server's certificate, "
                        "readable by the user collectd runs as)",
                        c->name, s->ca_cert, strerror(errno));
    /* Load it now, so a file that is not PEM stops start-up, not every read. */
    dva_tls_options o = {.mode = s->tls, .ca_file = s->ca_cert};
    dva_error terr;
    dva_tls_context *ctx = dva_tls_context_new(&o, &terr);
    if (ctx == NULL)
        return dva_fail(err, DVA_ERR_USAGE, "instance \"%s\": option CACert: %s",
                        c->name, terr.message);
    dva_tls_context_free(ctx);
    if (!s->verify_peer)
        warnf(warn, warn_ctx,
              "instance \"%s\": VerifyPeer false: the server's certificate is not "
              "checked, so anyone on the path can pose as the server and read the "
              "password; give CACert \"/path\" instead",
              c->name);
    else if (!s->verify_host)
        warnf(warn, warn_ctx,
              "instance \"%s\": VerifyHost false: any certificate of the trusted CAs "
              "is accepted, whichever host it names; prefer ServerName \"...\"",
              c->name);
    return 0;
}

/* 127.0.0.0/8, ::1 (also IPv4-mapped) and "localhost": traffic that never
 * leaves the host. Names are not resolved here: only these count. */
static bool is_loopback(const char *host)
{
    char name[INET6_ADDRSTRLEN + 8];
    size_t len = strlen(host);
    if (len >= 2 && host[0] == '[' && host[len - 1] == ']') {
        if (len - 2 >= sizeof(name))
            return false;
        memcpy(name, host + 1, len - 2);
        name[len - 2] = '\0';
    } else if (len < sizeof(name)) {
        memcpy(name, host, len + 1);
    } else {
        return false;
    }
    if (strcasecmp(name, "localhost") == 0)
        return true;
    struct in_addr a4;
    struct in6_addr a6;
    if (inet_pton(AF_INET, name, &a4) == 1)
        return (ntohl(a4.s_addr) >> 24) == 127;
    if (inet_pton(AF_INET6, name, &a6) == 1)
        return IN6_IS_ADDR_LOOPBACK(&a6) ||
               (IN6_IS_ADDR_V4MAPPED(&a6) && a6.s6_addr[12] == 127);
    return false;
}

static int check_cleartext(const dva_config *c, const dva_settings *s, dva_error *err)
{
    if (s->host == NULL || s->password == NULL || s->tls != DVA_TLS_NONE ||
        s->allow_cleartext_password || is_loopback(s->host))
        return 0;
    return dva_fail(err, DVA_ERR_USAGE,
                    "instance \"%s\": option TLS is \"none\" and Host \"%s\" is not "
                    "a loopback address: the doveadm password would cross the network "
                    "unencrypted. Set TLS \"tls\" (a doveadm listener with ssl = yes) "
                    "or TLS \"starttls\" with CACert \"/path\", or, on a network you "
                    "trust, AllowCleartextPassword true",
                    c->name, s->host);
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
    s->quota_warning = cfg_getfloat(cfg, "QuotaWarning");
    s->quota_failure = cfg_getfloat(cfg, "QuotaFailure");
    s->report_host = dup_opt(cfg, "ReportHost");
    s->connections = (unsigned)cfg_getint(cfg, "Connections");
    s->tls = (dva_tls_mode)tls_mode_of(cfg_getstr(cfg, "TLS"));
    s->ca_cert = dup_opt(cfg, "CACert");
    s->verify_peer = cfg_getbool(cfg, "VerifyPeer");
    s->verify_host = cfg_getbool(cfg, "VerifyHost");
    s->server_name = dup_opt(cfg, "ServerName");
    s->allow_cleartext_password = cfg_getbool(cfg, "AllowCleartextPassword");
    s->quota_scan = cfg_getbool(cfg, "QuotaScan");
    s->quota_scan_dir = dup_opt(cfg, "QuotaScanDir");
    s->quota_interval = cfg_getfloat(cfg, "QuotaInterval");
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
    if (s->password_file != NULL && read_password_file(c, s, warn, warn_ctx, err) < 0)
        goto fail;
    if (check_tls(c, s, warn, warn_ctx, err) < 0)
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
    if (check_cleartext(c, s, err) < 0)
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

bool dva_config_option(size_t index, dva_option_info *out)
{
    if (index >= NOPTS)
        return false;
    out->name = docs[index].name;
    out->expected = expectation(docs[index].kind);
    out->example = docs[index].example;
    out->repeatable = docs[index].repeatable;
    return true;
}
