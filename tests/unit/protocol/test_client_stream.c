/* SPDX-License-Identifier: MIT */
/* Streamed replies (dva_request.stream, DVA_RECV_ROWS): the rows of a long
 * reply handed out as they arrive and forgotten once used, over the memory
 * transport, with the reply cut at every byte. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "doveadm/client.h"
#include "doveadm/command.h"
#include "doveadm/commands.h"
#include "doveadm/memory_transport.h"

#define NROWS 40
#define NCOLS DVA_QUOTA_NCOLS

/* A scan-like reply: NROWS rows of NCOLS values, user i in row i (one
 * value escaped, so unescaping runs across the cuts), then status. */
static char *make_reply(const char *status)
{
    size_t cap = NROWS * 96 + 64, len = 0;
    char *s = malloc(cap);
    assert_non_null(s);
    len += (size_t)snprintf(s + len, cap - len, "+\n"); /* the handshake */
    for (int i = 0; i < NROWS; i++)
        len += (size_t)snprintf(s + len, cap - len,
                                "u%03d@x\tUser\001tquota\tSTORAGE\t%d\t1024\t%d\t", i,
                                i * 7, i % 100);
    snprintf(s + len, cap - len, "\n%s\n", status);
    return s;
}

typedef struct {
    dva_transport *t;
    dva_client *c;
    dva_result res;
    char seen[NROWS][16]; /* the user of each row handed out */
    size_t nseen;
    size_t rows_events;
} stream;

static void stream_open(stream *st, const dva_limits *limits)
{
    memset(st, 0, sizeof(*st));
    st->t = dva_memory_transport_new();
    assert_non_null(st->t);
    dva_client_options opt = {0};
    if (limits != NULL)
        opt.limits = *limits;
    st->c = dva_client_new(st->t, &opt);
    assert_non_null(st->c);
    const char *argv[] = {"quota get", "-F", "/tmp/users"};
    dva_request req = {
        .argv = argv, .argc = 3, .ncols = NCOLS, .stream = true, .tag = (void *)st};
    dva_error err;
    assert_int_equal(dva_client_send(st->c, &req, &err), 0);
}

static void stream_close(stream *st)
{
    dva_result_clear(&st->res);
    dva_client_free(st->c);
    dva_transport_destroy(st->t);
}

/* Takes rows [0, n) of reply as handed out. */
static void take(stream *st, const dva_reply *reply, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const char *user = dva_reply_cstr(reply, i, 0);
        assert_non_null(user);
        assert_true(st->nseen < NROWS);
        assert_string_equal(dva_reply_cstr(reply, i, 1), "User\tquota");
        snprintf(st->seen[st->nseen++], sizeof(st->seen[0]), "%s", user);
    }
}

/* Receives until the result; on each ROWS uses all rows but the last (as
 * a collector keeps the last user's rows, which may go on). */
static dva_recv pump(stream *st)
{
    for (int guard = 0; guard < 100000; guard++) {
        dva_recv got = dva_client_receive(st->c, &st->res);
        if (got == DVA_RECV_ROWS) {
            assert_ptr_equal(st->res.tag, st);
            const dva_reply *part = dva_client_rows(st->c);
            size_t n = dva_reply_rows(part);
            assert_true(n >= 1);
            st->rows_events++;
            take(st, part, n - 1);
            dva_client_drop_rows(st->c, n - 1);
            continue;
        }
        if (got != DVA_RECV_AGAIN || dva_memory_transport_unread(st->t) == 0)
            return got;
    }
    return DVA_RECV_AGAIN;
}

static void assert_every_row_once(const stream *st)
{
    assert_int_equal(st->nseen, NROWS);
    for (int i = 0; i < NROWS; i++) {
        char want[16];
        snprintf(want, sizeof(want), "u%03d@x", i);
        assert_string_equal(st->seen[i], want);
    }
}

static void test_rows_come_as_they_arrive_at_every_cut(void **state)
{
    (void)state;
    char *bytes = make_reply("+");
    size_t len = strlen(bytes);
    for (size_t cut = 0; cut <= len; cut++) {
        stream st;
        stream_open(&st, NULL);
        dva_memory_transport_push(st.t, bytes, cut);
        dva_recv first = pump(&st);
        assert_int_equal(first, cut < len ? DVA_RECV_AGAIN : DVA_RECV_RESULT);
        if (cut < len) {
            dva_memory_transport_push(st.t, bytes + cut, len - cut);
            assert_int_equal(pump(&st), DVA_RECV_RESULT);
        }
        assert_int_equal(st.res.error.code, DVA_OK);
        /* What was not dropped ends the reply. */
        take(&st, &st.res.reply, dva_reply_rows(&st.res.reply));
        assert_every_row_once(&st);
        stream_close(&st);
    }
    free(bytes);
}

static void test_one_byte_at_a_time_holds_one_row(void **state)
{
    (void)state;
    char *bytes = make_reply("+");
    stream st;
    stream_open(&st, NULL);
    dva_memory_transport_set_read_chunk(st.t, 1);
    dva_memory_transport_push_str(st.t, bytes);
    assert_int_equal(pump(&st), DVA_RECV_RESULT);
    assert_int_equal(st.res.error.code, DVA_OK);
    assert_int_equal(dva_reply_rows(&st.res.reply), 1); /* the last row only */
    take(&st, &st.res.reply, 1);
    assert_every_row_once(&st);
    assert_true(st.rows_events > NROWS);
    stream_close(&st);
    free(bytes);
}

/* The rows handed out count: a reply over the limit still fails. */
static void test_limits_count_the_rows_dropped(void **state)
{
    (void)state;
    char *bytes = make_reply("+");
    stream st;
    dva_limits limits = {.max_values = 10 * NCOLS};
    stream_open(&st, &limits);
    dva_memory_transport_set_read_chunk(st.t, 64);
    dva_memory_transport_push_str(st.t, bytes);
    assert_int_equal(pump(&st), DVA_RECV_RESULT);
    assert_int_equal(st.res.error.code, DVA_ERR_LIMIT);
    assert_non_null(strstr(st.res.error.message, "limit of 60 ")); /* the whole limit */
    assert_true(st.nseen < NROWS);
    stream_close(&st);
    free(bytes);
}

/* A status that fails after rows were handed out still fails. */
static void test_failure_status_after_rows(void **state)
{
    (void)state;
    char *bytes = make_reply("-TEMPFAIL");
    stream st;
    stream_open(&st, NULL);
    dva_memory_transport_set_read_chunk(st.t, 100);
    dva_memory_transport_push_str(st.t, bytes);
    assert_int_equal(pump(&st), DVA_RECV_RESULT);
    assert_int_equal(st.res.error.code, DVA_ERR_COMMAND);
    assert_int_equal(st.res.reply.status, DVA_STATUS_TEMPFAIL);
    assert_true(st.rows_events > 0);
    take(&st, &st.res.reply, dva_reply_rows(&st.res.reply));
    assert_every_row_once(&st);
    stream_close(&st);
    free(bytes);
}

/* A request that does not stream keeps its reply whole, as before. */
static void test_unstreamed_request_gets_no_rows_event(void **state)
{
    (void)state;
    char *bytes = make_reply("+");
    dva_transport *t = dva_memory_transport_new();
    dva_client_options opt = {0};
    dva_client *c = dva_client_new(t, &opt);
    const char *argv[] = {"quota get"};
    dva_request req = {.argv = argv, .argc = 1, .ncols = NCOLS};
    dva_error err;
    assert_int_equal(dva_client_send(c, &req, &err), 0);
    dva_memory_transport_set_read_chunk(t, 10);
    dva_memory_transport_push_str(t, bytes);
    dva_result res = {0};
    dva_recv got;
    int guard = 0;
    while ((got = dva_client_receive(c, &res)) == DVA_RECV_AGAIN && guard++ < 100000)
        ;
    assert_int_equal(got, DVA_RECV_RESULT);
    assert_int_equal(dva_reply_rows(&res.reply), NROWS);
    dva_result_clear(&res);
    dva_client_free(c);
    dva_transport_destroy(t);
    free(bytes);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rows_come_as_they_arrive_at_every_cut),
        cmocka_unit_test(test_one_byte_at_a_time_holds_one_row),
        cmocka_unit_test(test_limits_count_the_rows_dropped),
        cmocka_unit_test(test_failure_status_after_rows),
        cmocka_unit_test(test_unstreamed_request_gets_no_rows_event),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
