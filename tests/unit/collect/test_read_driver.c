/* SPDX-License-Identifier: MIT */
/* The read driver (collect/read_driver.c) over scripted peers: every
 * connection of the read is a memory transport (dva_scrape_plan's
 * open_transport) whose "server" answers each request line from a table,
 * as a pre-authenticated doveadm socket would. Shown here: a collector of
 * the test's own runs beside the built-in ones with no change to the
 * library; the generation probe picks the per-user form; a mail request
 * whose connection died is sent once more; users' quota is handed over as
 * it arrives (on_user_quota), each user once and with their own rows. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "doveadm/collector.h"
#include "doveadm/memory_transport.h"

#define MAX_CONNS 16

/* One answer of the scripted server: to the request line starting with
 * `line` ("\talice@x\tquota get\n" is matched by "\talice@x\tquota get"),
 * the bytes `reply`; NULL reply: the connection ends instead (the server
 * process died). */
typedef struct {
    const char *line;
    const char *reply;
} answer_rule;

typedef struct peer peer;
typedef struct {
    peer *p;
    dva_transport *t;
    size_t handled; /* bytes of what the client wrote that were answered */
} conn_script;

struct peer {
    const answer_rule *rules;
    size_t nrules;
    unsigned die_once; /* rules with a NULL reply: times left to die */
    size_t read_chunk; /* bytes the client gets per read; 0: all */
    conn_script conns[MAX_CONNS];
    size_t nconns;
    char requests[4096]; /* every request line, in the order received */
};

static void answer_line(conn_script *c, const char *line, size_t len)
{
    peer *p = c->p;
    if (strncmp(line, "VERSION\t", 8) == 0) {
        dva_memory_transport_push_str(c->t, "+\n");
        return;
    }
    size_t used = strlen(p->requests);
    if (used + len < sizeof(p->requests)) {
        memcpy(p->requests + used, line, len);
        p->requests[used + len] = '\0';
    }
    for (size_t i = 0; i < p->nrules; i++) {
        const answer_rule *a = &p->rules[i];
        if (strncmp(line, a->line, strlen(a->line)) != 0)
            continue;
        if (a->reply == NULL && p->die_once > 0) {
            p->die_once--;
            dva_memory_transport_eof(c->t);
            return;
        }
        if (a->reply != NULL) {
            dva_memory_transport_push_str(c->t, a->reply);
            return;
        }
    }
    dva_memory_transport_push_str(c->t, "\n-\n"); /* an unknown command */
}

static void on_write(dva_transport *t, const char *written, size_t len, void *ctx)
{
    (void)t;
    conn_script *c = ctx;
    const char *nl;
    while (c->handled < len &&
           (nl = memchr(written + c->handled, '\n', len - c->handled)) != NULL) {
        answer_line(c, written + c->handled, (size_t)(nl - written - c->handled) + 1);
        c->handled = (size_t)(nl - written) + 1;
    }
}

static dva_transport *open_peer(void *ctx, dva_error *err)
{
    peer *p = ctx;
    if (p->nconns == MAX_CONNS) {
        dva_fail(err, DVA_ERR_CONNECT, "the scripted server takes no more connections");
        return NULL;
    }
    conn_script *c = &p->conns[p->nconns++];
    c->p = p;
    c->t = dva_memory_transport_new();
    assert_non_null(c->t);
    dva_memory_transport_on_write(c->t, on_write, c);
    if (p->read_chunk > 0)
        dva_memory_transport_set_read_chunk(c->t, p->read_chunk);
    return c->t;
}

static dva_scrape_plan plan_for(peer *p)
{
    return (dva_scrape_plan){
        .open_transport = open_peer, .open_transport_ctx = p, .timeout_ms = 5000};
}

/* ---- a collector of the test's own: `service status` ---- */

#define SERVICE_NCOLS 13 /* PROTOCOL.md section 7 */

static bool services_enabled(const dva_read *r)
{
    (void)r;
    return true;
}

static void services_start(dva_read *r, size_t user);

static int services_request(dva_read *r, const dva_job *j, dva_command *cmd,
                            const char **username, dva_error *err)
{
    (void)r, (void)j, (void)username, (void)err;
    memset(cmd, 0, sizeof(*cmd));
    cmd->argv[0] = "service status";
    cmd->argc = 1;
    cmd->ncols = SERVICE_NCOLS;
    return 0;
}

static void services_answer(dva_read *r, const dva_job *j, const char *where);
static void services_fail(dva_read *r, const dva_job *j, const dva_error *err)
{
    dva_step_fail(&dva_read_collected(r, j->collector)->step, err);
}

static const dva_collector service_status = {
    .name = "service status",
    .enabled = services_enabled,
    .connections = dva_collect_one_connection,
    .start = services_start,
    .request = services_request,
    .answer = services_answer,
    .fail = services_fail,
};

static void services_start(dva_read *r, size_t user)
{
    (void)user;
    dva_read_solo(r, &service_status, 0);
}

/* Yields the number of services, as a size_t of its own. */
static void services_answer(dva_read *r, const dva_job *j, const char *where)
{
    (void)where;
    dva_collected *out = dva_read_collected(r, j->collector);
    assert_non_null(out);
    dva_read_take_reply(r, &out->reply);
    out->step.attempted = true;
    size_t *n = malloc(sizeof(*n));
    assert_non_null(n);
    *n = dva_reply_rows(&out->reply);
    out->data = n;
    out->free_data = free;
}

#define WHO_REPLY "alice@example.com\t1\timap\t(7272)\t(127.0.0.1)\t\n+\n"
#define SERVICES_REPLY                                                                 \
    "imap\t1\t1\t1024\t1\t0\t0\t0\t0\t0\ty\tn\t3\t"                                    \
    "pop3\t0\t0\t1024\t1\t0\t0\t0\t0\t0\ty\tn\t0\t\n+\n"

static void test_a_collector_of_its_own(void **state)
{
    (void)state;
    static const answer_rule rules[] = {
        {"\t\twho\n", WHO_REPLY},
        {"\t\tservice status\n", SERVICES_REPLY},
    };
    peer p = {.rules = rules, .nrules = 2};
    static const dva_collector *const table[] = {&dva_collect_who, &service_status,
                                                 NULL};
    dva_scrape_plan plan = plan_for(&p);
    plan.who = true;
    plan.collectors = table;
    dva_scrape_result r;
    dva_error err;
    assert_int_equal(dva_scrape_run(&plan, &r, &err), 0);
    assert_true(r.up);
    assert_int_equal(r.connections_opened, 2);
    assert_int_equal(r.who_step.error.code, DVA_OK);
    assert_int_equal(r.who_summary.users, 1);
    const dva_collected *services = dva_scrape_collected(&r, &service_status);
    assert_non_null(services);
    assert_true(services->step.attempted);
    assert_int_equal(services->step.error.code, DVA_OK);
    assert_int_equal(*(const size_t *)services->data, 2);
    assert_null(dva_scrape_collected(&r, &dva_collect_stats));
    dva_scrape_result_free(&r);
}

/* With only a collector of its own, a plan still reads something. */
static void test_a_plan_of_only_its_own_collector(void **state)
{
    (void)state;
    static const answer_rule rules[] = {{"\t\tservice status\n", SERVICES_REPLY}};
    peer p = {.rules = rules, .nrules = 1};
    static const dva_collector *const table[] = {&service_status, NULL};
    dva_scrape_plan plan = plan_for(&p);
    plan.collectors = table;
    dva_scrape_result r;
    dva_error err;
    assert_int_equal(dva_scrape_run(&plan, &r, &err), 0);
    assert_int_equal(*(const size_t *)dva_scrape_collected(&r, &service_status)->data,
                     2);
    dva_scrape_result_free(&r);

    plan.collectors = NULL; /* the built-in ones: this plan reads nothing */
    assert_int_equal(dva_scrape_run(&plan, &r, &err), -1);
    assert_int_equal(err.code, DVA_ERR_USAGE);
    dva_scrape_result_free(&r);
}

/* DovecotVersion auto: the probe's bare "-" (2.4) comes first, then the
 * user's quota in the plain form of 2.4, credited to the request's user. */
static void test_probe_then_plain_per_user_form(void **state)
{
    (void)state;
    static const answer_rule rules[] = {
        {"\t\toldstats dump\tglobal\n", "\n-\n"},
        {"\t\tstats dump\t-f\t", "\n+\n"},
        {"\talice@example.com\tquota get\n",
         "User quota\tSTORAGE\t98\t10240\t0\tUser quota\tMESSAGE\t2\t1000\t0\t\n+\n"},
    };
    peer p = {.rules = rules, .nrules = 3};
    static const char *const users[] = {"alice@example.com"};
    dva_scrape_plan plan = plan_for(&p);
    plan.stats = true;
    plan.quota = true;
    plan.users = users;
    plan.nusers = 1;
    dva_scrape_result r;
    dva_error err;
    assert_int_equal(dva_scrape_run(&plan, &r, &err), 0);
    assert_int_equal(r.observed, DVA_GEN_24);
    assert_int_equal(r.nusers, 1);
    assert_int_equal(r.users[0].quota_step.error.code, DVA_OK);
    assert_int_equal(r.users[0].quota.nrows, 2);
    assert_string_equal(r.users[0].quota.rows[0].user, "alice@example.com");
    assert_int_equal(r.users[0].quota.rows[0].value, 98);
    /* The probe before the quota request, which has no -A. */
    const char *probe = strstr(p.requests, "oldstats dump\tglobal");
    const char *quota = strstr(p.requests, "\talice@example.com\tquota get\n");
    assert_non_null(probe);
    assert_non_null(quota);
    assert_true(probe < quota);
    dva_scrape_result_free(&r);
}

/* A mail connection that dies under a request: the request is sent once
 * more on a fresh connection, and its rows are read. */
static void test_lost_mail_request_is_sent_again(void **state)
{
    (void)state;
    static const answer_rule rules[] = {
        {"\talice@example.com\tquota get\t-A\n", NULL},
        {"\talice@example.com\tquota get\t-A\n",
         "alice@example.com\tUser quota\tSTORAGE\t98\t10240\t0\t\n+\n"},
    };
    peer p = {.rules = rules, .nrules = 2, .die_once = 1};
    static const char *const users[] = {"alice@example.com"};
    dva_scrape_plan plan = plan_for(&p);
    plan.quota = true;
    plan.users = users;
    plan.nusers = 1;
    plan.connections = 1;
    plan.generation = DVA_GEN_23; /* no probe */
    dva_scrape_result r;
    dva_error err;
    assert_int_equal(dva_scrape_run(&plan, &r, &err), 0);
    assert_int_equal(r.connections_opened, 2);
    assert_int_equal(r.users[0].quota_step.error.code, DVA_OK);
    assert_int_equal(r.users[0].quota.nrows, 1);
    dva_scrape_result_free(&r);
}

/* ---- users' quota as it arrives (on_user_quota) ---- */

#define STREAM_USERS 30

typedef struct {
    char users[STREAM_USERS + 1][24];
    uint64_t values[STREAM_USERS + 1];
    size_t n;
    size_t before_end; /* handed over before the all-user reply ended */
} handed;

static void take_user(void *ctx, const dva_scrape_result *r, const dva_scrape_user *u)
{
    handed *h = ctx;
    assert_true(h->n <= STREAM_USERS);
    if (r->quota_all_reply.nvalues == 0 && strcmp(u->name, "u07@x") != 0)
        h->before_end++; /* the reply is the result's once it ended */
    assert_int_equal(u->quota.nrows, 2);
    for (size_t i = 0; i < u->quota.nrows; i++)
        assert_string_equal(u->quota.rows[i].user, u->name); /* its own rows */
    snprintf(h->users[h->n], sizeof(h->users[0]), "%s", u->name);
    h->values[h->n++] = u->quota.rows[0].value;
}

/* 2.4's all-user `quota get -A`, streamed at several read sizes: each user
 * is handed over once with its rows, which the result then no longer
 * holds; the configured user is read with a request of its own (its run
 * in the all-user reply is skipped) and handed over too. */
static void test_users_quota_handed_over_as_it_arrives(void **state)
{
    (void)state;
    static char all[STREAM_USERS * 120 + 8];
    size_t len = 0;
    for (int i = 0; i < STREAM_USERS; i++)
        len += (size_t)snprintf(all + len, sizeof(all) - len,
                                "u%02d@x\tUser quota\tSTORAGE\t%d\t100\t%d\t"
                                "u%02d@x\tUser quota\tMESSAGE\t%d\t-\t0\t",
                                i, 1000 + i, i, i, i);
    snprintf(all + len, sizeof(all) - len, "\n+\n");
    const answer_rule rules[] = {
        {"\t\tquota get\t-A\n", all},
        {"\tu07@x\tquota get\n",
         "User quota\tSTORAGE\t7777\t100\t0\tUser quota\tMESSAGE\t7\t-\t0\t\n+\n"},
    };
    static const char *const users[] = {"u07@x"};
    static const char *const masks[] = {"*"};
    static const size_t chunks[] = {1, 2, 3, 7, 13, 64, 0};
    for (size_t c = 0; c < sizeof(chunks) / sizeof(chunks[0]); c++) {
        peer p = {.rules = rules, .nrules = 2, .read_chunk = chunks[c]};
        handed h = {0};
        dva_scrape_plan plan = plan_for(&p);
        plan.quota = true;
        plan.users = users;
        plan.nusers = 1;
        plan.user_masks = masks;
        plan.nuser_masks = 1;
        plan.generation = DVA_GEN_24;
        plan.on_user_quota = take_user;
        plan.on_user_quota_ctx = &h;
        dva_scrape_result r;
        dva_error err;
        assert_int_equal(dva_scrape_run(&plan, &r, &err), 0);
        assert_int_equal(r.quota_all_step.error.code, DVA_OK);
        assert_int_equal(r.nusers, STREAM_USERS);
        assert_int_equal(h.n, STREAM_USERS);
        for (size_t i = 0; i < r.nusers; i++) {
            assert_true(r.users[i].quota_delivered);
            assert_int_equal(r.users[i].quota.nrows, 0); /* forgotten */
        }
        bool seen[STREAM_USERS] = {false};
        for (size_t i = 0; i < h.n; i++) {
            unsigned k = (unsigned)strtoul(h.users[i] + 1, NULL, 10);
            assert_true(k < STREAM_USERS);
            assert_false(seen[k]); /* once */
            seen[k] = true;
            assert_int_equal(h.values[i], k == 7 ? 7777 : 1000 + k);
        }
        if (chunks[c] > 0 && chunks[c] < 64)
            assert_true(h.before_end > STREAM_USERS / 2);
        dva_scrape_result_free(&r);
    }
}

static void count_user(void *ctx, const dva_scrape_result *r, const dva_scrape_user *u)
{
    (void)r;
    assert_int_equal(u->quota.nrows, 1);
    (*(size_t *)ctx)++;
}

/* More users than the library's old cap of 100,000 (which dropped them
 * all): every one is read and handed over. */
static void test_more_users_than_the_old_cap(void **state)
{
    (void)state;
    enum { N = 100001 };
    size_t cap = (size_t)N * 48 + 8, len = 0;
    char *all = malloc(cap);
    assert_non_null(all);
    for (int i = 0; i < N; i++)
        len += (size_t)snprintf(all + len, cap - len,
                                "user%06d@big.example\tq\tSTORAGE\t%d\t-\t0\t", i, i);
    snprintf(all + len, cap - len, "\n+\n");
    const answer_rule rules[] = {{"\t\tquota get\t-A\n", all}};
    static const char *const masks[] = {"*"};
    peer p = {.rules = rules, .nrules = 1};
    size_t n = 0;
    dva_scrape_plan plan = plan_for(&p);
    plan.quota = true;
    plan.user_masks = masks;
    plan.nuser_masks = 1;
    plan.generation = DVA_GEN_24;
    plan.timeout_ms = 60000;
    plan.on_user_quota = count_user;
    plan.on_user_quota_ctx = &n;
    dva_scrape_result r;
    dva_error err;
    assert_int_equal(dva_scrape_run(&plan, &r, &err), 0);
    assert_int_equal(r.quota_all_step.error.code, DVA_OK);
    assert_int_equal(r.nusers, N);
    assert_int_equal(n, N);
    assert_int_equal(r.users_dropped, 0);
    dva_scrape_result_free(&r);
    free(all);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_collector_of_its_own),
        cmocka_unit_test(test_a_plan_of_only_its_own_collector),
        cmocka_unit_test(test_probe_then_plain_per_user_form),
        cmocka_unit_test(test_lost_mail_request_is_sent_again),
        cmocka_unit_test(test_users_quota_handed_over_as_it_arrives),
        cmocka_unit_test(test_more_users_than_the_old_cap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
