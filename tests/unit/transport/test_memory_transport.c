/* SPDX-License-Identifier: MIT */
/* The scripted in-memory transport used by the client tests. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <poll.h>

#include "doveadm/memory_transport.h"
#include "test_support.h"

static dva_transport *new_connected(void)
{
    dva_transport *t = dva_memory_transport_new();
    assert_non_null(t);
    dva_error err;
    assert_int_equal(dva_transport_connect(t, &err), 1);
    return t;
}

static void test_describe_and_poll_fd(void **state)
{
    (void)state;
    dva_transport *t = dva_memory_transport_new();
    assert_string_equal(dva_transport_describe(t), "memory");
    short ev = 0x7fff;
    assert_int_equal(dva_transport_poll_fd(t, POLLIN, &ev), -1);
    assert_int_equal(ev, POLLOUT); /* not connected yet */
    dva_error err;
    assert_int_equal(dva_transport_connect(t, &err), 1);
    assert_int_equal(dva_transport_poll_fd(t, POLLIN | POLLOUT, &ev), -1);
    assert_int_equal(ev, POLLIN | POLLOUT);
    dva_transport_destroy(t);
    dva_transport_destroy(NULL); /* allowed */
}

static void test_push_then_read_all(void **state)
{
    (void)state;
    dva_transport *t = new_connected();
    dva_memory_transport_push_str(t, "hello ");
    dva_memory_transport_push(t, "wor\0ld", 6);
    assert_int_equal(dva_memory_transport_unread(t), 12);

    char buf[64];
    dva_error err;
    ssize_t n = dva_transport_read(t, buf, sizeof(buf), &err);
    assert_int_equal(n, 12);
    assert_memory_equal(buf, "hello wor\0ld", 12);
    assert_int_equal(dva_memory_transport_unread(t), 0);
    /* Nothing queued and no EOF: would block. */
    assert_int_equal(dva_transport_read(t, buf, sizeof(buf), &err), 0);
    dva_transport_destroy(t);
}

static void test_read_limited_by_buffer_and_chunk(void **state)
{
    (void)state;
    dva_transport *t = new_connected();
    dva_memory_transport_push_str(t, "abcdefghij");
    char buf[16];
    dva_error err;
    /* The caller's buffer limits. */
    assert_int_equal(dva_transport_read(t, buf, 4, &err), 4);
    assert_memory_equal(buf, "abcd", 4);
    /* Then read_chunk limits. */
    dva_memory_transport_set_read_chunk(t, 3);
    assert_int_equal(dva_transport_read(t, buf, sizeof(buf), &err), 3);
    assert_memory_equal(buf, "efg", 3);
    assert_int_equal(dva_memory_transport_unread(t), 3);
    dva_memory_transport_set_read_chunk(t, 0); /* unlimited again */
    assert_int_equal(dva_transport_read(t, buf, sizeof(buf), &err), 3);
    assert_memory_equal(buf, "hij", 3);
    dva_transport_destroy(t);
}

static void test_read_one_byte_at_a_time(void **state)
{
    (void)state;
    dva_transport *t = new_connected();
    dva_memory_transport_set_read_chunk(t, 1);
    const char *msg = "+\nVERSION\t1\n";
    dva_memory_transport_push_str(t, msg);
    dva_memory_transport_eof(t);
    char got[64];
    size_t total = 0;
    dva_error err;
    for (;;) {
        char c[8];
        ssize_t n = dva_transport_read(t, c, sizeof(c), &err);
        if (n == DVA_IO_EOF)
            break;
        assert_int_equal(n, 1);
        assert_true(total < sizeof(got));
        got[total++] = c[0];
    }
    assert_int_equal(total, strlen(msg));
    assert_memory_equal(got, msg, total);
    dva_transport_destroy(t);
}

static void test_eof_after_queued_bytes(void **state)
{
    (void)state;
    dva_transport *t = new_connected();
    dva_memory_transport_push_str(t, "xy");
    dva_memory_transport_eof(t);
    char buf[8];
    dva_error err;
    assert_int_equal(dva_transport_read(t, buf, sizeof(buf), &err), 2);
    assert_int_equal(dva_transport_read(t, buf, sizeof(buf), &err), DVA_IO_EOF);
    /* EOF is sticky. */
    assert_int_equal(dva_transport_read(t, buf, sizeof(buf), &err), DVA_IO_EOF);
    dva_transport_destroy(t);
}

static void test_fail_read_after_queued_bytes(void **state)
{
    (void)state;
    dva_transport *t = new_connected();
    dva_memory_transport_push_str(t, "abc");
    dva_memory_transport_fail_read(t, DVA_ERR_IO, "read from memory failed: reset");
    char buf[8];
    dva_error err;
    dva_error_clear(&err);
    assert_int_equal(dva_transport_read(t, buf, 2, &err), 2);
    assert_int_equal(err.code, DVA_OK);
    assert_int_equal(dva_transport_read(t, buf, sizeof(buf), &err), 1);
    assert_int_equal(buf[0], 'c');
    assert_int_equal(dva_transport_read(t, buf, sizeof(buf), &err), -1);
    assert_int_equal(err.code, DVA_ERR_IO);
    assert_string_equal(err.message, "read from memory failed: reset");
    dva_transport_destroy(t);
}

static void test_write_captured_and_chunked(void **state)
{
    (void)state;
    dva_transport *t = new_connected();
    dva_error err;
    size_t len = 99;
    assert_string_equal(dva_memory_transport_written(t, &len), "");
    assert_int_equal(len, 0);

    assert_int_equal(dva_transport_write(t, "VERSION\t", 8, &err), 8);
    dva_memory_transport_set_write_chunk(t, 3);
    assert_int_equal(dva_transport_write(t, "doveadm-server", 14, &err), 3);
    assert_int_equal(dva_transport_write(t, "ve", 2, &err), 2);
    const char *w = dva_memory_transport_written(t, &len);
    assert_int_equal(len, 13);
    assert_string_equal(w, "VERSION\tdovve");
    assert_int_equal(w[len], '\0');
    assert_ptr_equal(dva_memory_transport_written(t, NULL), w); /* len is optional */

    dva_memory_transport_clear_written(t);
    assert_string_equal(dva_memory_transport_written(t, &len), "");
    assert_int_equal(len, 0);
    assert_int_equal(dva_transport_write(t, "z", 1, &err), 1);
    assert_string_equal(dva_memory_transport_written(t, &len), "z");
    assert_int_equal(len, 1);
    dva_transport_destroy(t);
}

static void test_write_binary_and_large(void **state)
{
    (void)state;
    dva_transport *t = new_connected();
    dva_error err;
    size_t big = 1u << 20;
    unsigned char *data = malloc(big);
    assert_non_null(data);
    for (size_t i = 0; i < big; i++)
        data[i] = (unsigned char)(i * 7 + (i >> 8));
    dva_memory_transport_set_write_chunk(t, 4093);
    size_t done = 0, calls = 0;
    while (done < big) {
        ssize_t n = dva_transport_write(t, data + done, big - done, &err);
        assert_true(n > 0 && n <= 4093);
        done += (size_t)n;
        calls++;
    }
    assert_int_equal(calls, (big + 4092) / 4093);
    size_t len;
    const char *w = dva_memory_transport_written(t, &len);
    assert_int_equal(len, big);
    assert_memory_equal(w, data, big);
    free(data);
    dva_transport_destroy(t);
}

static void test_connect_delay(void **state)
{
    (void)state;
    dva_transport *t = dva_memory_transport_new();
    dva_memory_transport_set_connect_delay(t, 3);
    dva_error err;
    assert_int_equal(dva_transport_connect(t, &err), 0);
    assert_int_equal(dva_transport_connect(t, &err), 0);
    assert_int_equal(dva_transport_connect(t, &err), 0);
    /* Not connected yet: reads and writes are API misuse. */
    char buf[4];
    assert_int_equal(dva_transport_write(t, "x", 1, &err), -1);
    assert_int_equal(err.code, DVA_ERR_USAGE);
    assert_int_equal(dva_transport_connect(t, &err), 1);
    assert_int_equal(dva_transport_connect(t, &err), 1);
    assert_int_equal(dva_transport_write(t, "x", 1, &err), 1);
    assert_int_equal(dva_transport_read(t, buf, sizeof(buf), &err), 0);
    dva_transport_destroy(t);
}

static void test_connect_failure(void **state)
{
    (void)state;
    dva_transport *t = dva_memory_transport_new();
    dva_memory_transport_set_connect_delay(t, 1);
    dva_memory_transport_fail_connect(t, DVA_ERR_CONNECT,
                                      "connect to memory failed: Connection refused");
    dva_error err;
    dva_error_clear(&err);
    assert_int_equal(dva_transport_connect(t, &err), 0); /* the delay comes first */
    assert_int_equal(err.code, DVA_OK);
    assert_int_equal(dva_transport_connect(t, &err), -1);
    assert_int_equal(err.code, DVA_ERR_CONNECT);
    assert_string_equal(err.message, "connect to memory failed: Connection refused");
    char buf[4];
    assert_int_equal(dva_transport_read(t, buf, sizeof(buf), &err), -1);
    assert_int_equal(err.code, DVA_ERR_USAGE);
    dva_transport_destroy(t);
}

typedef struct {
    unsigned calls;
    size_t last_len;
    char last[64];
    dva_transport *seen;
} write_log;

static void reply_on_newline(dva_transport *t, const char *written, size_t len,
                             void *ctx)
{
    write_log *log = ctx;
    log->calls++;
    log->last_len = len;
    log->seen = t;
    assert_true(len < sizeof(log->last));
    memcpy(log->last, written, len);
    log->last[len] = '\0';
    assert_int_equal(written[len], '\0');
    /* Answer each complete line: the test script is the server. */
    if (len > 0 && written[len - 1] == '\n')
        dva_memory_transport_push_str(t, "+\n");
}

static void test_on_write_sees_all_bytes_and_can_reply(void **state)
{
    (void)state;
    dva_transport *t = new_connected();
    write_log log = {0};
    dva_memory_transport_on_write(t, reply_on_newline, &log);
    dva_memory_transport_set_write_chunk(t, 4);
    dva_error err;
    assert_int_equal(dva_transport_write(t, "VERSION\n", 8, &err), 4);
    assert_int_equal(log.calls, 1);
    assert_string_equal(log.last, "VERS");
    assert_int_equal(dva_memory_transport_unread(t), 0);
    assert_int_equal(dva_transport_write(t, "ION\n", 4, &err), 4);
    assert_int_equal(log.calls, 2);
    assert_int_equal(log.last_len, 8);
    assert_string_equal(log.last, "VERSION\n");
    assert_ptr_equal(log.seen, t);
    assert_int_equal(dva_memory_transport_unread(t), 2);
    char buf[8];
    assert_int_equal(dva_transport_read(t, buf, sizeof(buf), &err), 2);
    assert_memory_equal(buf, "+\n", 2);
    /* A zero-length write writes nothing and calls nothing. */
    assert_int_equal(dva_transport_write(t, "", 0, &err), 0);
    assert_int_equal(log.calls, 2);
    dva_transport_destroy(t);
}

static void test_close_is_idempotent_and_reported(void **state)
{
    (void)state;
    dva_transport *t = new_connected();
    assert_false(dva_memory_transport_closed(t));
    dva_transport_close(t);
    assert_true(dva_memory_transport_closed(t));
    dva_transport_close(t);
    assert_true(dva_memory_transport_closed(t));
    dva_error err;
    char buf[4];
    assert_int_equal(dva_transport_read(t, buf, sizeof(buf), &err), -1);
    assert_int_equal(err.code, DVA_ERR_USAGE);
    assert_int_equal(dva_transport_write(t, "x", 1, &err), -1);
    assert_int_equal(err.code, DVA_ERR_USAGE);
    short ev = 1;
    assert_int_equal(dva_transport_poll_fd(t, POLLIN, &ev), -1);
    assert_int_equal(ev, 0);
    /* A new connect reopens it. */
    assert_int_equal(dva_transport_connect(t, &err), 1);
    assert_false(dva_memory_transport_closed(t));
    assert_int_equal(dva_transport_write(t, "y", 1, &err), 1);
    dva_transport_destroy(t);
}

static void test_interleaved_push_and_read(void **state)
{
    (void)state;
    dva_transport *t = new_connected();
    dva_memory_transport_set_read_chunk(t, 5);
    char out[256];
    size_t got = 0;
    dva_error err;
    for (int i = 0; i < 20; i++) {
        char line[16];
        int n = snprintf(line, sizeof(line), "%02d\t", i);
        dva_memory_transport_push(t, line, (size_t)n);
        char buf[8];
        ssize_t r = dva_transport_read(t, buf, sizeof(buf), &err);
        assert_true(r > 0 && r <= 5);
        memcpy(out + got, buf, (size_t)r);
        got += (size_t)r;
    }
    for (;;) {
        ssize_t r = dva_transport_read(t, out + got, sizeof(out) - got, &err);
        if (r == 0)
            break;
        assert_true(r > 0);
        got += (size_t)r;
    }
    assert_int_equal(got, 60);
    for (int i = 0; i < 20; i++) {
        char line[16];
        snprintf(line, sizeof(line), "%02d\t", i);
        assert_memory_equal(out + 3 * i, line, 3);
    }
    dva_transport_destroy(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_describe_and_poll_fd),
        cmocka_unit_test(test_push_then_read_all),
        cmocka_unit_test(test_read_limited_by_buffer_and_chunk),
        cmocka_unit_test(test_read_one_byte_at_a_time),
        cmocka_unit_test(test_eof_after_queued_bytes),
        cmocka_unit_test(test_fail_read_after_queued_bytes),
        cmocka_unit_test(test_write_captured_and_chunked),
        cmocka_unit_test(test_write_binary_and_large),
        cmocka_unit_test(test_connect_delay),
        cmocka_unit_test(test_connect_failure),
        cmocka_unit_test(test_on_write_sees_all_bytes_and_can_reply),
        cmocka_unit_test(test_close_is_idempotent_and_reported),
        cmocka_unit_test(test_interleaved_push_and_read),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
