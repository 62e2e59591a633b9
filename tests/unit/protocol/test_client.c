/* SPDX-License-Identifier: MIT */
/* The client state machine over the memory transport. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>

#include <cmocka.h>

#include "doveadm/client.h"
#include "doveadm/command.h"
#include "doveadm/commands.h"
#include "doveadm/memory_transport.h"
#include "test_support.h"

#define VERSION_LINE "VERSION\tdoveadm-server\t1\t0\n"

typedef struct {
    dva_transport *t;
    dva_client *c;
    dva_result res;
    int warnings;
    char last_log[512];
} fixture;

static void record_log(void *ctx, dva_log_level level, const char *msg)
{
    fixture *f = ctx;
    if (level == DVA_LOG_WARNING)
        f->warnings++;
    snprintf(f->last_log, sizeof(f->last_log), "%s", msg);
}

static fixture *make(const char *password)
{
    fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    f->t = dva_memory_transport_new();
    assert_non_null(f->t);
    dva_client_options opt = {.password = password, .log = record_log, .log_ctx = f};
    f->c = dva_client_new(f->t, &opt);
    assert_non_null(f->c);
    return f;
}

static void destroy(fixture *f)
{
    dva_result_clear(&f->res);
    dva_client_free(f->c);
    dva_transport_destroy(f->t);
    free(f);
}

/* Calls receive until it gives a result or stops making progress. */
static dva_recv drive(fixture *f)
{
    dva_recv r = DVA_RECV_AGAIN;
    for (int i = 0; i < 100000; i++) {
        r = dva_client_receive(f->c, &f->res);
        if (r != DVA_RECV_AGAIN)
            return r;
        if (dva_memory_transport_unread(f->t) == 0 && i > 4)
            return r;
    }
    return r;
}

static void send_user(fixture *f, const char *user, void *tag)
{
    dva_command cmd;
    dva_quota_command(&cmd, DVA_ROWS_NAMED);
    dva_request req = dva_command_request(&cmd, user, tag);
    dva_error err;
    assert_int_equal(dva_client_send(f->c, &req, &err), 0);
}

static void send_server(fixture *f, const char *name, void *tag)
{
    const char *argv[] = {name};
    dva_request req = {.argv = argv, .argc = 1, .ncols = 5, .tag = tag};
    dva_error err;
    assert_int_equal(dva_client_send(f->c, &req, &err), 0);
}

static const char *written(fixture *f)
{
    return dva_memory_transport_written(f->t, NULL);
}

#define QUOTA_ALICE                                                                    \
    "alice@example.com\tUser quota\tSTORAGE\t98\t10240\t0\t"                           \
    "alice@example.com\tUser quota\tMESSAGE\t2\t1000\t0\t\n+\n"

static void test_preauth_handshake_and_reply(void **state)
{
    (void)state;
    fixture *f = make(NULL);
    assert_int_equal(dva_client_state(f->c), DVA_STATE_CONNECTING);
    send_server(f, "who", (void *)1);
    dva_memory_transport_push_str(f->t, "+\n");
    assert_int_equal(drive(f), DVA_RECV_AGAIN);
    assert_int_equal(dva_client_state(f->c), DVA_STATE_READY);
    assert_true(dva_client_authenticated(f->c));
    assert_string_equal(written(f), VERSION_LINE "\t\twho\n");
    dva_memory_transport_push_str(f->t, "alice\t2\timap\t(1 2)\t(127.0.0.1)\t\n+\n");
    assert_int_equal(drive(f), DVA_RECV_RESULT);
    assert_int_equal(f->res.error.code, DVA_OK);
    assert_ptr_equal(f->res.tag, (void *)1);
    assert_int_equal(dva_reply_rows(&f->res.reply), 1);
    assert_string_equal(dva_reply_cstr(&f->res.reply, 0, 2), "imap");
    assert_int_equal(dva_client_served(f->c), 1);
    assert_int_equal(dva_client_pending(f->c), 0);
    assert_int_equal(f->warnings, 0);
    destroy(f);
}

static void respond_auth_ok(dva_transport *t, const char *w, size_t len, void *ctx)
{
    (void)len;
    int *done = ctx;
    if (!*done && strstr(w, "PLAIN\t") != NULL && strchr(strstr(w, "PLAIN\t"), '\n')) {
        *done = 1;
        dva_memory_transport_push_str(t, "+\n");
    }
}

static void test_plain_auth(void **state)
{
    (void)state;
    fixture *f = make("secret");
    int done = 0;
    dva_memory_transport_on_write(f->t, respond_auth_ok, &done);
    send_user(f, "alice@example.com", NULL);
    dva_memory_transport_push_str(f->t, "-\n");
    drive(f);
    assert_int_equal(done, 1);
    assert_int_equal(dva_client_state(f->c), DVA_STATE_READY);
    /* base64("\0doveadm\0secret"); the request only after the "+". */
    assert_string_equal(written(f),
                        VERSION_LINE "PLAIN\tAGRvdmVhZG0Ac2VjcmV0\n"
                                     "\talice@example.com\tquota get\t-A\n");
    dva_memory_transport_push_str(f->t, QUOTA_ALICE);
    assert_int_equal(drive(f), DVA_RECV_RESULT);
    assert_int_equal(f->res.error.code, DVA_OK);
    assert_int_equal(dva_reply_rows(&f->res.reply), 2);
    destroy(f);
}

static void test_long_password_base64_is_one_line(void **state)
{
    (void)state;
    char pw[201];
    memset(pw, 'p', 200);
    pw[200] = '\0';
    fixture *f = make(pw);
    send_user(f, "alice@example.com", NULL);
    dva_memory_transport_push_str(f->t, "-\n");
    drive(f);
    const char *w = written(f);
    const char *plain = strstr(w, "PLAIN\t");
    assert_non_null(plain);
    const char *nl = strchr(plain, '\n');
    assert_non_null(nl);
    /* 209 raw bytes -> 280 base64 characters, no line break inside. */
    assert_int_equal(nl - plain - 6, 280);
    destroy(f);
}

static void test_auth_rejected_fails_every_request(void **state)
{
    (void)state;
    fixture *f = make("wrong");
    send_user(f, "a@x", (void *)1);
    send_user(f, "b@x", (void *)2);
    dva_memory_transport_push_str(f->t, "-\n-\n");
    dva_memory_transport_eof(f->t);
    assert_int_equal(drive(f), DVA_RECV_RESULT);
    assert_int_equal(f->res.error.code, DVA_ERR_AUTH);
    assert_ptr_equal(f->res.tag, (void *)1);
    assert_non_null(strstr(f->res.error.message, "doveadm_password"));
    assert_null(strstr(f->res.error.message, "wrong"));
    assert_int_equal(drive(f), DVA_RECV_RESULT);
    assert_ptr_equal(f->res.tag, (void *)2);
    assert_int_equal(f->res.error.code, DVA_ERR_AUTH);
    assert_int_equal(drive(f), DVA_RECV_IDLE);
    assert_int_equal(dva_client_state(f->c), DVA_STATE_CLOSED);
    destroy(f);
}

static void test_auth_eof_is_auth_error(void **state)
{
    (void)state;
    fixture *f = make("pw");
    send_user(f, "a@x", NULL);
    dva_memory_transport_push_str(f->t, "-\n");
    drive(f);
    dva_memory_transport_eof(f->t);
    assert_int_equal(drive(f), DVA_RECV_RESULT);
    assert_int_equal(f->res.error.code, DVA_ERR_AUTH);
    destroy(f);
}

static void test_password_required_but_missing(void **state)
{
    (void)state;
    fixture *f = make(NULL);
    send_server(f, "who", NULL);
    dva_memory_transport_push_str(f->t, "-\n");
    assert_int_equal(drive(f), DVA_RECV_RESULT);
    assert_int_equal(f->res.error.code, DVA_ERR_NOAUTH);
    assert_non_null(strstr(f->res.error.message, "PasswordFile"));
    assert_null(strstr(written(f), "PLAIN"));
    destroy(f);
}

static void test_unneeded_password_warns_and_is_not_sent(void **state)
{
    (void)state;
    fixture *f = make("topsecret");
    send_server(f, "who", NULL);
    dva_memory_transport_push_str(f->t, "+\n\n+\n");
    assert_int_equal(drive(f), DVA_RECV_RESULT);
    assert_int_equal(f->res.error.code, DVA_OK);
    assert_int_equal(f->warnings, 1);
    assert_non_null(strstr(f->last_log, "without authentication"));
    assert_null(strstr(f->last_log, "topsecret"));
    assert_null(strstr(written(f), "PLAIN"));
    destroy(f);
}

static void test_version_refused(void **state)
{
    (void)state;
    fixture *f = make(NULL);
    send_server(f, "who", NULL);
    dva_memory_transport_eof(f->t);
    assert_int_equal(drive(f), DVA_RECV_RESULT);
    assert_int_equal(f->res.error.code, DVA_ERR_VERSION);
    assert_non_null(strstr(f->res.error.message, "after VERSION"));
    destroy(f);
}

static void test_garbage_greeting(void **state)
{
    (void)state;
    fixture *f = make(NULL);
    send_server(f, "who", NULL);
    dva_memory_transport_push_str(f->t, "* OK IMAP4rev1 ready\r\n");
    assert_int_equal(drive(f), DVA_RECV_RESULT);
    assert_int_equal(f->res.error.code, DVA_ERR_PROTOCOL);
    assert_non_null(strstr(f->res.error.message, "IMAP4rev1"));
    assert_non_null(strstr(f->res.error.message, "\\x0d"));
    destroy(f);
}

static void test_overlong_greeting(void **state)
{
    (void)state;
    fixture *f = make(NULL);
    send_server(f, "who", NULL);
    char junk[1000];
    memset(junk, 'x', sizeof(junk));
    dva_memory_transport_push(f->t, junk, sizeof(junk));
    assert_int_equal(drive(f), DVA_RECV_RESULT);
    assert_int_equal(f->res.error.code, DVA_ERR_PROTOCOL);
    assert_non_null(strstr(f->res.error.message, "longer than"));
    destroy(f);
}

static void test_pipelined_requests_in_order(void **state)
{
    (void)state;
    fixture *f = make(NULL);
    dva_memory_transport_push_str(f->t, "+\n");
    send_user(f, "alice@example.com", (void *)1);
    send_user(f, "bob@example.com", (void *)2);
    send_user(f, "carol@example.com", (void *)3);
    assert_int_equal(dva_client_pending(f->c), 3);
    drive(f);
    /* All three written before any reply arrived. */
    assert_string_equal(written(f),
                        VERSION_LINE "\talice@example.com\tquota get\t-A\n"
                                     "\tbob@example.com\tquota get\t-A\n"
                                     "\tcarol@example.com\tquota get\t-A\n");
    dva_memory_transport_push_str(
        f->t, QUOTA_ALICE "bob@example.com\tUser quota\tSTORAGE\t95\t100\t95\t\n+\n"
                          "\n-NOUSER\n");
    assert_int_equal(drive(f), DVA_RECV_RESULT);
    assert_ptr_equal(f->res.tag, (void *)1);
    assert_string_equal(dva_reply_cstr(&f->res.reply, 0, 0), "alice@example.com");
    assert_int_equal(drive(f), DVA_RECV_RESULT);
    assert_ptr_equal(f->res.tag, (void *)2);
    assert_string_equal(dva_reply_cstr(&f->res.reply, 0, 0), "bob@example.com");
    assert_int_equal(drive(f), DVA_RECV_RESULT);
    assert_ptr_equal(f->res.tag, (void *)3);
    assert_int_equal(f->res.error.code, DVA_ERR_COMMAND);
    assert_int_equal(f->res.reply.status, DVA_STATUS_NOUSER);
    assert_non_null(strstr(f->res.error.message, "carol@example.com"));
    assert_non_null(strstr(f->res.error.message, "NOUSER"));
    assert_int_equal(drive(f), DVA_RECV_IDLE);
    assert_int_equal(dva_client_served(f->c), 3);
    destroy(f);
}

static void test_requests_held_until_handshake(void **state)
{
    (void)state;
    fixture *f = make("pw");
    send_user(f, "alice@example.com", NULL);
    drive(f);
    assert_string_equal(written(f), VERSION_LINE);
    assert_int_equal(dva_client_state(f->c), DVA_STATE_VERSION_SENT);
    dva_memory_transport_push_str(f->t, "-\n");
    drive(f);
    assert_int_equal(dva_client_state(f->c), DVA_STATE_AUTHENTICATING);
    assert_null(strstr(written(f), "quota get"));
    dva_memory_transport_push_str(f->t, "+\n");
    drive(f);
    assert_non_null(strstr(written(f), "\talice@example.com\tquota get\t-A\n"));
    destroy(f);
}

static void test_server_wide_must_be_first(void **state)
{
    (void)state;
    fixture *f = make(NULL);
    send_user(f, "alice@example.com", NULL);
    const char *argv[] = {"who"};
    dva_request req = {.argv = argv, .argc = 1, .ncols = 5};
    dva_error err;
    assert_int_equal(dva_client_send(f->c, &req, &err), -1);
    assert_int_equal(err.code, DVA_ERR_USAGE);
    assert_non_null(strstr(err.message, "first and only"));
    assert_int_equal(dva_client_pending(f->c), 1);
    destroy(f);
}

static void test_nothing_after_server_wide(void **state)
{
    (void)state;
    fixture *f = make(NULL);
    send_server(f, "stats dump", NULL);
    dva_command cmd;
    dva_quota_command(&cmd, DVA_ROWS_NAMED);
    dva_request req = dva_command_request(&cmd, "alice@example.com", NULL);
    dva_error err;
    assert_int_equal(dva_client_send(f->c, &req, &err), -1);
    assert_int_equal(err.code, DVA_ERR_USAGE);
    assert_non_null(strstr(err.message, "new connection"));
    destroy(f);
}

/* PROTOCOL.md 6.1: rows of a non-mail command after its status line must
 * never become part of another reply. */
static void test_hazard_rows_after_status(void **state)
{
    (void)state;
    fixture *f = make(NULL);
    send_server(f, "who", NULL);
    dva_memory_transport_push_str(f->t,
                                  "+\n"
                                  "alice@example.com\t1\timap\t(7272)\t(127.0.0.1)\t"
                                  "\n+\nimap\t7274\t127.0.0.1\t");
    assert_int_equal(drive(f), DVA_RECV_RESULT);
    assert_int_equal(f->res.error.code, DVA_OK);
    assert_int_equal(dva_reply_rows(&f->res.reply), 1);
    /* The trailing bytes close the connection as a protocol error. */
    assert_int_equal(drive(f), DVA_RECV_IDLE);
    assert_int_equal(dva_client_state(f->c), DVA_STATE_CLOSED);
    assert_int_equal(dva_client_error(f->c)->code, DVA_ERR_PROTOCOL);
    assert_non_null(strstr(dva_client_error(f->c)->message, "no request was pending"));
    destroy(f);
}

/* The same hazard from a real Dovecot 2.3.19 capture, when present. */
static void test_hazard_capture_who_then_who1(void **state)
{
    (void)state;
    size_t len;
    char path[] = "captures/hazard_who_then_who1.bin";
    char full[4096];
    snprintf(full, sizeof(full), "%s/%s", DVA_TEST_DATA_DIR, path);
    FILE *probe = fopen(full, "rb");
    if (probe == NULL) {
        skip();
        return;
    }
    fclose(probe);
    char *bytes = dva_test_read_data(path, &len);
    fixture *f = make(NULL);
    send_server(f, "who", NULL);
    dva_memory_transport_push_str(f->t, "+\n");
    dva_memory_transport_push(f->t, bytes, len);
    assert_int_equal(drive(f), DVA_RECV_RESULT);
    assert_int_equal(f->res.error.code, DVA_OK);
    /* Whatever follows the first status line ends the connection. */
    drive(f);
    assert_int_equal(dva_client_state(f->c), DVA_STATE_CLOSED);
    free(bytes);
    destroy(f);
}

/* PROTOCOL.md 6.2: the server process dies (EOF, no status). */
static void test_hazard_server_dies_without_status(void **state)
{
    (void)state;
    fixture *f = make(NULL);
    send_user(f, "alice@example.com", NULL);
    dva_memory_transport_push_str(f->t, "+\n");
    dva_memory_transport_eof(f->t);
    assert_int_equal(drive(f), DVA_RECV_RESULT);
    assert_int_equal(f->res.error.code, DVA_ERR_CLOSED);
    assert_non_null(strstr(f->res.error.message, "without answering"));
    assert_non_null(strstr(f->res.error.message, "alice@example.com"));
    destroy(f);
}

static void test_eof_mid_reply(void **state)
{
    (void)state;
    fixture *f = make(NULL);
    send_user(f, "alice@example.com", (void *)1);
    send_user(f, "bob@example.com", (void *)2);
    dva_memory_transport_push_str(f->t, "+\nalice@example.com\tUser quota\tSTOR");
    dva_memory_transport_eof(f->t);
    assert_int_equal(drive(f), DVA_RECV_RESULT);
    assert_int_equal(f->res.error.code, DVA_ERR_CLOSED);
    assert_non_null(strstr(f->res.error.message, "middle of the reply"));
    assert_int_equal(f->res.reply.nvalues, 0);
    assert_int_equal(drive(f), DVA_RECV_RESULT);
    assert_ptr_equal(f->res.tag, (void *)2);
    assert_int_equal(f->res.error.code, DVA_ERR_CLOSED);
    destroy(f);
}

static void test_one_byte_at_a_time(void **state)
{
    (void)state;
    fixture *f = make("pw");
    dva_memory_transport_set_read_chunk(f->t, 1);
    dva_memory_transport_set_write_chunk(f->t, 1);
    int done = 0;
    dva_memory_transport_on_write(f->t, respond_auth_ok, &done);
    send_user(f, "alice@example.com", NULL);
    send_user(f, "alice@example.com", NULL);
    dva_memory_transport_push_str(f->t, "-\n");
    drive(f);
    assert_int_equal(dva_client_state(f->c), DVA_STATE_READY);
    dva_memory_transport_push_str(f->t, QUOTA_ALICE QUOTA_ALICE);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(drive(f), DVA_RECV_RESULT);
        assert_int_equal(f->res.error.code, DVA_OK);
        assert_int_equal(dva_reply_rows(&f->res.reply), 2);
        assert_string_equal(dva_reply_cstr(&f->res.reply, 1, 2), "MESSAGE");
    }
    assert_non_null(strstr(written(f), "\talice@example.com\tquota get\t-A\n"
                                       "\talice@example.com\tquota get\t-A\n"));
    destroy(f);
}

/* Dovecot 2.3.0-2.3.16 sends "\n-\n" again after a coded failure. */
static void test_double_status_line(void **state)
{
    (void)state;
    fixture *f = make(NULL);
    send_user(f, "nobody@example.com", (void *)1);
    send_user(f, "alice@example.com", (void *)2);
    dva_memory_transport_push_str(f->t, "+\n\n-NOUSER\n\n-\n" QUOTA_ALICE);
    assert_int_equal(drive(f), DVA_RECV_RESULT);
    assert_ptr_equal(f->res.tag, (void *)1);
    assert_int_equal(f->res.reply.status, DVA_STATUS_NOUSER);
    assert_int_equal(drive(f), DVA_RECV_RESULT);
    assert_ptr_equal(f->res.tag, (void *)2);
    assert_int_equal(f->res.error.code, DVA_OK);
    assert_int_equal(dva_reply_rows(&f->res.reply), 2);
    assert_int_equal(drive(f), DVA_RECV_IDLE);
    destroy(f);
}

static void test_double_status_after_last_request(void **state)
{
    (void)state;
    fixture *f = make(NULL);
    dva_memory_transport_set_read_chunk(f->t, 1);
    send_user(f, "nobody@example.com", NULL);
    dva_memory_transport_push_str(f->t, "+\n\n-NOUSER\n\n-\n");
    assert_int_equal(drive(f), DVA_RECV_RESULT);
    assert_int_equal(f->res.reply.status, DVA_STATUS_NOUSER);
    /* Idle: the duplicate stays unread until the next request, whose reply
     * it precedes; it must not be taken as that reply. */
    send_user(f, "alice@example.com", (void *)2);
    dva_memory_transport_push_str(f->t, QUOTA_ALICE);
    assert_int_equal(drive(f), DVA_RECV_RESULT);
    assert_ptr_equal(f->res.tag, (void *)2);
    assert_int_equal(f->res.error.code, DVA_OK);
    assert_int_equal(dva_reply_rows(&f->res.reply), 2);
    assert_int_equal(dva_memory_transport_unread(f->t), 0);
    assert_int_not_equal(dva_client_state(f->c), DVA_STATE_CLOSED);
    destroy(f);
}

static void test_deadline_expires(void **state)
{
    (void)state;
    fixture *f = make(NULL);
    send_user(f, "alice@example.com", (void *)1);
    send_user(f, "bob@example.com", (void *)2);
    dva_memory_transport_push_str(f->t, "+\n");
    drive(f);
    dva_client_set_deadline(f->c, 1000);
    assert_int_equal(dva_client_deadline(f->c), 1000);
    assert_false(dva_client_expire(f->c, 999));
    assert_true(dva_client_expire(f->c, 1000));
    assert_int_equal(dva_client_receive(f->c, &f->res), DVA_RECV_RESULT);
    assert_int_equal(f->res.error.code, DVA_ERR_TIMEOUT);
    assert_non_null(strstr(f->res.error.message, "alice@example.com"));
    assert_null(strstr(f->res.error.message, "bob@example.com"));
    /* bob's request, queued behind alice's, is named first in its own
     * failure: it is never reported under alice's request alone. */
    assert_int_equal(dva_client_receive(f->c, &f->res), DVA_RECV_RESULT);
    assert_int_equal(f->res.error.code, DVA_ERR_TIMEOUT);
    assert_ptr_equal(f->res.tag, (void *)2);
    const char *bob_first = "'quota get' for bob@example.com was not answered: ";
    assert_memory_equal(f->res.error.message, bob_first, strlen(bob_first));
    assert_int_equal(dva_client_receive(f->c, &f->res), DVA_RECV_IDLE);
    assert_false(dva_client_expire(f->c, 5000));
    destroy(f);
}

static void test_deadline_while_connecting_names_step(void **state)
{
    (void)state;
    fixture *f = make(NULL);
    dva_memory_transport_set_connect_delay(f->t, 1000);
    send_server(f, "who", NULL);
    assert_int_equal(dva_client_receive(f->c, &f->res), DVA_RECV_AGAIN);
    dva_client_set_deadline(f->c, 10);
    assert_true(dva_client_expire(f->c, 11));
    assert_int_equal(dva_client_receive(f->c, &f->res), DVA_RECV_RESULT);
    assert_int_equal(f->res.error.code, DVA_ERR_TIMEOUT);
    assert_non_null(strstr(f->res.error.message, "connecting"));
    destroy(f);
}

static void test_close_fails_pending_with_reason(void **state)
{
    (void)state;
    fixture *f = make(NULL);
    send_user(f, "a@x", (void *)1);
    send_user(f, "b@x", (void *)2);
    dva_client_close(f->c, DVA_ERR_IO, "stopping");
    assert_true(dva_memory_transport_closed(f->t));
    for (intptr_t i = 1; i <= 2; i++) {
        assert_int_equal(dva_client_receive(f->c, &f->res), DVA_RECV_RESULT);
        assert_ptr_equal(f->res.tag, (void *)i);
        assert_int_equal(f->res.error.code, DVA_ERR_IO);
        assert_string_equal(f->res.error.message, "stopping");
    }
    dva_error err;
    dva_command cmd;
    dva_quota_command(&cmd, DVA_ROWS_NAMED);
    dva_request req = dva_command_request(&cmd, "c@x", NULL);
    assert_int_equal(dva_client_send(f->c, &req, &err), -1);
    assert_int_equal(err.code, DVA_ERR_IO);
    destroy(f);
}

static void test_connect_failure(void **state)
{
    (void)state;
    fixture *f = make(NULL);
    dva_memory_transport_fail_connect(f->t, DVA_ERR_CONNECT, "connection refused");
    send_server(f, "who", (void *)7);
    assert_int_equal(drive(f), DVA_RECV_RESULT);
    assert_ptr_equal(f->res.tag, (void *)7);
    assert_int_equal(f->res.error.code, DVA_ERR_CONNECT);
    assert_string_equal(f->res.error.message, "connection refused");
    destroy(f);
}

static void test_connect_in_progress(void **state)
{
    (void)state;
    fixture *f = make(NULL);
    dva_memory_transport_set_connect_delay(f->t, 3);
    assert_int_equal(dva_client_receive(f->c, &f->res), DVA_RECV_IDLE);
    send_server(f, "who", NULL);
    assert_int_equal(dva_client_events(f->c), POLLOUT);
    for (int i = 0; i < 3; i++)
        assert_int_equal(dva_client_receive(f->c, &f->res), DVA_RECV_AGAIN);
    assert_int_equal(dva_client_state(f->c), DVA_STATE_CONNECTING);
    assert_int_equal(dva_client_receive(f->c, &f->res), DVA_RECV_AGAIN);
    assert_int_equal(dva_client_state(f->c), DVA_STATE_VERSION_SENT);
    assert_int_equal(dva_client_events(f->c), POLLIN);
    destroy(f);
}

static void test_read_error(void **state)
{
    (void)state;
    fixture *f = make(NULL);
    send_server(f, "who", NULL);
    dva_memory_transport_push_str(f->t, "+\nalice\t");
    dva_memory_transport_fail_read(f->t, DVA_ERR_IO, "read failed: Connection reset");
    assert_int_equal(drive(f), DVA_RECV_RESULT);
    assert_int_equal(f->res.error.code, DVA_ERR_IO);
    assert_non_null(strstr(f->res.error.message, "reset"));
    destroy(f);
}

static void test_request_escaping_and_flags(void **state)
{
    (void)state;
    fixture *f = make(NULL);
    const char *argv[] = {"mailbox status", "-A", "messages unseen", "a\tb\nc\001"};
    dva_request req = {
        .username = "us\ter", .argv = argv, .argc = 4, .flags = 'D', .ncols = 4};
    dva_error err;
    assert_int_equal(dva_client_send(f->c, &req, &err), 0);
    dva_memory_transport_push_str(f->t, "+\n");
    drive(f);
    assert_string_equal(written(f),
                        VERSION_LINE "D\tus\001ter\tmailbox status\t-A\t"
                                     "messages unseen\ta\001tb\001nc\0011\n");
    destroy(f);
}

static void test_invalid_requests(void **state)
{
    (void)state;
    fixture *f = make(NULL);
    dva_error err;
    const char *argv[] = {"who"};
    dva_request bad_flag = {.argv = argv, .argc = 1, .flags = 'x'};
    assert_int_equal(dva_client_send(f->c, &bad_flag, &err), -1);
    assert_int_equal(err.code, DVA_ERR_USAGE);
    dva_request no_cmd = {.argv = argv, .argc = 0};
    assert_int_equal(dva_client_send(f->c, &no_cmd, &err), -1);
    assert_int_equal(err.code, DVA_ERR_USAGE);
    const char *empty[] = {""};
    dva_request empty_cmd = {.argv = empty, .argc = 1};
    assert_int_equal(dva_client_send(f->c, &empty_cmd, &err), -1);
    assert_int_equal(err.code, DVA_ERR_USAGE);
    assert_int_equal(dva_client_pending(f->c), 0);
    destroy(f);
}

static void test_request_line_limit(void **state)
{
    (void)state;
    fixture *f = make(NULL);
    size_t n = (size_t)1 << 20;
    char *big = malloc(n + 1);
    memset(big, 'x', n);
    big[n] = '\0';
    const char *argv[] = {"user", big};
    dva_request req = {.argv = argv, .argc = 2, .ncols = 1};
    dva_error err;
    assert_int_equal(dva_client_send(f->c, &req, &err), -1);
    assert_int_equal(err.code, DVA_ERR_LIMIT);
    assert_int_equal(dva_client_pending(f->c), 0);
    free(big);
    destroy(f);
}

static void test_wrong_column_count_closes(void **state)
{
    (void)state;
    fixture *f = make(NULL);
    send_user(f, "alice@example.com", (void *)1);
    send_user(f, "bob@example.com", (void *)2);
    dva_memory_transport_push_str(f->t, "+\na\tb\tc\t\n+\n");
    assert_int_equal(drive(f), DVA_RECV_RESULT);
    assert_int_equal(f->res.error.code, DVA_ERR_PROTOCOL);
    assert_non_null(strstr(f->res.error.message, "alice@example.com"));
    assert_int_equal(drive(f), DVA_RECV_RESULT);
    assert_int_equal(f->res.error.code, DVA_ERR_PROTOCOL);
    destroy(f);
}

static void test_reply_limit_closes(void **state)
{
    (void)state;
    dva_transport *t = dva_memory_transport_new();
    dva_client_options opt = {.limits = {.max_value_len = 8}};
    dva_client *c = dva_client_new(t, &opt);
    const char *argv[] = {"who"};
    dva_request req = {.argv = argv, .argc = 1, .ncols = 1};
    dva_error err;
    assert_int_equal(dva_client_send(c, &req, &err), 0);
    dva_memory_transport_push_str(t, "+\n0123456789abcdef\t\n+\n");
    dva_result res = {0};
    dva_recv r;
    int guard = 0;
    while ((r = dva_client_receive(c, &res)) == DVA_RECV_AGAIN && guard++ < 100)
        ;
    assert_int_equal(r, DVA_RECV_RESULT);
    assert_int_equal(res.error.code, DVA_ERR_LIMIT);
    dva_result_clear(&res);
    dva_client_free(c);
    dva_transport_destroy(t);
}

static void test_data_before_request_is_protocol_error(void **state)
{
    (void)state;
    fixture *f = make(NULL);
    send_user(f, "alice@example.com", NULL);
    dva_memory_transport_push_str(f->t, "+\n" QUOTA_ALICE "junk\t");
    assert_int_equal(drive(f), DVA_RECV_RESULT);
    assert_int_equal(f->res.error.code, DVA_OK);
    drive(f);
    assert_int_equal(dva_client_state(f->c), DVA_STATE_CLOSED);
    assert_int_equal(dva_client_error(f->c)->code, DVA_ERR_PROTOCOL);
    destroy(f);
}

static void test_events(void **state)
{
    (void)state;
    fixture *f = make(NULL);
    assert_int_equal(dva_client_events(f->c), 0);
    send_user(f, "alice@example.com", NULL);
    dva_client_receive(f->c, &f->res);
    /* Written everything; waiting for the greeting. */
    assert_int_equal(dva_client_events(f->c), POLLIN);
    dva_memory_transport_push_str(f->t, "+\n");
    drive(f);
    /* Waiting for the reply. */
    assert_int_equal(dva_client_events(f->c), POLLIN);
    dva_memory_transport_push_str(f->t, QUOTA_ALICE);
    assert_int_equal(drive(f), DVA_RECV_RESULT);
    assert_int_equal(dva_client_events(f->c), 0);
    dva_client_close(f->c, DVA_ERR_IO, "x");
    assert_int_equal(dva_client_events(f->c), 0);
    destroy(f);
}

static void test_result_reuse_across_many_replies(void **state)
{
    (void)state;
    fixture *f = make(NULL);
    dva_memory_transport_push_str(f->t, "+\n");
    for (int i = 0; i < 500; i++) {
        send_user(f, "alice@example.com", (void *)(intptr_t)i);
        dva_memory_transport_push_str(f->t, QUOTA_ALICE);
    }
    for (int i = 0; i < 500; i++) {
        assert_int_equal(drive(f), DVA_RECV_RESULT);
        assert_ptr_equal(f->res.tag, (void *)(intptr_t)i);
        assert_int_equal(dva_reply_rows(&f->res.reply), 2);
    }
    assert_int_equal(dva_client_served(f->c), 500);
    destroy(f);
}

static void test_names(void **state)
{
    (void)state;
    assert_string_equal(dva_state_name(DVA_STATE_AUTHENTICATING), "authenticating");
    assert_string_equal(dva_errcode_name(DVA_ERR_PROTOCOL), "protocol");
    assert_string_equal(dva_status_name(DVA_STATUS_NOUSER), "NOUSER");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_preauth_handshake_and_reply),
        cmocka_unit_test(test_plain_auth),
        cmocka_unit_test(test_long_password_base64_is_one_line),
        cmocka_unit_test(test_auth_rejected_fails_every_request),
        cmocka_unit_test(test_auth_eof_is_auth_error),
        cmocka_unit_test(test_password_required_but_missing),
        cmocka_unit_test(test_unneeded_password_warns_and_is_not_sent),
        cmocka_unit_test(test_version_refused),
        cmocka_unit_test(test_garbage_greeting),
        cmocka_unit_test(test_overlong_greeting),
        cmocka_unit_test(test_pipelined_requests_in_order),
        cmocka_unit_test(test_requests_held_until_handshake),
        cmocka_unit_test(test_server_wide_must_be_first),
        cmocka_unit_test(test_nothing_after_server_wide),
        cmocka_unit_test(test_hazard_rows_after_status),
        cmocka_unit_test(test_hazard_capture_who_then_who1),
        cmocka_unit_test(test_hazard_server_dies_without_status),
        cmocka_unit_test(test_eof_mid_reply),
        cmocka_unit_test(test_one_byte_at_a_time),
        cmocka_unit_test(test_double_status_line),
        cmocka_unit_test(test_double_status_after_last_request),
        cmocka_unit_test(test_deadline_expires),
        cmocka_unit_test(test_deadline_while_connecting_names_step),
        cmocka_unit_test(test_close_fails_pending_with_reason),
        cmocka_unit_test(test_connect_failure),
        cmocka_unit_test(test_connect_in_progress),
        cmocka_unit_test(test_read_error),
        cmocka_unit_test(test_request_escaping_and_flags),
        cmocka_unit_test(test_invalid_requests),
        cmocka_unit_test(test_request_line_limit),
        cmocka_unit_test(test_wrong_column_count_closes),
        cmocka_unit_test(test_reply_limit_closes),
        cmocka_unit_test(test_data_before_request_is_protocol_error),
        cmocka_unit_test(test_events),
        cmocka_unit_test(test_result_reuse_across_many_replies),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
