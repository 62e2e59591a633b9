/* SPDX-License-Identifier: MIT */
/* dovecot-collectd-check: one read of one Dovecot with the plugin's own
 * code (the library's schema and scrape, the plugin's plan, submit and
 * notify modules), printed as a table, as collectd PUTVAL lines or as one
 * Nagios-style status line, with the status as exit code. Administrators
 * run it to test access before enabling the plugin. */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "check_config.h"
#include "check_host.h"
#include "check_output.h"
#include "doveadm/resolver.h"
#include "doveadm/scrape.h"
#include "doveadm/settings.h"
#include "plugin_config.h"
#include "plugin_log.h"
#include "plugin_notify.h"
#include "plugin_plan.h"
#include "plugin_submit.h"

#define PROG "dovecot-collectd-check"
#define DEFAULT_TIMEOUT 10.0
#define DEFAULT_TYPES_DB "/usr/share/collectd/types.db"

typedef enum { FORMAT_TABLE, FORMAT_PUTVAL, FORMAT_NAGIOS } output_format;

typedef struct {
    chk_config_options flags; /* options from flags, in order */
    const char *config_path;
    const char *instance;
    const char *types_db;
    output_format format;
    bool mailbox_flag;
    bool verbose;
} args;

static void usage(FILE *out)
{
    fprintf(
        out,
        "Usage: " PROG " [OPTIONS]\n"
        "Connects to a Dovecot as the collectd dovecot plugin would, runs one read\n"
        "and prints every value. Exit status: 0 OK, 1 WARNING (a quota at or above\n"
        "QuotaWarning), 2 CRITICAL (at or above QuotaFailure), 3 UNKNOWN (cannot\n"
        "connect or authenticate, a step failed, or bad options).\n"
        "\n"
        "  -f, --config FILE       options from FILE: the plugin's configuration\n"
        "                          (e.g. /etc/collectd/collectd.conf.d/dovecot.conf)\n"
        "                          or bare option lines\n"
        "  -i, --instance NAME     the <Instance> of FILE (default: the first)\n"
        "  -s, --socket PATH       Socket (default " DVA_DEFAULT_SOCKET ")\n"
        "  -H, --host HOST         Host (TCP)\n"
        "  -p, --port PORT         Port\n"
        "  -P, --password-file F   PasswordFile\n"
        "  -u, --user USER         QuotaUser (repeatable)\n"
        "  -U, --users MASK        QuotaUsers (repeatable), e.g. '*'\n"
        "  -m, --mailbox MASK      Mailbox (repeatable); turns CollectMailbox on\n"
        "  -w, --warning PERCENT   QuotaWarning\n"
        "  -c, --critical PERCENT  QuotaFailure\n"
        "  -t, --timeout SECONDS   Timeout (default %g)\n"
        "  -o, --option 'NAME VALUE'  any option of the plugin (also NAME=VALUE)\n"
        "  -F, --format FORMAT     table (default), putval (collectd PUTVAL lines)\n"
        "                          or nagios (the status line only)\n"
        "  -T, --types-db FILE     collectd's types.db (default " DEFAULT_TYPES_DB ")\n"
        "  -l, --list-options      list the plugin's options and exit\n"
        "  -v, --verbose           also print the plugin's informational log lines\n"
        "  -h, --help\n"
        "See " PROG "(1) and collectd-dovecot(5).\n",
        DEFAULT_TIMEOUT);
}

static int add_flag(args *a, const char *option, const char *value)
{
    chk_config_options *o = &a->flags;
    chk_config_item *grown = realloc(o->items, (o->nitems + 1) * sizeof(*grown));
    if (grown == NULL)
        return -1;
    o->items = grown;
    chk_config_item *it = &o->items[o->nitems++];
    it->option = strdup(option);
    it->value = strdup(value);
    it->line = (unsigned)optind;
    it->nth = 0;
    return it->option != NULL && it->value != NULL ? 0 : -1;
}

/* -o "Name Value" or -o Name=Value */
static int add_generic(args *a, const char *text)
{
    size_t n = strcspn(text, "= \t");
    if (n == 0 || text[n] == '\0') {
        fprintf(stderr, PROG ": -o %s: expected 'NAME VALUE' or NAME=VALUE\n", text);
        return -1;
    }
    char *name = strndup(text, n);
    if (name == NULL)
        return -1;
    const char *value = text + n + 1;
    while (*value == ' ' || *value == '\t')
        value++;
    int rc = add_flag(a, name, value);
    free(name);
    return rc;
}

static bool has_option(const chk_config_options *o, const char *name)
{
    for (size_t i = 0; i < o->nitems; i++)
        if (strcasecmp(o->items[i].option, name) == 0)
            return true;
    return false;
}

static void list_options(void)
{
    dva_option_info info;
    for (size_t i = 0; dva_config_option(i, &info); i++)
        printf("%-16s %s%s; e.g. %s\n", info.name, info.expected,
               info.repeatable ? " (repeatable)" : "", info.example);
}

/* Returns -1 to exit 3 (bad usage), 1 to exit 0 (help, list), 0 to run. */
static int parse_args(args *a, int argc, char **argv)
{
    static const struct option longs[] = {
        {"config", required_argument, NULL, 'f'},
        {"instance", required_argument, NULL, 'i'},
        {"socket", required_argument, NULL, 's'},
        {"host", required_argument, NULL, 'H'},
        {"port", required_argument, NULL, 'p'},
        {"password-file", required_argument, NULL, 'P'},
        {"user", required_argument, NULL, 'u'},
        {"users", required_argument, NULL, 'U'},
        {"mailbox", required_argument, NULL, 'm'},
        {"warning", required_argument, NULL, 'w'},
        {"critical", required_argument, NULL, 'c'},
        {"timeout", required_argument, NULL, 't'},
        {"option", required_argument, NULL, 'o'},
        {"format", required_argument, NULL, 'F'},
        {"types-db", required_argument, NULL, 'T'},
        {"list-options", no_argument, NULL, 'l'},
        {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    static const struct {
        int flag;
        const char *option;
    } direct[] = {{'s', "Socket"},       {'H', "Host"},         {'p', "Port"},
                  {'P', "PasswordFile"}, {'u', "QuotaUser"},    {'U', "QuotaUsers"},
                  {'m', "Mailbox"},      {'w', "QuotaWarning"}, {'c', "QuotaFailure"},
                  {'t', "Timeout"}};
    int c;
    while ((c = getopt_long(argc, argv, "f:i:s:H:p:P:u:U:m:w:c:t:o:F:T:lvh", longs,
                            NULL)) != -1) {
        bool done = false;
        for (size_t i = 0; i < sizeof(direct) / sizeof(direct[0]); i++)
            if (c == direct[i].flag) {
                if (add_flag(a, direct[i].option, optarg) < 0)
                    return -1;
                done = true;
            }
        if (done) {
            a->mailbox_flag |= c == 'm';
            continue;
        }
        switch (c) {
        case 'f':
            a->config_path = optarg;
            break;
        case 'i':
            a->instance = optarg;
            break;
        case 'o':
            if (add_generic(a, optarg) < 0)
                return -1;
            break;
        case 'F':
            if (strcmp(optarg, "table") == 0)
                a->format = FORMAT_TABLE;
            else if (strcmp(optarg, "putval") == 0)
                a->format = FORMAT_PUTVAL;
            else if (strcmp(optarg, "nagios") == 0)
                a->format = FORMAT_NAGIOS;
            else {
                fprintf(stderr,
                        PROG ": --format %s: expected table, putval or nagios\n",
                        optarg);
                return -1;
            }
            break;
        case 'T':
            a->types_db = optarg;
            break;
        case 'l':
            list_options();
            return 1;
        case 'v':
            a->verbose = true;
            break;
        case 'h':
            usage(stdout);
            return 1;
        default:
            usage(stderr);
            return -1;
        }
    }
    if (optind < argc) {
        fprintf(stderr, PROG ": unexpected argument \"%s\"; see --help\n",
                argv[optind]);
        return -1;
    }
    return 0;
}

static void warn_stderr(void *ctx, const char *message)
{
    (void)ctx;
    fprintf(stderr, PROG ": warning: %s\n", message);
}

/* Reads the file and the flags into validated settings. */
static int configure(args *a, dva_settings *s)
{
    chk_config_options file = {0};
    dva_error err = {0};
    if (a->config_path != NULL &&
        chk_config_parse_file(a->config_path, a->instance, &file, &err) < 0) {
        fprintf(stderr, PROG ": %s\n", err.message);
        return -1;
    }
    const char *name = a->instance != NULL     ? a->instance
                       : file.instance != NULL ? file.instance
                                               : DVP_DEFAULT_INSTANCE;
    if (a->mailbox_flag && !has_option(&file, "CollectMailbox") &&
        !has_option(&a->flags, "CollectMailbox") &&
        add_flag(a, "CollectMailbox", "true") < 0) {
        chk_config_options_free(&file);
        return -1;
    }
    dva_config *cfg = dva_config_new(name);
    int rc = -1;
    if (cfg == NULL)
        fprintf(stderr, PROG ": out of memory\n");
    else if ((a->config_path != NULL &&
              chk_config_apply(&file, a->config_path, cfg, &err) < 0) ||
             chk_config_apply(&a->flags, "command line", cfg, &err) < 0 ||
             dva_config_finish(cfg, s, warn_stderr, NULL, &err) < 0)
        fprintf(stderr, PROG ": %s\n", err.message);
    else
        rc = 0;
    dva_config_free(cfg);
    chk_config_options_free(&file);
    return rc;
}

static void print_logs(const chk_capture *c, bool verbose)
{
    for (size_t i = 0; i < c->nlogs; i++)
        if (verbose || c->logs[i].level <= LOG_WARNING)
            fprintf(stderr, "%s: %s\n", c->logs[i].level <= LOG_ERR ? "error" : "log",
                    c->logs[i].text);
}

static void set_hostname(void)
{
    char name[DATA_MAX_NAME_LEN] = "";
    if (gethostname(name, sizeof(name) - 1) == 0 && name[0] != '\0')
        chk_host_set_hostname(name);
}

/* Runs one read with the plugin's modules; returns the exit status. */
static int check(const args *a, const dva_settings *s)
{
    double timeout = s->timeout > 0    ? s->timeout
                     : s->interval > 0 ? 0.8 * s->interval
                                       : DEFAULT_TIMEOUT;
    char where[512];
    if (s->host != NULL)
        snprintf(where, sizeof(where), "%s port %u", s->host, s->port);
    else
        snprintf(where, sizeof(where), "%s", s->socket_path);

    set_hostname();
    chk_host_load_types(a->types_db != NULL ? a->types_db : DEFAULT_TYPES_DB);
    dvp_logger log;
    dvp_logger_init(&log, s->name, s->password);
    dva_scrape_plan plan;
    dvp_plan_init(&plan, s, timeout, &log);
    /* As in the plugin: a slow DNS ends the check at Timeout, naming the
     * host. Not created (bad Host): the read reports why. */
    dva_resolver *resolver = NULL;
    if (s->host != NULL) {
        dva_error rerr;
        resolver = dva_resolver_new(s->host, s->port, NULL, &rerr);
        plan.resolver = resolver;
    }

    dva_scrape_result result;
    dva_error err = {0};
    int status = CHK_UNKNOWN;
    if (dva_scrape_run(&plan, &result, &err) < 0) {
        fprintf(stderr, PROG ": cannot read: %s\n", err.message);
    } else {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        cdtime_t now = TIMESPEC_TO_CDTIME_T(&ts);
        dvp_submit submit;
        dvp_submit_init(&submit, s->name, s->report_host,
                        DOUBLE_TO_CDTIME_T(s->interval), &log);
        submit.layout = s->identifier_layout;
        dvp_series_init(&submit.series, s->quota_series, s->quota_series_top,
                        s->quota_warning);
        dvp_submit_result(&submit, &result, now);
        dvp_submit_free(&submit);
        dvp_notify notify;
        dvp_notify_init(&notify, s->name, s->report_host, s->quota_warning,
                        s->quota_failure, &log);
        notify.health.enabled = s->service_notifications;
        notify.layout = s->identifier_layout;
        dvp_notify_result(&notify, &result, now);
        dvp_notify_free(&notify);

        chk_verdict verdict;
        chk_verdict_of(&result, s->quota_warning, s->quota_failure, where, &verdict);
        print_logs(&chk_captured, a->verbose);
        if (a->format == FORMAT_TABLE) {
            chk_print_table(stdout, &chk_captured);
            chk_print_status(stdout, &verdict);
        } else if (a->format == FORMAT_PUTVAL) {
            chk_print_putval(stdout, &chk_captured);
            chk_print_status(stderr, &verdict);
        } else {
            chk_print_status(stdout, &verdict);
        }
        status = (int)verdict.status;
    }
    dva_scrape_result_free(&result);
    dva_resolver_free(resolver);
    dvp_logger_free(&log);
    chk_host_reset();
    if (fflush(stdout) != 0 || ferror(stdout))
        return CHK_UNKNOWN;
    return status;
}

int main(int argc, char **argv)
{
    args a;
    memset(&a, 0, sizeof(a));
    int rc = parse_args(&a, argc, argv);
    if (rc != 0) {
        chk_config_options_free(&a.flags);
        return rc > 0 ? 0 : CHK_UNKNOWN;
    }
    dva_settings s;
    if (configure(&a, &s) < 0) {
        chk_config_options_free(&a.flags);
        return CHK_UNKNOWN;
    }
    int status = check(&a, &s);
    dva_settings_free(&s);
    chk_config_options_free(&a.flags);
    return status;
}
