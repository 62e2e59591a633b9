/* SPDX-License-Identifier: MIT */
/* The server-health commands: requests, and decoders of `service status`,
 * `process status`, `indexer list` and `penalty` against the replies of
 * real Dovecot 2.3.19 and 2.4.1 (tests/data/captures/health/, the values
 * checked against cli_reference.txt beside them) and against hostile
 * replies built by hand. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "doveadm/health.h"
#include "doveadm/reply.h"
#include "test_support_reply.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const char *const gens[] = {"2.3", "2.4"};

static void capture(const char *gen, const char *file, size_t ncols, dva_reply *out)
{
    char name[128];
    snprintf(name, sizeof(name), "health/%s/%s", gen, file);
    dva_test_parse_capture(name, ncols, out);
}

static void test_commands(void **state)
{
    (void)state;
    struct {
        void (*build)(dva_command *);
        const char *name;
        size_t ncols;
    } cases[] = {{dva_service_status_command, "service status", 13},
                 {dva_process_status_command, "process status", 7},
                 {dva_indexer_list_command, "indexer list", 6},
                 {dva_penalty_command, "penalty", 4}};
    for (size_t i = 0; i < N(cases); i++) {
        dva_command cmd;
        memset(&cmd, 0x5a, sizeof(cmd));
        cases[i].build(&cmd);
        assert_int_equal(cmd.argc, 1);
        assert_string_equal(cmd.argv[0], cases[i].name);
        assert_null(cmd.argv[1]);
        assert_int_equal(cmd.ncols, cases[i].ncols);
    }
}

static const dva_service_row *service(const dva_services *s, const char *name)
{
    for (size_t i = 0; i < s->nrows; i++)
        if (strcmp(s->rows[i].name, name) == 0)
            return &s->rows[i];
    return NULL;
}

/* Both generations: imap at its process_limit 2 with two sessions
 * (`imap 2 0 2 1 0 0 0 0 n y n 6`), auth one process of one. */
static void test_capture_service_status(void **state)
{
    (void)state;
    for (size_t g = 0; g < N(gens); g++) {
        dva_reply reply;
        dva_services s;
        dva_error err;
        capture(gens[g], "service_status.bin", DVA_SERVICE_NCOLS, &reply);
        assert_int_equal(dva_services_decode(&reply, &s, &err), 0);
        assert_true(s.nrows >= 20);
        const dva_service_row *imap = service(&s, "imap");
        assert_non_null(imap);
        assert_int_equal(imap->process_count, 2);
        assert_int_equal(imap->process_avail, 0);
        assert_int_equal(imap->process_limit, 2);
        assert_int_equal(imap->client_limit, 1);
        assert_false(imap->listen_pending);
        assert_true(imap->listening);
        assert_false(imap->doveadm_stop);
        assert_int_equal(imap->process_total, 6);
        const dva_service_row *auth = service(&s, "auth");
        assert_non_null(auth);
        assert_int_equal(auth->process_count, 1);
        assert_int_equal(auth->process_limit, 1);
        assert_int_equal(auth->client_limit, 1000);
        assert_false(auth->listening);
        dva_services_free(&s);
        dva_reply_free(&reply);
    }
}

static void test_capture_process_status(void **state)
{
    (void)state;
    for (size_t g = 0; g < N(gens); g++) {
        dva_reply reply;
        dva_processes p;
        dva_error err;
        capture(gens[g], "process_status.bin", DVA_PROCESS_NCOLS, &reply);
        assert_int_equal(dva_processes_decode(&reply, &p, &err), 0);
        size_t imap = 0;
        for (size_t i = 0; i < p.nrows; i++) {
            assert_true(p.rows[i].pid > 0);
            if (strcmp(p.rows[i].name, "imap") == 0) {
                imap++;
                assert_int_equal(p.rows[i].available_count, 0);
                assert_int_equal(p.rows[i].total_count, 1);
                assert_int_equal(p.rows[i].idle_start, 0);
            }
        }
        assert_int_equal(imap, 2);
        dva_processes_free(&p);
        dva_reply_free(&reply);
    }
}

static void test_capture_penalty(void **state)
{
    (void)state;
    for (size_t g = 0; g < N(gens); g++) {
        dva_reply reply;
        dva_penalties p;
        dva_error err;
        capture(gens[g], "penalty.bin", DVA_PENALTY_NCOLS, &reply);
        assert_int_equal(dva_penalties_decode(&reply, &p, &err), 0);
        assert_int_equal(p.nrows, 1);
        assert_string_equal(p.rows[0].ip, "127.0.0.1");
        assert_int_equal(p.rows[0].penalty, 1);
        assert_int_equal(p.max_penalty, 1);
        assert_int_equal(strlen(p.rows[0].last_penalty), 19);
        dva_penalties_free(&p);
        dva_reply_free(&reply);
        capture(gens[g], "penalty_empty.bin", DVA_PENALTY_NCOLS, &reply);
        assert_int_equal(dva_penalties_decode(&reply, &p, &err), 0);
        assert_int_equal(p.nrows, 0);
        assert_int_equal(p.max_penalty, 0);
        dva_penalties_free(&p);
        dva_reply_free(&reply);
    }
}

/* 2.4.1 answers `\n+\n` with nothing queued; 2.3.19 a bare "-". */
static void test_capture_indexer(void **state)
{
    (void)state;
    dva_reply reply;
    dva_indexer x;
    dva_error err;
    capture("2.4", "indexer_list_empty.bin", DVA_INDEXER_NCOLS, &reply);
    assert_int_equal(dva_indexer_decode(&reply, &x, &err), 0);
    assert_int_equal(x.nrows, 0);
    dva_indexer_free(&x);
    dva_reply_free(&reply);
    capture("2.3", "indexer_list_empty.bin", DVA_INDEXER_NCOLS, &reply);
    assert_int_equal(reply.status, DVA_STATUS_FAILED);
    assert_int_equal(reply.nvalues, 0);
    assert_int_equal(dva_indexer_decode(&reply, &x, &err), -1);
    assert_int_equal(err.code, DVA_ERR_COMMAND);
    dva_reply_free(&reply);

    /* 2.4.1 with a worker that never indexes: one working, one queued */
    capture("2.4", "indexer_list_queued.bin", DVA_INDEXER_NCOLS, &reply);
    assert_int_equal(dva_indexer_decode(&reply, &x, &err), 0);
    assert_int_equal(x.nrows, 2);
    assert_string_equal(x.rows[0].username, "alice@example.com");
    assert_string_equal(x.rows[0].mailbox, "INBOX");
    assert_string_equal(x.rows[0].session_id, "");
    assert_int_equal(x.rows[0].max_recent, 0);
    assert_string_equal(x.rows[0].type, "index");
    assert_string_equal(x.rows[0].status, "working");
    assert_string_equal(x.rows[1].status, "queued");
    dva_indexer_free(&x);
    dva_reply_free(&reply);

    const char *rows[] = {
        "alice@example.com", "INBOX", "",   "0",  "index",    "queued",
        "bob@example.com",   "*",     "s1", "10", "optimize", "working"};
    dva_test_build_reply(&reply, DVA_STATUS_OK, DVA_INDEXER_NCOLS, rows, N(rows));
    assert_int_equal(dva_indexer_decode(&reply, &x, &err), 0);
    assert_int_equal(x.nrows, 2);
    assert_string_equal(x.rows[1].mailbox, "*");
    assert_int_equal(x.rows[1].max_recent, 10);
    assert_string_equal(x.rows[0].status, "queued");
    dva_indexer_free(&x);
    dva_reply_free(&reply);
}

/* ---- hostile replies: a clear error, never a crash ---- */

static const char *const good_service[] = {"imap", "2", "0", "2", "1", "0", "0",
                                           "0",    "0", "n", "y", "n", "6"};

static int decode_service_with(size_t col, const char *value, dva_error *err)
{
    const char *row[13];
    memcpy(row, good_service, sizeof(row));
    row[col] = value;
    dva_reply reply;
    dva_services s;
    dva_test_build_reply(&reply, DVA_STATUS_OK, DVA_SERVICE_NCOLS, row, 13);
    int rc = dva_services_decode(&reply, &s, err);
    if (rc == 0)
        dva_services_free(&s);
    dva_reply_free(&reply);
    return rc;
}

static void test_service_hostile(void **state)
{
    (void)state;
    dva_error err;
    assert_int_equal(decode_service_with(0, "imap", &err), 0);
    assert_int_equal(decode_service_with(0, "", &err), -1);
    assert_int_equal(err.code, DVA_ERR_DECODE);
    assert_int_equal(decode_service_with(1, "-1", &err), -1);
    assert_non_null(strstr(err.message, "process_count"));
    assert_int_equal(decode_service_with(3, "99999999999999999999", &err), -1);
    assert_int_equal(decode_service_with(9, "yes", &err), -1);
    assert_non_null(strstr(err.message, "listen_pending"));
    assert_non_null(strstr(err.message, "expected y or n"));
    assert_int_equal(decode_service_with(12, "6x", &err), -1);

    /* a reply cut at the wrong width, a failure status */
    dva_reply reply;
    dva_services s;
    dva_test_build_reply(&reply, DVA_STATUS_OK, 7, good_service, 7);
    assert_int_equal(dva_services_decode(&reply, &s, &err), -1);
    assert_int_equal(err.code, DVA_ERR_DECODE);
    assert_null(s.rows);
    dva_reply_free(&reply);
    dva_test_build_reply(&reply, DVA_STATUS_TEMPFAIL, DVA_SERVICE_NCOLS, NULL, 0);
    assert_int_equal(dva_services_decode(&reply, &s, &err), -1);
    assert_int_equal(err.code, DVA_ERR_COMMAND);
    dva_reply_free(&reply);
    dva_services_free(NULL);
}

static void test_process_hostile(void **state)
{
    (void)state;
    const char *row[] = {"imap", "0", "0", "1", "0", "1796303229", "0"};
    dva_reply reply;
    dva_processes p;
    dva_error err;
    dva_test_build_reply(&reply, DVA_STATUS_OK, DVA_PROCESS_NCOLS, row, N(row));
    assert_int_equal(dva_processes_decode(&reply, &p, &err), -1);
    assert_non_null(strstr(err.message, "pid 0"));
    dva_reply_free(&reply);
    row[1] = "12";
    row[3] = "one";
    dva_test_build_reply(&reply, DVA_STATUS_OK, DVA_PROCESS_NCOLS, row, N(row));
    assert_int_equal(dva_processes_decode(&reply, &p, &err), -1);
    assert_non_null(strstr(err.message, "total_count"));
    dva_reply_free(&reply);
    /* a NUL byte in a name */
    const char *vals[] = {"im\0ap", "12", "0", "1", "0", "0", "0"};
    size_t lens[] = {5, 2, 1, 1, 1, 1, 1};
    dva_test_build_reply_len(&reply, DVA_STATUS_OK, DVA_PROCESS_NCOLS, vals, lens, 7);
    assert_int_equal(dva_processes_decode(&reply, &p, &err), -1);
    assert_int_equal(err.code, DVA_ERR_DECODE);
    dva_reply_free(&reply);
}

static void test_penalty_hostile(void **state)
{
    (void)state;
    const char *row[] = {"", "1", "2026-12-03 13:07:11", "13:07:17"};
    dva_reply reply;
    dva_penalties p;
    dva_error err;
    dva_test_build_reply(&reply, DVA_STATUS_OK, DVA_PENALTY_NCOLS, row, N(row));
    assert_int_equal(dva_penalties_decode(&reply, &p, &err), -1);
    assert_non_null(strstr(err.message, "IP"));
    dva_reply_free(&reply);
    row[0] = "10.0.0.1";
    row[1] = "";
    dva_test_build_reply(&reply, DVA_STATUS_OK, DVA_PENALTY_NCOLS, row, N(row));
    assert_int_equal(dva_penalties_decode(&reply, &p, &err), -1);
    assert_non_null(strstr(err.message, "penalty"));
    dva_reply_free(&reply);
}

/* More rows than DVA_HEALTH_MAX_ROWS: refused, not allocated. */
static void test_row_bound(void **state)
{
    (void)state;
    size_t n = (DVA_HEALTH_MAX_ROWS + 1) * DVA_PENALTY_NCOLS;
    const char **vals = calloc(n, sizeof(*vals));
    assert_non_null(vals);
    for (size_t i = 0; i < n; i++)
        vals[i] = i % DVA_PENALTY_NCOLS == 1 ? "1" : "x";
    dva_reply reply;
    dva_penalties p;
    dva_error err;
    dva_test_build_reply(&reply, DVA_STATUS_OK, DVA_PENALTY_NCOLS, vals, n);
    assert_int_equal(dva_penalties_decode(&reply, &p, &err), -1);
    assert_int_equal(err.code, DVA_ERR_LIMIT);
    assert_null(p.rows);
    dva_reply_free(&reply);
    free(vals);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_commands),
        cmocka_unit_test(test_capture_service_status),
        cmocka_unit_test(test_capture_process_status),
        cmocka_unit_test(test_capture_penalty),
        cmocka_unit_test(test_capture_indexer),
        cmocka_unit_test(test_service_hostile),
        cmocka_unit_test(test_process_hostile),
        cmocka_unit_test(test_penalty_hostile),
        cmocka_unit_test(test_row_bound),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
