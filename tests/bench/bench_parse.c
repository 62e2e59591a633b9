/* SPDX-License-Identifier: MIT */
/* bench_parse: the plugin's own CPU on quota rows, without any I/O.
 *
 *   bench_parse mbps [MB]     a synthetic `quota get` reply of about MB
 *                             megabytes (default 32) with a username column
 *                             (as the server-side scan sends it), fed to the
 *                             parser in 64 KiB pieces and decoded; prints
 *                             "parse_mbps", "decode_mbps" and "rows"
 *   bench_parse rows USERS    USERS per-user replies (two rows each) parsed,
 *                             decoded and submitted through the plugin's
 *                             submit code to stubbed collectd; run under
 *                             callgrind with two USERS counts, the
 *                             difference of instructions divided by the
 *                             difference of rows is the cost of one row.
 *                             Prints "rows N values M". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "collectd_stubs.h"
#include "doveadm/reply.h"
#include "doveadm/quota.h"
#include "doveadm/scrape.h"
#include "plugin_log.h"
#include "plugin_submit.h"

/* Allocation calls, counted through the linker's --wrap (CMakeLists.txt). */
static size_t nallocs;
void *__real_malloc(size_t size);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t size);
void *__wrap_malloc(size_t size);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t size);
void *__wrap_malloc(size_t size)
{
    nallocs++;
    return __real_malloc(size);
}
void *__wrap_calloc(size_t n, size_t size)
{
    nallocs++;
    return __real_calloc(n, size);
}
void *__wrap_realloc(void *p, size_t size)
{
    nallocs++;
    return __real_realloc(p, size);
}

/* collectd's dispatch is not the plugin's cost: values are counted and
 * dropped (--wrap=plugin_dispatch_values). */
static size_t ndispatched;
int __wrap_plugin_dispatch_values(value_list_t const *vl);
int __wrap_plugin_dispatch_values(value_list_t const *vl)
{
    (void)vl;
    ndispatched++;
    return 0;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

typedef struct {
    char *data;
    size_t len, cap;
} text;

static void put(text *t, const char *s)
{
    size_t n = strlen(s);
    if (t->len + n + 1 > t->cap) {
        t->cap = (t->len + n + 1) * 2;
        t->data = realloc(t->data, t->cap);
        if (t->data == NULL)
            exit(1);
    }
    memcpy(t->data + t->len, s, n + 1);
    t->len += n;
}

/* The two rows Dovecot prints for one user with both limits. */
static void put_user_rows(text *t, unsigned i)
{
    char row[256];
    snprintf(row, sizeof(row),
             "user%06u@example.com\tUser quota\tSTORAGE\t%u\t10240\t%u\t"
             "user%06u@example.com\tUser quota\tMESSAGE\t%u\t1000\t%u\t",
             i, (i * 37) % 10240, (i * 37) % 10240 * 100 / 10240, i, i % 1000,
             i % 1000 / 10);
    put(t, row);
}

/* One reply parsed by p, a parser kept across the replies of a connection
 * as the client keeps it (dva_parser_begin per reply). */
static int parse_all(dva_parser *p, const text *t, dva_reply *out, size_t piece)
{
    dva_error err;
    dva_parser_begin(p, out, DVA_QUOTA_NCOLS);
    for (size_t off = 0; off < t->len;) {
        size_t n = t->len - off < piece ? t->len - off : piece, used = 0;
        dva_parse_result r = dva_parser_feed(p, t->data + off, n, &used, &err);
        if (r == DVA_PARSE_ERROR) {
            fprintf(stderr, "parse error: %s\n", err.message);
            return -1;
        }
        if (r == DVA_PARSE_DONE)
            return 0;
        off += n;
    }
    fprintf(stderr, "the reply did not end\n");
    return -1;
}

static int bench_mbps(double mb)
{
    text t = {0};
    unsigned users = 0;
    while ((double)t.len < mb * 1e6)
        put_user_rows(&t, users++);
    put(&t, "\n+\n");
    dva_reply reply;
    dva_reply_init(&reply);
    double best_parse = 1e9, best_decode = 1e9;
    size_t rows = 0;
    for (int round = 0; round < 5; round++) {
        dva_parser p;
        dva_parser_init(&p, NULL);
        double t0 = now_s();
        if (parse_all(&p, &t, &reply, 65536) < 0)
            return 1;
        double t1 = now_s();
        dva_quota q;
        dva_error err;
        if (dva_quota_decode(&reply, NULL, &q, &err) < 0) {
            fprintf(stderr, "decode error: %s\n", err.message);
            return 1;
        }
        double t2 = now_s();
        rows = q.nrows;
        dva_quota_free(&q);
        if (t1 - t0 < best_parse)
            best_parse = t1 - t0;
        if (t2 - t0 < best_decode)
            best_decode = t2 - t0;
    }
    printf("bytes\t%zu\nrows\t%zu\n", t.len, rows);
    printf("parse_mbps\t%.0f\n", (double)t.len / 1e6 / best_parse);
    printf("decode_mbps\t%.0f\n", (double)t.len / 1e6 / best_decode);
    printf("decode_ns_per_row\t%.1f\n", best_decode * 1e9 / (double)rows);
    dva_reply_free(&reply);
    free(t.data);
    return 0;
}

/* The measured parts are functions of their own so that callgrind can
 * count them alone: --toggle-collect=measure_*. */
__attribute__((noinline)) int measure_decode(dva_scrape_result *r, const text *wire);
__attribute__((noinline)) size_t
measure_submit(dvp_submit *s, const dva_scrape_result *r, cdtime_t when);

int measure_decode(dva_scrape_result *r, const text *wire)
{
    dva_parser p;
    dva_parser_init(&p, NULL);
    for (size_t i = 0; i < r->nusers; i++) {
        dva_scrape_user *u = &r->users[i];
        if (u->quota_reply == NULL) {
            u->quota_reply = malloc(sizeof(*u->quota_reply));
            if (u->quota_reply == NULL)
                return -1;
            dva_reply_init(u->quota_reply);
        }
        if (parse_all(&p, &wire[i], u->quota_reply, 65536) < 0)
            return -1;
        dva_error err;
        u->quota_step.attempted = true;
        if (dva_quota_decode(u->quota_reply, u->name, &u->quota, &err) < 0) {
            fprintf(stderr, "decode error: %s\n", err.message);
            return -1;
        }
    }
    return 0;
}

size_t measure_submit(dvp_submit *s, const dva_scrape_result *r, cdtime_t when)
{
    return dvp_submit_result(s, r, when);
}

static int bench_rows(unsigned users)
{
    dva_scrape_result r;
    memset(&r, 0, sizeof(r));
    r.up = true;
    r.users = calloc(users ? users : 1, sizeof(*r.users));
    /* The replies as the server sends them, built before timing. */
    text *wire = calloc(users ? users : 1, sizeof(*wire));
    if (r.users == NULL || wire == NULL)
        return 1;
    for (unsigned i = 0; i < users; i++) {
        put_user_rows(&wire[i], i);
        put(&wire[i], "\n+\n");
        char name[64];
        snprintf(name, sizeof(name), "user%06u@example.com", i);
        r.users[r.nusers++].name = dva_scrape_result_strdup(&r, name);
    }
    size_t allocs0 = nallocs;
    double t0 = now_s();
    if (measure_decode(&r, wire) < 0)
        return 1;
    double t1 = now_s();
    size_t allocs1 = nallocs;
    stub_reset();
    dvp_logger log;
    dvp_logger_init(&log, "bench", NULL);
    dvp_submit s;
    dvp_submit_init(&s, "bench", "host", TIME_T_TO_CDTIME_T(10), &log);
    /* A first submit grows the plugin's reusable tables; the second is a
     * steady-state read. */
    measure_submit(&s, &r, TIME_T_TO_CDTIME_T(1000));
    size_t allocs2 = nallocs;
    double t2 = now_s();
    size_t values = measure_submit(&s, &r, TIME_T_TO_CDTIME_T(1010));
    double t3 = now_s();
    size_t allocs3 = nallocs;
    double rows = (double)users * 2;
    printf("rows\t%u\tvalues\t%zu\n", users * 2, values);
    printf("decode_ns_per_row\t%.0f\n", (t1 - t0) * 1e9 / rows);
    printf("submit_ns_per_row\t%.0f\n", (t3 - t2) * 1e9 / rows);
    printf("decode_allocs_per_row\t%.2f\n", (double)(allocs1 - allocs0) / rows);
    printf("submit_allocs_per_row\t%.2f\n", (double)(allocs3 - allocs2) / rows);
    dvp_submit_free(&s);
    dvp_logger_free(&log);
    dva_scrape_result_free(&r);
    stub_reset();
    for (unsigned i = 0; i < users; i++)
        free(wire[i].data);
    free(wire);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "mbps") == 0)
        return bench_mbps(argc >= 3 ? atof(argv[2]) : 32.0);
    if (argc >= 3 && strcmp(argv[1], "rows") == 0)
        return bench_rows((unsigned)strtoul(argv[2], NULL, 10));
    fprintf(stderr, "usage: bench_parse mbps [MB] | rows USERS\n");
    return 64;
}
