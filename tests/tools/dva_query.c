/* SPDX-License-Identifier: MIT */
/* dva_query: ask a Dovecot doveadm server through libdoveadm and print the
 * decoded answers as tab-separated lines, one per row.
 *
 *   dva_query (--socket PATH | --host H --port N) [--password-file F]
 *             [--timeout-ms N] [--tls none|starttls|tls] [--ca-cert F]
 *             [--verify-peer yes|no] [--verify-host yes|no] [--server-name N]
 *             COMMAND [ARGS]
 *
 * The TLS options are those of the plugin (TLS, CACert, VerifyPeer,
 * VerifyHost, ServerName); the tool has no cleartext guard.
 *
 * COMMAND:
 *   stats                  stats\tMETRIC\tFIELD\tCOUNT\tSUM\tMIN\tMAX\tAVG\tMEDIAN\t
 *                          STDDEV\tP95  (no distribution yet, count 0: -)
 *   who                    who\tUSER\tSERVICE\tCONNECTIONS\tPIDS\tIPS, then
 *                          summary\tSERVICE\tUSERS\tSESSIONS per service and
 *                          total\tUSERS\tSESSIONS
 *   who-sessions           session\tUSER\tSERVICE\tPID\tIP (with --generation 2.4
 *                          also DEST_IP and the alternative usernames)
 *   quota USER...          quota\tUSER\tROOT\tTYPE\tVALUE\tLIMIT\tPERCENT (limit -
 *                          when unlimited; error rows: error error error);
 *                          all users pipelined on one connection, in order
 *   mailbox USER MASK      mailbox\tUSER\tMAILBOX\tMESSAGES\tUNSEEN\tVSIZE
 *   users MASK             users\tNAME
 *   oldstats SCOPE         oldstats\tSCOPE\tKEY\tCOLUMN\tVALUE, one line per
 *                          value (KEY - for global; times in microseconds);
 *                          global options --generation 2.2|2.3 (default 2.3),
 *                          --top N and --sort COLUMN (default num_cmds)
 *   scrape [--user U]... [--users-mask M]... [--no-stats] [--no-who] [--mailbox]
 *          [--oldstats SCOPE]... [--scan-dir DIR] [--connections N] [--slice K N]
 *                          runs dva_scrape_run(): scrape\tUP\tCONNECTIONS, then
 *                          the lines above, users\tNAME before each user's rows,
 *                          unsupported\tSTEP\tWHY for steps the generation
 *                          lacks, observed\tGENERATION\tCOMMAND when the
 *                          replies told the generation (--generation sets
 *                          the plan's; --top/--sort apply to --oldstats);
 *                          with --scan-dir (server-side quota scan) a line
 *                          scan\tSCANS\tok|failed; --slice K N reads only
 *                          the users of slice K of N (QuotaInterval);
 *                          --max-users N [--read-count C] bounds the listed
 *                          users (MaxUsers): a line parts\tPART\tPARTS\t
 *                          LISTED\tDROPPED when the bound split them; --stream takes
 *                          each user's quota as it comes (on_user_quota):
 *                          its rows are printed then, and streamed\tN
 *                          (how many users came so) at the end
 *   pipeline CMD [ARGS] [-- CMD [ARGS]]...
 *                          the commands above (but scrape) as requests on ONE
 *                          connection, in order: shows what the library refuses
 *
 * Errors go to stderr as error\tCODE\tMESSAGE. Exit status: 0 success, 1 a
 * command failed or was refused, 2 the connection failed, 64 bad invocation.
 * The password is never printed. */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "doveadm/doveadm.h"
#include "doveadm/scrape.h"

#define EXIT_COMMAND 1
#define EXIT_CONNECTION 2
#define EXIT_INVOCATION 64
#define PASSWORD_MAX 4096
#define MAX_USERS 100000

typedef enum {
    Q_STATS,
    Q_WHO,
    Q_SESSIONS,
    Q_QUOTA,
    Q_MAILBOX,
    Q_USERS,
    Q_OLDSTATS
} query_kind;

typedef struct {
    query_kind kind;
    const char *user;         /* Q_QUOTA, Q_MAILBOX */
    const char *mask;         /* Q_MAILBOX, Q_USERS */
    dva_oldstats_scope scope; /* Q_OLDSTATS */
} query;

/* Options of oldstats queries. */
static dva_generation oldstats_gen = DVA_GEN_AUTO; /* AUTO: the 2.3 commands */
static size_t oldstats_top;
static const char *oldstats_sort = "num_cmds";

typedef struct {
    const char *socket_path, *host;
    unsigned port;
    char password[PASSWORD_MAX];
    bool has_password;
    uint64_t timeout_ms;
    dva_tls_options tls;
    const char *server_name;
} target;

static const char *const mailbox_fields[] = {"messages", "unseen", "vsize"};
#define NMAILBOX_FIELDS (sizeof(mailbox_fields) / sizeof(mailbox_fields[0]))

static int status = 0; /* the exit status so far: the worst wins */

static void fail_with(int code)
{
    if (code > status)
        status = code;
}

static void print_error(const dva_error *err)
{
    fprintf(stderr, "error\t%s\t%s\n", dva_errcode_name(err->code), err->message);
    fail_with(err->code == DVA_ERR_COMMAND || err->code == DVA_ERR_DECODE ||
                      err->code == DVA_ERR_USAGE
                  ? EXIT_COMMAND
                  : EXIT_CONNECTION);
}

static void log_message(void *ctx, dva_log_level level, const char *message)
{
    (void)ctx;
    fprintf(stderr, "%s\t%s\n", level == DVA_LOG_WARNING ? "warning" : "info", message);
}

static void usage(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void usage(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "error\tusage\t");
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr,
            "\nusage: dva_query (--socket PATH | --host H --port N) "
            "[--password-file F] [--timeout-ms N] [--tls none|starttls|tls] "
            "[--ca-cert F] [--verify-peer yes|no] [--verify-host yes|no] "
            "[--server-name N] COMMAND [ARGS]\n"
            "commands: stats | who | who-sessions | quota USER... | "
            "mailbox USER MASK | users MASK | oldstats SCOPE | scrape [OPTIONS] | "
            "pipeline CMD [ARGS] [-- CMD [ARGS]]...\n");
    exit(EXIT_INVOCATION);
}

static unsigned long parse_number(const char *s, unsigned long max, const char *what)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno != 0 || *s < '0' || *s > '9' || *end != '\0' || v == 0 || v > max)
        usage("bad %s", what);
    return v;
}

static void read_password(target *t, const char *path)
{
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        fprintf(stderr, "error\tusage\tcannot read the password file %s: %s\n", path,
                strerror(errno));
        exit(EXIT_INVOCATION);
    }
    size_t n = fread(t->password, 1, sizeof(t->password) - 1, f);
    bool too_long = n == sizeof(t->password) - 1 && fgetc(f) != EOF;
    fclose(f);
    if (too_long)
        usage("the password file %s is longer than %d bytes", path, PASSWORD_MAX - 1);
    while (n > 0 && (t->password[n - 1] == '\n' || t->password[n - 1] == '\r'))
        n--;
    t->password[n] = '\0';
    t->has_password = true;
}

static bool parse_yes_no(const char *s, const char *what)
{
    if (strcmp(s, "yes") == 0)
        return true;
    if (strcmp(s, "no") == 0)
        return false;
    usage("%s must be yes or no", what);
}

static dva_tls_mode parse_tls_mode(const char *s)
{
    if (strcmp(s, "none") == 0)
        return DVA_TLS_NONE;
    if (strcmp(s, "starttls") == 0)
        return DVA_TLS_STARTTLS;
    if (strcmp(s, "tls") == 0)
        return DVA_TLS_IMMEDIATE;
    usage("--tls must be none, starttls or tls");
}

/* The transport for t: a socket, wrapped in TLS when asked. *ctx receives
 * the TLS context to free after the transport. */
static dva_transport *open_transport(const target *t, dva_tls_context **ctx,
                                     dva_error *err)
{
    *ctx = NULL;
    dva_transport *tr = t->socket_path != NULL
                            ? dva_unix_transport_new(t->socket_path, err)
                            : dva_tcp_transport_new(t->host, t->port, err);
    if (tr == NULL || t->tls.mode == DVA_TLS_NONE)
        return tr;
    if ((*ctx = dva_tls_context_new(&t->tls, err)) == NULL) {
        dva_transport_destroy(tr);
        return NULL;
    }
    return dva_tls_transport_new(
        tr, *ctx, t->server_name != NULL ? t->server_name : t->host, err);
}

/* ---- printing ---- */

static void print_double(double v, int decimals)
{
    if (isnan(v))
        printf("\t-");
    else
        printf("\t%.*f", decimals, v);
}

static void print_stats(const dva_stats *s)
{
    for (size_t i = 0; i < s->nrows; i++) {
        const dva_stats_row *r = &s->rows[i];
        printf("stats\t%s\t%s\t%llu\t%llu", r->metric, r->field,
               (unsigned long long)r->count, (unsigned long long)r->sum);
        print_double(r->min, 0);
        print_double(r->max, 0);
        print_double(r->avg, 2);
        print_double(r->median, 0);
        print_double(r->stddev, 2);
        print_double(r->p95, 0);
        putchar('\n');
    }
}

static void print_who(const dva_who *who, const dva_who_summary *sum)
{
    for (size_t i = 0; i < who->nrows; i++) {
        const dva_who_row *r = &who->rows[i];
        printf("who\t%s\t%s\t%llu\t%s\t%s\n", r->user, r->service,
               (unsigned long long)r->connections, r->pids, r->ips);
    }
    for (size_t i = 0; i < sum->nservices; i++)
        printf("summary\t%s\t%llu\t%llu\n", sum->services[i].service,
               (unsigned long long)sum->services[i].users,
               (unsigned long long)sum->services[i].sessions);
    printf("total\t%llu\t%llu\n", (unsigned long long)sum->users,
           (unsigned long long)sum->sessions);
}

static void print_quota(const dva_quota *q)
{
    for (size_t i = 0; i < q->nrows; i++) {
        const dva_quota_row *r = &q->rows[i];
        printf("quota\t%s\t%s\t%s\t", r->user, r->root, r->type_name);
        if (r->error)
            printf("error\terror\terror\n");
        else if (r->unlimited)
            printf("%llu\t-\t%llu\n", (unsigned long long)r->value,
                   (unsigned long long)r->percent);
        else
            printf("%llu\t%llu\t%llu\n", (unsigned long long)r->value,
                   (unsigned long long)r->limit, (unsigned long long)r->percent);
    }
}

static void print_mailboxes(const dva_mailbox_status *m)
{
    for (size_t i = 0; i < m->nrows; i++)
        printf("mailbox\t%s\t%s\t%llu\t%llu\t%llu\n", m->rows[i].user,
               m->rows[i].mailbox, (unsigned long long)m->rows[i].values[0],
               (unsigned long long)m->rows[i].values[1],
               (unsigned long long)m->rows[i].values[2]);
}

static int print_oldstats(const query *q, const dva_reply *reply, dva_error *err)
{
    dva_oldstats_layout l;
    dva_oldstats st;
    if (dva_oldstats_layout_init(&l, oldstats_gen, q->scope, NULL, 0, err) < 0 ||
        dva_oldstats_decode(reply, &l, &st, err) < 0)
        return -1;
    long sort = dva_oldstats_column(&l, oldstats_sort);
    if (oldstats_top > 0 && sort < 0) {
        dva_oldstats_free(&st);
        return dva_fail(err, DVA_ERR_USAGE, "no column \"%s\" to sort by",
                        oldstats_sort);
    }
    if (oldstats_top > 0)
        dva_oldstats_keep_top(&st, (size_t)sort, oldstats_top);
    const char *scope = dva_oldstats_scope_name(q->scope);
    for (size_t r = 0; r < st.nrows; r++) {
        const char *key = st.rows[r].key != NULL ? st.rows[r].key : "-";
        for (size_t c = st.rows[r].key != NULL ? 1 : 0; c < l.ncolumns; c++)
            printf("oldstats\t%s\t%s\t%s\t%llu\n", scope, key, l.columns[c],
                   (unsigned long long)st.rows[r].values[c]);
    }
    dva_oldstats_free(&st);
    return 0;
}

/* Decodes and prints one result of q; reports what failed. */
static void print_result(const query *q, const dva_result *res)
{
    const dva_reply *reply = &res->reply;
    dva_error err = {0};
    int rc = 0;

    if (res->error.code != DVA_OK && res->error.code != DVA_ERR_COMMAND) {
        print_error(&res->error); /* the connection failed: no reply */
        return;
    }
    /* quota decodes a -TEMPFAIL reply with "error" rows too. */
    if (res->error.code == DVA_ERR_COMMAND && q->kind != Q_QUOTA) {
        print_error(&res->error);
        return;
    }
    switch (q->kind) {
    case Q_STATS: {
        dva_stats s;
        if ((rc = dva_stats_decode(reply, &s, &err)) == 0)
            print_stats(&s);
        dva_stats_free(&s);
        break;
    }
    case Q_WHO: {
        dva_who who;
        dva_who_summary sum = {0};
        if ((rc = dva_who_decode(reply, &who, &err)) == 0 &&
            (rc = dva_who_summarize(&who, &sum, &err)) == 0)
            print_who(&who, &sum);
        dva_who_summary_free(&sum);
        dva_who_free(&who);
        break;
    }
    case Q_SESSIONS: {
        dva_who_sessions s;
        if ((rc = dva_who_sessions_decode_gen(reply, oldstats_gen, &s, &err)) == 0)
            for (size_t i = 0; i < s.nrows; i++) {
                printf("session\t%s\t%s\t%s\t%s", s.rows[i].user, s.rows[i].service,
                       s.rows[i].pid, s.rows[i].ip);
                if (s.rows[i].dest_ip != NULL)
                    printf("\t%s", s.rows[i].dest_ip);
                for (size_t a = 0; a < s.rows[i].nalt; a++)
                    printf("\t%s", s.rows[i].alt[a]);
                putchar('\n');
            }
        dva_who_sessions_free(&s);
        break;
    }
    case Q_QUOTA: {
        dva_quota quota;
        if ((rc = dva_quota_decode(reply, q->user, &quota, &err)) == 0)
            print_quota(&quota);
        dva_quota_free(&quota);
        if (res->error.code == DVA_ERR_COMMAND) {
            if (rc < 0 && err.code != DVA_ERR_COMMAND)
                print_error(&err);
            print_error(&res->error);
            return;
        }
        break;
    }
    case Q_MAILBOX: {
        dva_mailbox_status m;
        if ((rc = dva_mailbox_decode(reply, NMAILBOX_FIELDS, q->user, &m, &err)) == 0)
            print_mailboxes(&m);
        dva_mailbox_free(&m);
        break;
    }
    case Q_OLDSTATS:
        rc = print_oldstats(q, reply, &err);
        break;
    case Q_USERS: {
        dva_userlist list = {0};
        if ((rc = dva_userlist_decode(reply, MAX_USERS, &list, &err)) == 0)
            for (size_t i = 0; i < list.nusers; i++)
                printf("users\t%s\n", list.users[i]);
        dva_userlist_free(&list);
        break;
    }
    }
    if (rc < 0)
        print_error(&err);
}

/* ---- one connection ---- */

static int build_command(const query *q, dva_command *cmd, dva_error *err)
{
    switch (q->kind) {
    case Q_STATS:
        dva_stats_command(cmd);
        return 0;
    case Q_WHO:
        dva_who_command(cmd);
        return 0;
    case Q_SESSIONS:
        dva_who_sessions_command_gen(cmd, oldstats_gen);
        return 0;
    case Q_QUOTA:
        dva_quota_command(cmd, dva_generation_user_rows(oldstats_gen));
        return 0;
    case Q_MAILBOX:
        return dva_mailbox_command(cmd, mailbox_fields, NMAILBOX_FIELDS, q->mask,
                                   dva_generation_user_rows(oldstats_gen), err);
    case Q_OLDSTATS: {
        dva_oldstats_layout l;
        if (dva_oldstats_layout_init(&l, oldstats_gen, q->scope, NULL, 0, err) < 0)
            return -1;
        dva_oldstats_command(cmd, &l);
        return 0;
    }
    case Q_USERS:
        if (dva_userlist_command(cmd, q->mask) == 0)
            return 0;
        return dva_fail(err, DVA_ERR_USAGE, "invalid user mask \"%s\"", q->mask);
    }
    return dva_fail(err, DVA_ERR_USAGE, "unknown query");
}

static void run_queries(const target *t, const query *qs, size_t n)
{
    dva_error err = {0};
    dva_tls_context *tls = NULL;
    dva_transport *tr = open_transport(t, &tls, &err);
    if (tr == NULL) {
        print_error(&err);
        dva_tls_context_free(tls);
        return;
    }
    dva_client_options opt = {.password = t->has_password ? t->password : NULL,
                              .log = log_message,
                              .starttls = t->tls.mode == DVA_TLS_STARTTLS};
    dva_client *c = dva_client_new(tr, &opt);
    if (c == NULL) {
        dva_transport_destroy(tr);
        dva_tls_context_free(tls);
        dva_fail(&err, DVA_ERR_NOMEM, "out of memory");
        print_error(&err);
        return;
    }
    uint64_t deadline = dva_now_ms() + t->timeout_ms;
    dva_client_set_deadline(c, deadline);
    for (size_t i = 0; i < n; i++) {
        dva_command cmd;
        if (build_command(&qs[i], &cmd, &err) < 0) {
            print_error(&err);
            continue;
        }
        dva_request req = dva_command_request(&cmd, qs[i].user, (void *)&qs[i]);
        if (dva_client_send(c, &req, &err) < 0)
            print_error(&err);
    }

    dva_result res = {0};
    bool conn_error_shown = false;
    for (;;) {
        dva_recv r;
        while ((r = dva_client_receive(c, &res)) == DVA_RECV_RESULT) {
            bool conn_error =
                res.error.code != DVA_OK && res.error.code != DVA_ERR_COMMAND;
            if (!conn_error || !conn_error_shown)
                print_result(res.tag, &res);
            conn_error_shown = conn_error_shown || conn_error;
        }
        if (r == DVA_RECV_IDLE)
            break;
        uint64_t now = dva_now_ms();
        if (dva_client_expire(c, now))
            continue;
        short ev = 0;
        struct pollfd pfd = {.fd =
                                 dva_transport_poll_fd(tr, dva_client_events(c), &ev)};
        pfd.events = ev;
        if (poll(&pfd, pfd.fd >= 0 && ev != 0, (int)(deadline - now)) < 0 &&
            errno != EINTR) {
            dva_client_close(c, DVA_ERR_IO, strerror(errno));
        }
    }
    dva_result_clear(&res);
    dva_client_free(c);
    dva_transport_destroy(tr);
    dva_tls_context_free(tls);
}

/* Appends the queries of one command (argv[0] is its name) to qs. */
static size_t parse_query(int argc, char **argv, query *qs)
{
    const char *name = argv[0];
    if (strcmp(name, "stats") == 0 || strcmp(name, "who") == 0 ||
        strcmp(name, "who-sessions") == 0) {
        if (argc != 1)
            usage("%s takes no arguments", name);
        qs[0].kind = name[0] == 's' ? Q_STATS : name[3] == '\0' ? Q_WHO : Q_SESSIONS;
        return 1;
    }
    if (strcmp(name, "quota") == 0) {
        if (argc < 2)
            usage("%s needs at least one user", name);
        for (int i = 1; i < argc; i++)
            qs[i - 1] = (query){.kind = Q_QUOTA, .user = argv[i]};
        return (size_t)argc - 1;
    }
    if (strcmp(name, "mailbox") == 0) {
        if (argc != 3)
            usage("%s needs USER and MASK", name);
        qs[0] = (query){.kind = Q_MAILBOX, .user = argv[1], .mask = argv[2]};
        return 1;
    }
    if (strcmp(name, "oldstats") == 0) {
        if (argc != 2 || !dva_oldstats_scope_parse(argv[1], &qs[0].scope))
            usage("oldstats takes one scope: global, domain, user or ip");
        qs[0].kind = Q_OLDSTATS;
        return 1;
    }
    if (strcmp(name, "users") == 0) {
        if (argc != 2)
            usage("%s needs MASK", name);
        qs[0] = (query){.kind = Q_USERS, .mask = argv[1]};
        return 1;
    }
    usage("unknown command \"%s\"", name);
}

/* ---- scrape ---- */

/* True when a scrape step failed; prints its error unless it is the
 * connection failure already shown. */
static bool step_failed(const dva_error *err, const dva_error *shown)
{
    if (err->code == DVA_OK)
        return false;
    if (shown == NULL || err->code != shown->code ||
        strcmp(err->message, shown->message) != 0)
        print_error(err);
    return true;
}

static void print_oldstats_steps(const dva_scrape_result *r, const dva_error *down)
{
    for (size_t i = 0; i < DVA_OLDSTATS_NSCOPES; i++) {
        const dva_scrape_oldstats *o = &r->oldstats[i];
        const char *scope = dva_oldstats_scope_name((dva_oldstats_scope)i);
        if (o->step.unsupported) {
            printf("unsupported\toldstats-%s\t%s\n", scope, o->step.error.message);
            continue;
        }
        if (!o->step.attempted || step_failed(&o->step.error, down))
            continue;
        for (size_t row = 0; row < o->stats.nrows; row++) {
            const dva_oldstats_row *rw = &o->stats.rows[row];
            for (size_t c = rw->key != NULL ? 1 : 0; c < o->layout.ncolumns; c++)
                printf("oldstats\t%s\t%s\t%s\t%llu\n", scope,
                       rw->key != NULL ? rw->key : "-", o->layout.columns[c],
                       (unsigned long long)rw->values[c]);
        }
    }
}

/* --stream: a user's quota as the read delivers it (on_user_quota). */
static void print_streamed(void *ctx, const dva_scrape_result *r,
                           const dva_scrape_user *u)
{
    (void)r;
    (*(size_t *)ctx)++;
    print_quota(&u->quota);
}

static void run_scrape(const target *t, int argc, char **argv)
{
    const char **users = calloc((size_t)argc, sizeof(*users));
    const char **masks = calloc((size_t)argc, sizeof(*masks));
    if (users == NULL || masks == NULL)
        usage("%s", "out of memory");
    dva_scrape_plan plan = {.socket_path = t->socket_path,
                            .host = t->host,
                            .port = t->port,
                            .password = t->has_password ? t->password : NULL,
                            .tls = t->tls,
                            .server_name = t->server_name,
                            .stats = true,
                            .who = true,
                            .users = users,
                            .user_masks = masks,
                            .timeout_ms = t->timeout_ms,
                            .log = log_message};
    size_t streamed = 0;
    bool oldstats_any = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--user") == 0 && i + 1 < argc)
            users[plan.nusers++] = argv[++i];
        else if (strcmp(argv[i], "--users-mask") == 0 && i + 1 < argc)
            masks[plan.nuser_masks++] = argv[++i];
        else if (strcmp(argv[i], "--no-stats") == 0)
            plan.stats = false;
        else if (strcmp(argv[i], "--no-who") == 0)
            plan.who = false;
        else if (strcmp(argv[i], "--mailbox") == 0)
            plan.mailbox = true;
        else if (strcmp(argv[i], "--oldstats") == 0 && i + 1 < argc) {
            dva_oldstats_scope scope;
            if (!dva_oldstats_scope_parse(argv[++i], &scope))
                usage("bad --oldstats scope \"%s\"", argv[i]);
            plan.oldstats[scope] = oldstats_any = true;
        } else if (strcmp(argv[i], "--scan-dir") == 0 && i + 1 < argc)
            plan.scan_dir = argv[++i];
        else if (strcmp(argv[i], "--slice") == 0 && i + 2 < argc) {
            plan.user_slice = (unsigned)strtoul(argv[++i], NULL, 10);
            plan.user_slices = (unsigned)strtoul(argv[++i], NULL, 10);
        } else if (strcmp(argv[i], "--connections") == 0 && i + 1 < argc)
            plan.connections = (unsigned)strtoul(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--max-users") == 0 && i + 1 < argc)
            plan.max_users = (size_t)strtoul(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--read-count") == 0 && i + 1 < argc)
            plan.read_count = (uint64_t)strtoull(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--stream") == 0) {
            plan.on_user_quota = print_streamed;
            plan.on_user_quota_ctx = &streamed;
        } else
            usage("bad scrape option \"%s\"", argv[i]);
    }
    plan.generation = oldstats_gen;
    plan.oldstats_top = oldstats_top;
    plan.oldstats_sort_by = oldstats_sort;
    plan.quota = plan.nusers > 0 || plan.nuser_masks > 0;
    if (!plan.stats && !plan.who && !plan.quota && !oldstats_any)
        usage("%s", "scrape has nothing to read: give --user or --users-mask");

    dva_scrape_result r;
    dva_error err = {0};
    if (dva_scrape_run(&plan, &r, &err) < 0) {
        print_error(&err);
    } else {
        printf("scrape\t%d\t%u\n", r.up ? 1 : 0, r.connections_opened);
        if (!r.up)
            print_error(&r.down_reason);
        const dva_error *down = r.up ? NULL : &r.down_reason;
        if (r.observed != DVA_GEN_AUTO)
            printf("observed\t%s\t%s\n", dva_generation_name(r.observed),
                   r.observed_by);
        print_oldstats_steps(&r, down);
        if (r.stats_step.unsupported)
            printf("unsupported\tstats\t%s\n", r.stats_step.error.message);
        else if (!step_failed(&r.stats_step.error, down) && r.stats_step.attempted)
            print_stats(&r.stats);
        if (!step_failed(&r.who_step.error, down) && r.who_step.attempted)
            print_who(&r.who, &r.who_summary);
        step_failed(&r.users_step.error, down);
        if (r.scan_step.attempted || r.scan_step.error.code != DVA_OK)
            printf("scan\t%zu\t%s\n", r.nscans,
                   r.scan_step.error.code == DVA_OK ? "ok" : "failed");
        step_failed(&r.scan_step.error, down);
        if (r.user_parts > 1 || r.users_dropped > 0)
            printf("parts\t%u\t%u\t%zu\t%zu\n", r.user_part, r.user_parts,
                   r.listed_users, r.users_dropped);
        for (size_t i = 0; i < r.nusers; i++) {
            const dva_scrape_user *u = &r.users[i];
            printf("users\t%s\n", u->name);
            dva_error qe, me;
            dva_user_step_error(&u->quota_step, &qe);
            dva_user_step_error(&u->mailbox_step, &me);
            if (!step_failed(&qe, down))
                print_quota(&u->quota);
            step_failed(&me, down);
            for (size_t m = 0; m < u->nmailbox_masks; m++)
                print_mailboxes(&u->mailboxes[m]);
        }
        if (plan.on_user_quota != NULL)
            printf("streamed\t%zu\n", streamed);
    }
    dva_scrape_result_free(&r);
    free(users);
    free(masks);
}

int main(int argc, char **argv)
{
    target t = {.timeout_ms = 10000};
    int i = 1;
    for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
        const char *opt = argv[i];
        if (i + 1 >= argc)
            usage("option %s needs a value", opt);
        const char *val = argv[++i];
        if (strcmp(opt, "--socket") == 0)
            t.socket_path = val;
        else if (strcmp(opt, "--host") == 0)
            t.host = val;
        else if (strcmp(opt, "--port") == 0)
            t.port = (unsigned)parse_number(val, 65535, "port");
        else if (strcmp(opt, "--password-file") == 0)
            read_password(&t, val);
        else if (strcmp(opt, "--generation") == 0) {
            if (!dva_generation_parse(val, &oldstats_gen))
                usage("bad --generation (auto, 2.2, 2.3 or 2.4)");
        } else if (strcmp(opt, "--top") == 0)
            oldstats_top = parse_number(val, 1000000, "--top");
        else if (strcmp(opt, "--sort") == 0)
            oldstats_sort = val;
        else if (strcmp(opt, "--timeout-ms") == 0)
            t.timeout_ms = parse_number(val, 3600000, "timeout");
        else if (strcmp(opt, "--tls") == 0)
            t.tls.mode = parse_tls_mode(val);
        else if (strcmp(opt, "--ca-cert") == 0)
            t.tls.ca_file = val;
        else if (strcmp(opt, "--verify-peer") == 0)
            t.tls.skip_verify_peer = !parse_yes_no(val, opt);
        else if (strcmp(opt, "--verify-host") == 0)
            t.tls.skip_verify_host = !parse_yes_no(val, opt);
        else if (strcmp(opt, "--server-name") == 0)
            t.server_name = val;
        else
            usage("unknown option %s", opt);
    }
    if ((t.socket_path == NULL) == (t.host == NULL) || (t.host != NULL && t.port == 0))
        usage("%s", "give either --socket or --host and --port");
    if (i >= argc)
        usage("%s", "no command given");

    if (strcmp(argv[i], "scrape") == 0) {
        run_scrape(&t, argc - i, argv + i);
    } else {
        /* Every argument yields at most one query. */
        query *qs = calloc((size_t)(argc - i), sizeof(*qs));
        size_t n = 0;
        if (qs == NULL)
            usage("%s", "out of memory");
        if (strcmp(argv[i], "pipeline") == 0) {
            for (int start = ++i; i <= argc; i++) {
                if (i < argc && strcmp(argv[i], "--") != 0)
                    continue;
                if (i == start)
                    usage("%s", "empty command in pipeline");
                n += parse_query(i - start, argv + start, qs + n);
                start = i + 1;
            }
        } else {
            n = parse_query(argc - i, argv + i, qs);
        }
        run_queries(&t, qs, n);
        free(qs);
    }
    explicit_bzero(t.password, sizeof(t.password));
    return status;
}
