/* SPDX-License-Identifier: MIT */
/* The client's STARTTLS steps over the memory transport: what it sends, and
 * that nothing (least of all the password) goes out in clear when the
 * server or the transport does not go along. The TLS itself is tested in
 * test_tls_transport.c and against a real Dovecot in test_tls.py. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "doveadm/client.h"
#include "doveadm/memory_transport.h"

#define VERSION_LINE "VERSION\tdoveadm-server\t1\t0\n"

typedef struct {
    dva_transport *t;
    dva_client *c;
    dva_result res;
} fixture;

static fixture *make(const char *password)
{
    fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    f->t = dva_memory_transport_new();
    dva_client_options opt = {.password = password, .starttls = true};
    f->c = dva_client_new(f->t, &opt);
    assert_non_null(f->c);
    const char *argv[] = {"who"};
    dva_request req = {.argv = argv, .argc = 1, .ncols = 5, .tag = (void *)1};
    dva_error err;
    assert_int_equal(dva_client_send(f->c, &req, &err), 0);
    return f;
}

static void destroy(fixture *f)
{
    dva_result_clear(&f->res);
    dva_client_free(f->c);
    dva_transport_destroy(f->t);
    free(f);
}

/* Drives the client until the request's result comes back (closed). */
static void expect_closed(fixture *f, dva_errcode code, const char *needle)
{
    dva_recv r = DVA_RECV_AGAIN;
    for (int i = 0; i < 100 && r == DVA_RECV_AGAIN; i++)
        r = dva_client_receive(f->c, &f->res);
    assert_int_equal(r, DVA_RECV_RESULT);
    assert_int_equal(dva_client_state(f->c), DVA_STATE_CLOSED);
    assert_int_equal(f->res.error.code, code);
    if (strstr(f->res.error.message, needle) == NULL)
        fail_msg("message lacks \"%s\": %s", needle, f->res.error.message);
}

static const char *written(fixture *f)
{
    return dva_memory_transport_written(f->t, NULL);
}

static void test_sends_starttls_then_asks_the_transport(void **state)
{
    (void)state;
    fixture *f = make("s3cret");
    dva_memory_transport_push_str(f->t, "-\n");
    /* The memory transport cannot do TLS: the client must stop there. */
    expect_closed(f, DVA_ERR_USAGE, "cannot start TLS");
    assert_string_equal(written(f), VERSION_LINE "STARTTLS\n");
    destroy(f);
}

static void test_plain_bytes_before_tls_refused(void **state)
{
    (void)state;
    fixture *f = make("s3cret");
    /* "+" injected after "-" would be read as if it came through TLS. */
    dva_memory_transport_push_str(f->t, "-\n+\n");
    expect_closed(f, DVA_ERR_PROTOCOL, "sent \"+\\x0a\" before the TLS handshake");
    assert_null(strstr(written(f), "PLAIN"));
    assert_null(strstr(written(f), "who"));
    destroy(f);
}

static void test_preauthenticated_refused(void **state)
{
    (void)state;
    fixture *f = make("s3cret");
    dva_memory_transport_push_str(f->t, "+\n");
    expect_closed(f, DVA_ERR_TLS, "refusing to go on without TLS");
    assert_string_equal(written(f), VERSION_LINE);
    destroy(f);
}

static void test_without_password_no_starttls(void **state)
{
    (void)state;
    fixture *f = make(NULL);
    dva_memory_transport_push_str(f->t, "-\n");
    expect_closed(f, DVA_ERR_NOAUTH, "no password is configured");
    assert_string_equal(written(f), VERSION_LINE);
    destroy(f);
}

static void test_state_name(void **state)
{
    (void)state;
    assert_string_equal(dva_state_name(DVA_STATE_STARTTLS), "starting TLS");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sends_starttls_then_asks_the_transport),
        cmocka_unit_test(test_plain_bytes_before_tls_refused),
        cmocka_unit_test(test_preauthenticated_refused),
        cmocka_unit_test(test_without_password_no_starttls),
        cmocka_unit_test(test_state_name),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
