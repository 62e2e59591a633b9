/* SPDX-License-Identifier: MIT */
/* The TLS transport against an OpenSSL server in a child process on a
 * loopback TCP port, with the test certificates of tests/data/tls. The
 * client side is driven the way the scrape loop drives it: non-blocking
 * calls and poll() on what poll_fd() reports, against a deadline. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "doveadm/clock.h"
#include "doveadm/socket_transport.h"
#include "doveadm/tls_transport.h"
#include "test_support.h"

#define TLS_DIR DVA_TEST_DATA_DIR "/tls/"
#define WAIT_MS 10000 /* an upper bound: reaching it fails the test */
#define BULK_BYTES ((size_t)1 << 20)

typedef enum {
    SERVE_TLS_ECHO,      /* TLS: echo one line, then BULK_BYTES, then close_notify */
    SERVE_STARTTLS_ECHO, /* plain "STARTTLS\n", then as SERVE_TLS_ECHO */
    SERVE_PLAIN_MINUS,   /* a plain doveadm server: "-\n" and close */
    SERVE_SILENT,        /* accept, read, never answer */
    SERVE_RESET,         /* accept, wait for the hello, reset the connection */
} serve_mode;

typedef struct {
    pid_t pid;
    unsigned port;
} server;

/* ---- the server (child process, blocking) ---- */

static unsigned char bulk_byte(size_t i)
{
    return (unsigned char)('a' + i % 26);
}

static bool read_line(int fd, SSL *ssl, char *buf, size_t size)
{
    size_t n = 0;
    while (n + 1 < size) {
        char ch;
        int r = ssl != NULL ? SSL_read(ssl, &ch, 1) : (int)read(fd, &ch, 1);
        if (r <= 0)
            return false;
        buf[n++] = ch;
        if (ch == '\n')
            break;
    }
    buf[n] = '\0';
    return true;
}

static int serve_tls_on(SSL *ssl)
{
    if (SSL_accept(ssl) != 1)
        return 0; /* the client refused us: its test checks why */
    char line[256];
    if (!read_line(-1, ssl, line, sizeof(line)))
        return 12;
    if (SSL_write(ssl, line, (int)strlen(line)) <= 0)
        return 13;
    unsigned char chunk[4096];
    for (size_t sent = 0; sent < BULK_BYTES; sent += sizeof(chunk)) {
        for (size_t i = 0; i < sizeof(chunk); i++)
            chunk[i] = bulk_byte(sent + i);
        if (SSL_write(ssl, chunk, sizeof(chunk)) <= 0)
            return 14;
    }
    SSL_shutdown(ssl);
    return 0;
}

static int serve_tls(int fd)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    int rc = 10;
    if (ctx != NULL &&
        SSL_CTX_use_certificate_chain_file(ctx, TLS_DIR "server.pem") == 1 &&
        SSL_CTX_use_PrivateKey_file(ctx, TLS_DIR "server.key", SSL_FILETYPE_PEM) == 1) {
        SSL *ssl = SSL_new(ctx);
        if (ssl != NULL && SSL_set_fd(ssl, fd) == 1)
            rc = serve_tls_on(ssl);
        SSL_free(ssl);
    }
    SSL_CTX_free(ctx); /* valgrind checks the child too */
    return rc;
}

static int serve(int fd, serve_mode mode)
{
    char line[256];
    switch (mode) {
    case SERVE_TLS_ECHO:
        return serve_tls(fd);
    case SERVE_STARTTLS_ECHO:
        if (!read_line(fd, NULL, line, sizeof(line)) || strcmp(line, "STARTTLS\n") != 0)
            return 20;
        return serve_tls(fd);
    case SERVE_PLAIN_MINUS: {
        char buf[512];
        (void)read(fd, buf, sizeof(buf));
        return write(fd, "-\n", 2) == 2 ? 0 : 30;
    }
    case SERVE_RESET: {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        struct linger abort_close = {.l_onoff = 1, .l_linger = 0};
        if (poll(&p, 1, WAIT_MS) != 1 ||
            setsockopt(fd, SOL_SOCKET, SO_LINGER, &abort_close, sizeof(abort_close)) !=
                0)
            return 40;
        close(fd); /* with the hello unread: a reset */
        return 0;
    }
    case SERVE_SILENT: {
        /* Until the client gives up (EOF), bounded by WAIT_MS. */
        char buf[4096];
        struct pollfd p = {.fd = fd, .events = POLLIN};
        while (poll(&p, 1, WAIT_MS) > 0 && read(fd, buf, sizeof(buf)) > 0)
            ;
        return 0;
    }
    }
    return 99;
}

static server start_server(serve_mode mode)
{
    server s = {0};
    int lfd = dva_test_listen_loopback(&s.port, 4);
    s.pid = fork();
    assert_true(s.pid >= 0);
    if (s.pid == 0) {
        alarm(WAIT_MS / 1000 + 5); /* never outlive a broken test */
        int fd = accept(lfd, NULL, NULL);
        _exit(fd < 0 ? 98 : serve(fd, mode));
    }
    close(lfd);
    return s;
}

static void finish_server(server s)
{
    int status = 0;
    assert_int_equal(waitpid(s.pid, &status, 0), s.pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

/* ---- the client side ---- */

static dva_tls_context *context(dva_tls_mode mode, const char *ca)
{
    dva_tls_options o = {.mode = mode, .ca_file = ca};
    dva_error err;
    dva_tls_context *ctx = dva_tls_context_new(&o, &err);
    if (ctx == NULL)
        fail_msg("context: %s", err.message);
    return ctx;
}

static dva_transport *transport(const server *s, dva_tls_context *ctx, const char *name)
{
    dva_error err;
    dva_transport *tcp = dva_tcp_transport_new("127.0.0.1", s->port, &err);
    assert_non_null(tcp);
    dva_transport *t = dva_tls_transport_new(tcp, ctx, name, &err);
    if (t == NULL)
        fail_msg("transport: %s", err.message);
    return t;
}

static void wait_for(dva_transport *t, short want, uint64_t deadline)
{
    short ev = 0;
    int fd = dva_transport_poll_fd(t, want, &ev);
    assert_true(fd >= 0);
    assert_true(ev != 0);
    uint64_t now = dva_now_ms();
    if (now >= deadline)
        fail_msg("deadline passed");
    struct pollfd p = {.fd = fd, .events = ev};
    int r;
    do {
        r = poll(&p, 1, (int)(deadline - now));
    } while (r < 0 && errno == EINTR);
    assert_true(r >= 0);
}

/* Connects (and, in TLS mode, handshakes); returns connect's last result. */
static int connect_all(dva_transport *t, dva_error *err)
{
    uint64_t deadline = dva_now_ms() + WAIT_MS;
    int r;
    while ((r = dva_transport_connect(t, err)) == 0)
        wait_for(t, POLLOUT, deadline);
    return r;
}

static void write_all(dva_transport *t, const char *data)
{
    uint64_t deadline = dva_now_ms() + WAIT_MS;
    size_t len = strlen(data), done = 0;
    while (done < len) {
        dva_error err;
        ssize_t n = dva_transport_write(t, data + done, len - done, &err);
        if (n < 0)
            fail_msg("write: %s", err.message);
        if (n == 0)
            wait_for(t, POLLOUT, deadline);
        done += (size_t)(n > 0 ? n : 0);
    }
}

/* Reads until EOF; returns the bytes (malloc'ed) and their count. */
static char *read_to_eof(dva_transport *t, size_t *total)
{
    uint64_t deadline = dva_now_ms() + WAIT_MS;
    size_t cap = BULK_BYTES + 4096, len = 0;
    char *buf = malloc(cap);
    assert_non_null(buf);
    for (;;) {
        dva_error err;
        assert_true(len < cap);
        ssize_t n = dva_transport_read(t, buf + len, cap - len, &err);
        if (n == DVA_IO_EOF)
            break;
        if (n < 0)
            fail_msg("read: %s", err.message);
        if (n == 0)
            wait_for(t, POLLIN, deadline);
        len += (size_t)(n > 0 ? n : 0);
    }
    *total = len;
    return buf;
}

static void check_echo_and_bulk(dva_transport *t)
{
    write_all(t, "hello over tls\n");
    size_t len;
    char *got = read_to_eof(t, &len);
    const size_t head = strlen("hello over tls\n");
    assert_int_equal(len, head + BULK_BYTES);
    assert_memory_equal(got, "hello over tls\n", head);
    for (size_t i = 0; i < BULK_BYTES; i++)
        if ((unsigned char)got[head + i] != bulk_byte(i))
            fail_msg("byte %zu of the bulk differs", i);
    free(got);
}

static void expect_refused(serve_mode mode, const char *ca, const char *name,
                           const char *needle)
{
    server s = start_server(mode);
    dva_tls_context *ctx = context(DVA_TLS_IMMEDIATE, ca);
    dva_transport *t = transport(&s, ctx, name);
    dva_error err;
    assert_int_equal(connect_all(t, &err), -1);
    assert_int_equal(err.code, DVA_ERR_TLS);
    if (strstr(err.message, needle) == NULL)
        fail_msg("message lacks \"%s\": %s", needle, err.message);
    /* The failure sticks: no later call pretends the connection works. */
    char buf[8];
    assert_int_equal(dva_transport_read(t, buf, sizeof(buf), &err), -1);
    assert_int_equal(err.code, DVA_ERR_TLS);
    dva_transport_destroy(t);
    dva_tls_context_free(ctx);
    finish_server(s);
}

/* ---- tests ---- */

static void test_tls_echo_and_bulk(void **state)
{
    (void)state;
    server s = start_server(SERVE_TLS_ECHO);
    dva_tls_context *ctx = context(DVA_TLS_IMMEDIATE, TLS_DIR "ca.pem");
    dva_transport *t = transport(&s, ctx, "localhost");
    assert_non_null(strstr(dva_transport_describe(t), "(TLS)"));
    dva_error err;
    assert_int_equal(connect_all(t, &err), 1);
    assert_null(dva_transport_waiting_for(t));
    check_echo_and_bulk(t);
    dva_transport_destroy(t);
    dva_tls_context_free(ctx);
    finish_server(s);
}

static void test_ip_address_name(void **state)
{
    (void)state;
    server s = start_server(SERVE_TLS_ECHO);
    dva_tls_context *ctx = context(DVA_TLS_IMMEDIATE, TLS_DIR "ca.pem");
    dva_transport *t = transport(&s, ctx, "127.0.0.1");
    dva_error err;
    assert_int_equal(connect_all(t, &err), 1);
    check_echo_and_bulk(t);
    dva_transport_destroy(t);
    dva_tls_context_free(ctx);
    finish_server(s);
}

static void test_starttls(void **state)
{
    (void)state;
    server s = start_server(SERVE_STARTTLS_ECHO);
    dva_tls_context *ctx = context(DVA_TLS_STARTTLS, TLS_DIR "ca.pem");
    dva_transport *t = transport(&s, ctx, "localhost");
    dva_error err;
    assert_int_equal(connect_all(t, &err), 1); /* plain: no handshake yet */
    write_all(t, "STARTTLS\n");
    assert_int_equal(dva_transport_start_tls(t, &err), 0);
    assert_non_null(dva_transport_waiting_for(t));
    /* a second STARTTLS is a usage error */
    assert_int_equal(dva_transport_start_tls(t, &err), -1);
    assert_int_equal(err.code, DVA_ERR_USAGE);
    check_echo_and_bulk(t);
    dva_transport_destroy(t);
    dva_tls_context_free(ctx);
    finish_server(s);
}

static void test_wrong_ca(void **state)
{
    (void)state;
    expect_refused(SERVE_TLS_ECHO, TLS_DIR "other-ca.pem", "localhost",
                   "certificate verify failed: unable to get local issuer certificate");
}

static void test_host_mismatch(void **state)
{
    (void)state;
    expect_refused(SERVE_TLS_ECHO, TLS_DIR "ca.pem", "mail.example.com",
                   "host name mismatch: expected mail.example.com");
    expect_refused(SERVE_TLS_ECHO, TLS_DIR "ca.pem", "[::1]",
                   "host name mismatch: expected ::1");
}

static void test_plain_server(void **state)
{
    (void)state;
    expect_refused(SERVE_PLAIN_MINUS, TLS_DIR "ca.pem", "localhost",
                   "server did not speak TLS (plain doveadm server?): it answered the "
                   "TLS hello with \"-\\x0a\"");
}

static void test_reset_on_hello(void **state)
{
    (void)state;
    expect_refused(SERVE_RESET, TLS_DIR "ca.pem", "localhost",
                   "server did not speak TLS (plain doveadm server?): the connection "
                   "broke on the TLS hello");
}

static void test_silent_server_is_named_on_timeout(void **state)
{
    (void)state;
    server s = start_server(SERVE_SILENT);
    dva_tls_context *ctx = context(DVA_TLS_IMMEDIATE, TLS_DIR "ca.pem");
    dva_transport *t = transport(&s, ctx, "localhost");
    dva_error err;
    uint64_t until = dva_now_ms() + 200;
    int r;
    while ((r = dva_transport_connect(t, &err)) == 0 && dva_now_ms() < until) {
        short ev = 0;
        struct pollfd p = {.fd = dva_transport_poll_fd(t, POLLOUT, &ev)};
        p.events = ev;
        (void)poll(&p, 1, 50);
    }
    assert_int_equal(r, 0); /* still waiting for the server's hello */
    const char *why = dva_transport_waiting_for(t);
    assert_non_null(why);
    assert_non_null(strstr(why, "server did not speak TLS (plain doveadm server?)"));
    /* the handshake waits for input, whatever the caller asks for */
    short ev = 0;
    dva_transport_poll_fd(t, POLLOUT, &ev);
    assert_int_equal(ev, POLLIN);
    dva_transport_destroy(t); /* the server sees EOF and ends */
    dva_tls_context_free(ctx);
    finish_server(s);
}

static void test_bad_arguments(void **state)
{
    (void)state;
    dva_error err;
    dva_tls_options bad = {.mode = DVA_TLS_IMMEDIATE, .ca_file = "/nonexistent.pem"};
    assert_null(dva_tls_context_new(&bad, &err));
    assert_int_equal(err.code, DVA_ERR_USAGE);
    assert_non_null(strstr(err.message, "/nonexistent.pem"));

    /* The server first: a child must not inherit the context (valgrind
     * would call it lost there). */
    server s = start_server(SERVE_TLS_ECHO);
    dva_tls_context *ctx = context(DVA_TLS_IMMEDIATE, TLS_DIR "ca.pem");
    dva_transport *tcp = dva_tcp_transport_new("127.0.0.1", 9, &err);
    assert_non_null(tcp);
    assert_null(dva_tls_transport_new(tcp, ctx, "", &err)); /* frees tcp */
    assert_int_equal(err.code, DVA_ERR_USAGE);
    /* STARTTLS on a TLS-from-the-start transport */
    dva_transport *t = transport(&s, ctx, "localhost");
    assert_int_equal(dva_transport_start_tls(t, &err), -1);
    assert_int_equal(err.code, DVA_ERR_USAGE);
    assert_int_equal(connect_all(t, &err), 1);
    check_echo_and_bulk(t);
    dva_transport_destroy(t);
    dva_tls_context_free(ctx);
    finish_server(s);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN); /* the child's writes to a refusing client */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tls_echo_and_bulk),
        cmocka_unit_test(test_ip_address_name),
        cmocka_unit_test(test_starttls),
        cmocka_unit_test(test_wrong_ca),
        cmocka_unit_test(test_host_mismatch),
        cmocka_unit_test(test_plain_server),
        cmocka_unit_test(test_reset_on_hello),
        cmocka_unit_test(test_silent_server_is_named_on_timeout),
        cmocka_unit_test(test_bad_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
