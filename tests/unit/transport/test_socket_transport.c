/* SPDX-License-Identifier: MIT */
/* The TCP and UNIX socket transports, against real loopback listeners made
 * in this process. Nothing here talks to anything but loopback. Waiting is
 * done with poll() on the transport's fd, never with sleeps. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "doveadm/socket_transport.h"
#include "test_support.h"

#define WAIT_MS 10000 /* a generous upper bound: reaching it fails the test */

/* ---- helpers ---- */

static void wait_fd(int fd, short events)
{
    struct pollfd pfd = {.fd = fd, .events = events};
    int r;
    do {
        r = poll(&pfd, 1, WAIT_MS);
    } while (r < 0 && errno == EINTR);
    if (r <= 0)
        fail_msg("poll on fd %d for events 0x%x: %s", fd, (unsigned)events,
                 r == 0 ? "timed out" : strerror(errno));
}

/* A loopback TCP listener on an ephemeral port; -1 when the family has no
 * loopback here. */
static int listen_tcp(int family, unsigned *port)
{
    int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof(ss));
    socklen_t len;
    if (family == AF_INET) {
        struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
        sin->sin_family = AF_INET;
        sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        len = sizeof(*sin);
    } else {
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
        sin6->sin6_family = AF_INET6;
        sin6->sin6_addr = in6addr_loopback;
        len = sizeof(*sin6);
    }
    if (bind(fd, (struct sockaddr *)&ss, len) < 0 || listen(fd, 16) < 0) {
        close(fd);
        return -1;
    }
    len = sizeof(ss);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&ss, &len), 0);
    *port = ntohs(family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
                                    : ((struct sockaddr_in6 *)&ss)->sin6_port);
    return fd;
}

static int listen_tcp4(unsigned *port)
{
    int fd = listen_tcp(AF_INET, port);
    if (fd < 0)
        fail_msg("cannot listen on 127.0.0.1: %s", strerror(errno));
    return fd;
}

/* Skips the test when the machine has no IPv6 loopback. */
static int listen_tcp6_or_skip(unsigned *port)
{
    int fd = listen_tcp(AF_INET6, port);
    if (fd < 0) {
        print_message("no IPv6 loopback here (%s); skipping\n", strerror(errno));
        skip();
    }
    return fd;
}

/* A fresh private directory for UNIX sockets. */
typedef struct {
    char dir[64];
    char path[128];
} sock_dir;

static void make_dir(sock_dir *d)
{
    snprintf(d->dir, sizeof(d->dir), "/tmp/dva-sock-XXXXXX");
    if (mkdtemp(d->dir) == NULL)
        fail_msg("mkdtemp: %s", strerror(errno));
    snprintf(d->path, sizeof(d->path), "%s/doveadm-server", d->dir);
}

static void remove_dir(sock_dir *d)
{
    unlink(d->path);
    rmdir(d->dir);
}

static int listen_unix(const char *path)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    assert_true(strlen(path) < sizeof(sun.sun_path));
    strcpy(sun.sun_path, path);
    if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 || listen(fd, 16) < 0)
        fail_msg("cannot listen on %s: %s", path, strerror(errno));
    return fd;
}

/* Calls connect() until it is done, polling the fd the transport returns
 * for the events it asks for. Returns the last connect() result. */
static int drive_connect(dva_transport *t, dva_error *err, unsigned *in_progress)
{
    unsigned waits = 0;
    for (;;) {
        int r = dva_transport_connect(t, err);
        if (r != 0) {
            if (in_progress != NULL)
                *in_progress = waits;
            return r;
        }
        short ev = 0;
        int fd = dva_transport_poll_fd(t, POLLIN, &ev);
        assert_true(fd >= 0);
        assert_int_equal(ev, POLLOUT); /* connecting: wait for writability */
        wait_fd(fd, ev);
        waits++;
        assert_true(waits < 1000);
    }
}

static int accept_peer(int listener)
{
    wait_fd(listener, POLLIN);
    int peer = accept(listener, NULL, NULL);
    if (peer < 0)
        fail_msg("accept: %s", strerror(errno));
    return peer;
}

/* Writes all of buf through the transport, polling as it asks. */
static void transport_write_all(dva_transport *t, const void *buf, size_t len)
{
    const char *p = buf;
    while (len > 0) {
        dva_error err;
        ssize_t n = dva_transport_write(t, p, len, &err);
        if (n < 0)
            fail_msg("write: %s", err.message);
        if (n == 0) {
            short ev;
            int fd = dva_transport_poll_fd(t, POLLOUT, &ev);
            wait_fd(fd, ev);
            continue;
        }
        p += n;
        len -= (size_t)n;
    }
}

/* Reads exactly len bytes through the transport, polling as it asks. */
static void transport_read_exact(dva_transport *t, void *buf, size_t len)
{
    char *p = buf;
    while (len > 0) {
        dva_error err;
        ssize_t n = dva_transport_read(t, p, len, &err);
        if (n == DVA_IO_EOF)
            fail_msg("unexpected EOF with %zu bytes still expected", len);
        if (n < 0)
            fail_msg("read: %s", err.message);
        if (n == 0) {
            short ev;
            int fd = dva_transport_poll_fd(t, POLLIN, &ev);
            assert_int_equal(ev, POLLIN);
            wait_fd(fd, ev);
            continue;
        }
        p += n;
        len -= (size_t)n;
    }
}

/* Reads until EOF or error, returning the final read() result. */
static ssize_t transport_read_until_end(dva_transport *t, dva_error *err, size_t *bytes)
{
    char buf[4096];
    *bytes = 0;
    for (unsigned i = 0; i < 100000; i++) {
        ssize_t n = dva_transport_read(t, buf, sizeof(buf), err);
        if (n > 0) {
            *bytes += (size_t)n;
            continue;
        }
        if (n != 0)
            return n;
        short ev;
        int fd = dva_transport_poll_fd(t, POLLIN, &ev);
        wait_fd(fd, ev);
    }
    fail_msg("the stream never ended");
    return 0;
}

static void peer_read_exact(int fd, void *buf, size_t len)
{
    char *p = buf;
    while (len > 0) {
        wait_fd(fd, POLLIN);
        ssize_t n = recv(fd, p, len, MSG_DONTWAIT);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            continue;
        if (n <= 0)
            fail_msg("peer read: %s", n == 0 ? "EOF" : strerror(errno));
        p += n;
        len -= (size_t)n;
    }
}

static void peer_write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len > 0) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        assert_true(n > 0);
        p += n;
        len -= (size_t)n;
    }
}

/* Connects t to the listener and exchanges a line each way. */
static void exchange_both_ways(dva_transport *t, int listener)
{
    dva_error err;
    int r = drive_connect(t, &err, NULL);
    if (r != 1)
        fail_msg("connect to %s: %s", dva_transport_describe(t), err.message);
    int peer = accept_peer(listener);

    short ev = 0;
    int fd = dva_transport_poll_fd(t, POLLIN, &ev);
    assert_true(fd >= 0);
    assert_int_equal(ev, POLLIN); /* connected: the caller's events */
    assert_int_equal(dva_transport_poll_fd(t, POLLIN | POLLOUT, &ev), fd);
    assert_int_equal(ev, POLLIN | POLLOUT);

    static const char hello[] = "VERSION\tdoveadm-server\t1\t0\n";
    transport_write_all(t, hello, sizeof(hello) - 1);
    char got[sizeof(hello)] = {0};
    peer_read_exact(peer, got, sizeof(hello) - 1);
    assert_string_equal(got, hello);

    /* Nothing sent yet: reading would block. */
    assert_int_equal(dva_transport_read(t, got, sizeof(got), &err), 0);

    peer_write_all(peer, "+\n", 2);
    char reply[3] = {0};
    transport_read_exact(t, reply, 2);
    assert_string_equal(reply, "+\n");

    close(peer);
}

/* ---- describe and arguments (no I/O) ---- */

static void test_describe_strings(void **state)
{
    (void)state;
    static const struct {
        const char *host;
        unsigned port;
        const char *want;
    } cases[] = {
        {"127.0.0.1", 2425, "tcp:127.0.0.1:2425"},
        {"::1", 2425, "tcp:[::1]:2425"},
        {"[::1]", 1, "tcp:[::1]:1"},
        {"[127.0.0.1]", 65535, "tcp:127.0.0.1:65535"},
        {"localhost", 24242, "tcp:localhost:24242"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        dva_error err;
        dva_transport *t = dva_tcp_transport_new(cases[i].host, cases[i].port, &err);
        if (t == NULL)
            fail_msg("%s: %s", cases[i].host, err.message);
        assert_string_equal(dva_transport_describe(t), cases[i].want);
        /* Nothing was opened by the constructor. */
        short ev = 1;
        assert_int_equal(dva_transport_poll_fd(t, POLLIN, &ev), -1);
        assert_int_equal(ev, 0);
        dva_transport_destroy(t);
    }
    dva_error err;
    dva_transport *u = dva_unix_transport_new("/run/dovecot/doveadm-server", &err);
    assert_non_null(u);
    assert_string_equal(dva_transport_describe(u), "unix:/run/dovecot/doveadm-server");
    dva_transport_destroy(u);
}

static void test_bad_arguments(void **state)
{
    (void)state;
    static const struct {
        const char *host;
        unsigned port;
    } cases[] = {
        {NULL, 2425},   {"", 2425},   {"127.0.0.1", 0}, {"127.0.0.1", 65536},
        {"[::1", 2425}, {"[]", 2425}, {"[::1]]", 2425}, {"[not-an-address]", 2425},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        dva_error err;
        dva_error_clear(&err);
        dva_transport *t = dva_tcp_transport_new(cases[i].host, cases[i].port, &err);
        if (t != NULL)
            fail_msg("case %zu (%s, %u) was accepted", i,
                     cases[i].host ? cases[i].host : "NULL", cases[i].port);
        assert_int_equal(err.code, DVA_ERR_USAGE);
        assert_true(strlen(err.message) > 0);
    }
    dva_error err;
    assert_null(dva_unix_transport_new(NULL, &err));
    assert_int_equal(err.code, DVA_ERR_USAGE);
    assert_null(dva_unix_transport_new("", &err));
    assert_int_equal(err.code, DVA_ERR_USAGE);
    /* NULL err is allowed. */
    assert_null(dva_tcp_transport_new("127.0.0.1", 0, NULL));
}

static void test_unix_path_too_long(void **state)
{
    (void)state;
    struct sockaddr_un sun;
    size_t max = sizeof(sun.sun_path) - 1; /* room for the NUL */
    char path[512];
    memset(path, 'a', sizeof(path));
    path[0] = '/';

    path[max + 1] = '\0';
    dva_error err;
    dva_error_clear(&err);
    assert_null(dva_unix_transport_new(path, &err));
    assert_int_equal(err.code, DVA_ERR_USAGE);
    assert_non_null(strstr(err.message, "too long"));

    path[max] = '\0'; /* exactly the limit fits */
    dva_transport *t = dva_unix_transport_new(path, &err);
    assert_non_null(t);
    dva_transport_destroy(t);

    memset(path, 'b', sizeof(path) - 1);
    path[0] = '/';
    path[sizeof(path) - 1] = '\0';
    assert_null(dva_unix_transport_new(path, &err));
    assert_int_equal(err.code, DVA_ERR_USAGE);
}

/* ---- exchanges ---- */

static void test_tcp4_connect_and_exchange(void **state)
{
    (void)state;
    unsigned port;
    int listener = listen_tcp4(&port);
    dva_error err;
    dva_transport *t = dva_tcp_transport_new("127.0.0.1", port, &err);
    assert_non_null(t);
    char want[64];
    snprintf(want, sizeof(want), "tcp:127.0.0.1:%u", port);
    assert_string_equal(dva_transport_describe(t), want);
    /* No connection until connect() is called. */
    struct pollfd pfd = {.fd = listener, .events = POLLIN};
    assert_int_equal(poll(&pfd, 1, 0), 0);

    exchange_both_ways(t, listener);

    /* The socket is non-blocking and close-on-exec. */
    short ev;
    int fd = dva_transport_poll_fd(t, POLLIN, &ev);
    assert_true((fcntl(fd, F_GETFL) & O_NONBLOCK) != 0);
    assert_true((fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0);
    /* connect() again is a no-op once connected. */
    assert_int_equal(dva_transport_connect(t, &err), 1);
    assert_int_equal(dva_transport_poll_fd(t, POLLIN, &ev), fd);

    dva_transport_destroy(t);
    close(listener);
}

static void test_tcp6_connect_and_exchange(void **state)
{
    (void)state;
    unsigned port;
    int listener = listen_tcp6_or_skip(&port);
    const char *forms[] = {"::1", "[::1]"};
    char want[64];
    snprintf(want, sizeof(want), "tcp:[::1]:%u", port);
    for (size_t i = 0; i < 2; i++) {
        dva_error err;
        dva_transport *t = dva_tcp_transport_new(forms[i], port, &err);
        if (t == NULL)
            fail_msg("%s: %s", forms[i], err.message);
        assert_string_equal(dva_transport_describe(t), want);
        exchange_both_ways(t, listener);
        dva_transport_destroy(t);
    }
    close(listener);
}

static void test_tcp_host_name_localhost(void **state)
{
    (void)state;
    /* Only 127.0.0.1 listens: if "localhost" resolves to ::1 first, that
     * attempt is refused and the transport must go on to 127.0.0.1. */
    struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM};
    struct addrinfo *res = NULL;
    if (getaddrinfo("localhost", NULL, &hints, &res) != 0) {
        print_message("\"localhost\" does not resolve to IPv4 here; skipping\n");
        skip();
    }
    freeaddrinfo(res);
    unsigned port;
    int listener = listen_tcp4(&port);
    dva_error err;
    dva_transport *t = dva_tcp_transport_new("localhost", port, &err);
    if (t == NULL)
        fail_msg("%s", err.message);
    exchange_both_ways(t, listener);
    dva_transport_destroy(t);
    close(listener);
}

static void test_unix_connect_and_exchange(void **state)
{
    (void)state;
    sock_dir d;
    make_dir(&d);
    int listener = listen_unix(d.path);
    dva_error err;
    dva_transport *t = dva_unix_transport_new(d.path, &err);
    assert_non_null(t);
    char want[160];
    snprintf(want, sizeof(want), "unix:%s", d.path);
    assert_string_equal(dva_transport_describe(t), want);
    exchange_both_ways(t, listener);
    dva_transport_destroy(t);
    close(listener);
    remove_dir(&d);
}

static void test_eof_after_peer_closes(void **state)
{
    (void)state;
    unsigned port;
    int listener = listen_tcp4(&port);
    dva_error err;
    dva_transport *t = dva_tcp_transport_new("127.0.0.1", port, &err);
    assert_int_equal(drive_connect(t, &err, NULL), 1);
    int peer = accept_peer(listener);
    peer_write_all(peer, "-\n", 2);
    close(peer);

    size_t bytes;
    ssize_t r = transport_read_until_end(t, &err, &bytes);
    assert_int_equal(r, DVA_IO_EOF);
    assert_int_equal(bytes, 2); /* the data sent before the close came first */
    /* EOF stays EOF. */
    char c;
    assert_int_equal(dva_transport_read(t, &c, 1, &err), DVA_IO_EOF);
    dva_transport_destroy(t);
    close(listener);
}

static void test_unix_eof_after_peer_closes(void **state)
{
    (void)state;
    sock_dir d;
    make_dir(&d);
    int listener = listen_unix(d.path);
    dva_error err;
    dva_transport *t = dva_unix_transport_new(d.path, &err);
    assert_int_equal(drive_connect(t, &err, NULL), 1);
    int peer = accept_peer(listener);
    close(peer);
    size_t bytes;
    assert_int_equal(transport_read_until_end(t, &err, &bytes), DVA_IO_EOF);
    assert_int_equal(bytes, 0);
    dva_transport_destroy(t);
    close(listener);
    remove_dir(&d);
}

static void test_read_after_reset_is_io_error(void **state)
{
    (void)state;
    unsigned port;
    int listener = listen_tcp4(&port);
    dva_error err;
    dva_transport *t = dva_tcp_transport_new("127.0.0.1", port, &err);
    assert_int_equal(drive_connect(t, &err, NULL), 1);
    int peer = accept_peer(listener);
    /* Unread data at the peer plus SO_LINGER 0 makes the close a reset. */
    transport_write_all(t, "unread\n", 7);
    wait_fd(peer, POLLIN);
    struct linger lg = {.l_onoff = 1, .l_linger = 0};
    assert_int_equal(setsockopt(peer, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)), 0);
    close(peer);

    dva_error_clear(&err);
    size_t bytes;
    ssize_t r = transport_read_until_end(t, &err, &bytes);
    assert_int_equal(r, -1);
    assert_int_equal(err.code, DVA_ERR_IO);
    char want[64];
    snprintf(want, sizeof(want), "read from tcp:127.0.0.1:%u failed: ", port);
    assert_true(strncmp(err.message, want, strlen(want)) == 0);
    assert_non_null(strstr(err.message, strerror(ECONNRESET)));
    dva_transport_destroy(t);
    close(listener);
}

static void test_write_after_peer_closed_no_sigpipe(void **state)
{
    (void)state;
    /* With the default SIGPIPE action a send() without MSG_NOSIGNAL would
     * kill this process. */
    struct sigaction dfl = {.sa_handler = SIG_DFL}, old;
    sigemptyset(&dfl.sa_mask);
    assert_int_equal(sigaction(SIGPIPE, &dfl, &old), 0);

    sock_dir d;
    make_dir(&d);
    int listener = listen_unix(d.path);
    dva_error err;
    dva_transport *t = dva_unix_transport_new(d.path, &err);
    assert_int_equal(drive_connect(t, &err, NULL), 1);
    int peer = accept_peer(listener);
    close(peer);

    char chunk[4096];
    memset(chunk, 'x', sizeof(chunk));
    ssize_t n = 0;
    for (unsigned i = 0; i < 10000; i++) {
        n = dva_transport_write(t, chunk, sizeof(chunk), &err);
        if (n < 0)
            break;
        if (n == 0) {
            short ev;
            wait_fd(dva_transport_poll_fd(t, POLLOUT, &ev), ev);
        }
    }
    assert_int_equal(n, -1);
    assert_int_equal(err.code, DVA_ERR_IO);
    char want[160];
    snprintf(want, sizeof(want), "write to unix:%s failed: ", d.path);
    assert_true(strncmp(err.message, want, strlen(want)) == 0);
    assert_true(strstr(err.message, strerror(EPIPE)) != NULL ||
                strstr(err.message, strerror(ECONNRESET)) != NULL);

    dva_transport_destroy(t);
    close(listener);
    remove_dir(&d);
    sigaction(SIGPIPE, &old, NULL);
}

/* 8 MiB through a peer that reads at most 16 KiB per turn: writes are
 * partial or would block, and everything arrives intact and in order. */
static void large_write(dva_transport *t, int listener)
{
    dva_error err;
    assert_int_equal(drive_connect(t, &err, NULL), 1);
    int peer = accept_peer(listener);
    assert_int_equal(fcntl(peer, F_SETFL, fcntl(peer, F_GETFL) | O_NONBLOCK), 0);

    size_t total = 8u << 20;
    unsigned char *data = malloc(total);
    unsigned char *got = malloc(total);
    assert_non_null(data);
    assert_non_null(got);
    uint32_t x = 2463534242u;
    for (size_t i = 0; i < total; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        data[i] = (unsigned char)x;
    }

    size_t sent = 0, received = 0;
    unsigned partial = 0, blocked = 0;
    while (received < total) {
        struct pollfd pfds[2];
        nfds_t n = 0;
        int tfd = -1;
        if (sent < total) {
            short ev;
            tfd = dva_transport_poll_fd(t, POLLOUT, &ev);
            pfds[n++] = (struct pollfd){.fd = tfd, .events = ev};
        }
        pfds[n++] = (struct pollfd){.fd = peer, .events = POLLIN};
        int r = poll(pfds, n, WAIT_MS);
        if (r <= 0)
            fail_msg("stalled at %zu sent, %zu received", sent, received);
        if (tfd >= 0 && pfds[0].revents != 0) {
            ssize_t w = dva_transport_write(t, data + sent, total - sent, &err);
            if (w < 0)
                fail_msg("write: %s", err.message);
            if (w == 0)
                blocked++;
            else if ((size_t)w < total - sent)
                partial++;
            sent += (size_t)w;
        }
        if (pfds[n - 1].revents != 0) {
            size_t want = total - received < 16384 ? total - received : 16384;
            ssize_t rd = recv(peer, got + received, want, 0);
            if (rd < 0 && (errno == EAGAIN || errno == EINTR))
                continue;
            if (rd <= 0)
                fail_msg("peer read: %s", rd == 0 ? "EOF" : strerror(errno));
            received += (size_t)rd;
        }
    }
    assert_int_equal(sent, total);
    assert_true(partial + blocked > 0);
    assert_memory_equal(got, data, total);
    print_message("8 MiB via %s: %u partial writes, %u blocked\n",
                  dva_transport_describe(t), partial, blocked);
    free(data);
    free(got);
    close(peer);
}

static void test_tcp_large_partial_writes(void **state)
{
    (void)state;
    unsigned port;
    int listener = listen_tcp4(&port);
    dva_error err;
    dva_transport *t = dva_tcp_transport_new("127.0.0.1", port, &err);
    large_write(t, listener);
    dva_transport_destroy(t);
    close(listener);
}

static void test_unix_large_partial_writes(void **state)
{
    (void)state;
    sock_dir d;
    make_dir(&d);
    int listener = listen_unix(d.path);
    dva_error err;
    dva_transport *t = dva_unix_transport_new(d.path, &err);
    large_write(t, listener);
    dva_transport_destroy(t);
    close(listener);
    remove_dir(&d);
}

/* ---- connect failures ---- */

static void expect_refused(const char *host, int family, const char *shown)
{
    unsigned port;
    int fd = listen_tcp(family, &port);
    if (fd < 0 && family == AF_INET6) {
        print_message("no IPv6 loopback here; skipping\n");
        skip();
    }
    assert_true(fd >= 0);
    close(fd); /* now nothing listens on that port */

    dva_error err;
    dva_transport *t = dva_tcp_transport_new(host, port, &err);
    assert_non_null(t);
    dva_error_clear(&err);
    assert_int_equal(drive_connect(t, &err, NULL), -1);
    assert_int_equal(err.code, DVA_ERR_CONNECT);
    char want[128];
    snprintf(want, sizeof(want), "connect to tcp:%s:%u failed: %s", shown, port,
             strerror(ECONNREFUSED));
    assert_string_equal(err.message, want);
    short ev;
    assert_int_equal(dva_transport_poll_fd(t, POLLIN, &ev), -1);
    /* A later connect() tries again (and fails the same way). */
    assert_int_equal(drive_connect(t, &err, NULL), -1);
    assert_string_equal(err.message, want);
    dva_transport_destroy(t);
}

static void test_tcp4_connection_refused(void **state)
{
    (void)state;
    expect_refused("127.0.0.1", AF_INET, "127.0.0.1");
}

static void test_tcp6_connection_refused(void **state)
{
    (void)state;
    expect_refused("[::1]", AF_INET6, "[::1]");
}

/* Runs the resolver for the name in a child first: if it does not answer
 * within a few seconds, this machine's resolver hangs on reserved names
 * and the test is skipped instead of hanging. */
static bool resolver_answers_quickly(const char *name)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct addrinfo hints = {.ai_socktype = SOCK_STREAM};
        struct addrinfo *res = NULL;
        int r = getaddrinfo(name, "2425", &hints, &res);
        _exit(r == 0 ? 1 : 0);
    }
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (;;) {
        int status;
        pid_t w = waitpid(pid, &status, WNOHANG);
        if (w == pid)
            return true;
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (now.tv_sec - start.tv_sec > 5) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            return false;
        }
        poll(NULL, 0, 20); /* waiting for the probe process only */
    }
}

static void test_unknown_host_name(void **state)
{
    (void)state;
    const char *name = "no-such-host.dva-test.invalid";
    if (!resolver_answers_quickly(name)) {
        print_message("the resolver does not answer for %s within 5 s; skipping\n",
                      name);
        skip();
    }
    dva_error err;
    dva_error_clear(&err);
    assert_null(dva_tcp_transport_new(name, 2425, &err));
    assert_int_equal(err.code, DVA_ERR_CONNECT);
    const char *want = "connect to tcp:no-such-host.dva-test.invalid:2425 failed: "
                       "cannot resolve \"no-such-host.dva-test.invalid\": ";
    if (strncmp(err.message, want, strlen(want)) != 0)
        fail_msg("unexpected message: %s", err.message);
    assert_true(strlen(err.message) > strlen(want)); /* the resolver's reason */
}

static void test_unix_path_does_not_exist(void **state)
{
    (void)state;
    sock_dir d;
    make_dir(&d);
    dva_error err;
    /* The constructor does no I/O: a missing socket is found at connect. */
    dva_transport *t = dva_unix_transport_new(d.path, &err);
    assert_non_null(t);
    dva_error_clear(&err);
    assert_int_equal(drive_connect(t, &err, NULL), -1);
    assert_int_equal(err.code, DVA_ERR_CONNECT);
    char want[256];
    snprintf(want, sizeof(want), "connect to unix:%s failed: %s (", d.path,
             strerror(ENOENT));
    if (strncmp(err.message, want, strlen(want)) != 0)
        fail_msg("unexpected message: %s", err.message);
    short ev;
    assert_int_equal(dva_transport_poll_fd(t, POLLIN, &ev), -1);
    dva_transport_destroy(t);
    remove_dir(&d);
}

static void test_unix_nobody_listening(void **state)
{
    (void)state;
    sock_dir d;
    make_dir(&d);
    int listener = listen_unix(d.path);
    close(listener); /* the socket file stays, nobody listens */
    dva_error err;
    dva_transport *t = dva_unix_transport_new(d.path, &err);
    assert_int_equal(drive_connect(t, &err, NULL), -1);
    assert_int_equal(err.code, DVA_ERR_CONNECT);
    char want[256];
    snprintf(want, sizeof(want), "connect to unix:%s failed: %s", d.path,
             strerror(ECONNREFUSED));
    assert_true(strncmp(err.message, want, strlen(want)) == 0);
    dva_transport_destroy(t);
    remove_dir(&d);
}

/* Connects to path and reports the outcome through fd (for the child). */
typedef struct {
    int result;
    dva_error err;
} connect_outcome;

static void connect_and_report(const char *path, int fd)
{
    connect_outcome out;
    memset(&out, 0, sizeof(out));
    dva_transport *t = dva_unix_transport_new(path, &out.err);
    out.result = t == NULL ? -2 : dva_transport_connect(t, &out.err);
    ssize_t w = write(fd, &out, sizeof(out));
    (void)w;
    dva_transport_destroy(t);
}

static void test_unix_permission_denied(void **state)
{
    (void)state;
    sock_dir d;
    make_dir(&d);
    int listener = listen_unix(d.path);
    assert_int_equal(chmod(d.dir, 0755), 0);
    assert_int_equal(chmod(d.path, 0600), 0); /* connect needs write permission */

    connect_outcome out;
    if (geteuid() != 0) {
        memset(&out, 0, sizeof(out));
        dva_transport *t = dva_unix_transport_new(d.path, &out.err);
        out.result = drive_connect(t, &out.err, NULL);
        dva_transport_destroy(t);
    } else {
        /* Root ignores permissions: try from a child that drops to nobody. */
        int pfd[2];
        assert_int_equal(pipe(pfd), 0);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            close(pfd[0]);
            if (setgroups(0, NULL) != 0 || setgid(65534) != 0 || setuid(65534) != 0)
                _exit(3);
            connect_and_report(d.path, pfd[1]);
            _exit(0);
        }
        close(pfd[1]);
        ssize_t got = read(pfd[0], &out, sizeof(out));
        close(pfd[0]);
        int status;
        waitpid(pid, &status, 0);
        if (WIFEXITED(status) && WEXITSTATUS(status) == 3) {
            close(listener);
            remove_dir(&d);
            print_message("running as root and cannot drop privileges; skipping\n");
            skip();
        }
        assert_int_equal(got, (ssize_t)sizeof(out));
    }
    close(listener);
    remove_dir(&d);

    assert_int_equal(out.result, -1);
    assert_int_equal(out.err.code, DVA_ERR_CONNECT);
    char want[256];
    snprintf(want, sizeof(want),
             "connect to unix:%s failed: %s (the collectd user needs access to the "
             "socket)",
             d.path, strerror(EACCES));
    assert_string_equal(out.err.message, want);
}

/* ---- state handling ---- */

static void test_io_before_connect_is_usage_error(void **state)
{
    (void)state;
    dva_error err;
    dva_transport *t = dva_tcp_transport_new("127.0.0.1", 9, &err);
    assert_non_null(t);
    char buf[4];
    dva_error_clear(&err);
    assert_int_equal(dva_transport_read(t, buf, sizeof(buf), &err), -1);
    assert_int_equal(err.code, DVA_ERR_USAGE);
    assert_non_null(strstr(err.message, "tcp:127.0.0.1:9"));
    dva_error_clear(&err);
    assert_int_equal(dva_transport_write(t, "x", 1, &err), -1);
    assert_int_equal(err.code, DVA_ERR_USAGE);
    dva_transport_destroy(t);
}

static void test_close_is_idempotent_and_reconnect_works(void **state)
{
    (void)state;
    unsigned port;
    int listener = listen_tcp4(&port);
    dva_error err;
    dva_transport *t = dva_tcp_transport_new("127.0.0.1", port, &err);
    assert_int_equal(drive_connect(t, &err, NULL), 1);
    int peer = accept_peer(listener);

    dva_transport_close(t);
    dva_transport_close(t);
    short ev = 1;
    assert_int_equal(dva_transport_poll_fd(t, POLLIN, &ev), -1);
    assert_int_equal(ev, 0);
    char buf[8];
    assert_int_equal(dva_transport_read(t, buf, sizeof(buf), &err), -1);
    assert_int_equal(err.code, DVA_ERR_USAGE);
    assert_int_equal(dva_transport_write(t, "x", 1, &err), -1);
    assert_int_equal(err.code, DVA_ERR_USAGE);
    /* The peer sees the close as EOF. */
    wait_fd(peer, POLLIN);
    assert_int_equal(recv(peer, buf, sizeof(buf), 0), 0);
    close(peer);
    char want[64];
    snprintf(want, sizeof(want), "tcp:127.0.0.1:%u", port);
    assert_string_equal(dva_transport_describe(t), want); /* still describable */

    /* The object stays valid: a new connect() makes a new connection. */
    exchange_both_ways(t, listener);
    dva_transport_close(t);
    dva_transport_destroy(t); /* after close: no double close */
    close(listener);
}

static void test_connect_in_progress_asks_for_pollout(void **state)
{
    (void)state;
    /* On loopback a connect may finish at once; whichever way it goes, the
     * transport must end up connected and poll_fd must follow the state. */
    unsigned port;
    int listener = listen_tcp4(&port);
    dva_error err;
    dva_transport *t = dva_tcp_transport_new("127.0.0.1", port, &err);
    int r = dva_transport_connect(t, &err);
    assert_true(r == 0 || r == 1);
    short ev = 0;
    int fd = dva_transport_poll_fd(t, POLLIN, &ev);
    assert_true(fd >= 0);
    assert_int_equal(ev, r == 0 ? POLLOUT : POLLIN);
    unsigned waits = 0;
    if (r == 0)
        assert_int_equal(drive_connect(t, &err, &waits), 1);
    assert_int_equal(dva_transport_poll_fd(t, POLLIN, &ev), fd); /* same socket */
    assert_int_equal(ev, POLLIN);
    int peer = accept_peer(listener);
    close(peer);
    dva_transport_destroy(t);
    close(listener);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_describe_strings),
        cmocka_unit_test(test_bad_arguments),
        cmocka_unit_test(test_unix_path_too_long),
        cmocka_unit_test(test_tcp4_connect_and_exchange),
        cmocka_unit_test(test_tcp6_connect_and_exchange),
        cmocka_unit_test(test_tcp_host_name_localhost),
        cmocka_unit_test(test_unix_connect_and_exchange),
        cmocka_unit_test(test_eof_after_peer_closes),
        cmocka_unit_test(test_unix_eof_after_peer_closes),
        cmocka_unit_test(test_read_after_reset_is_io_error),
        cmocka_unit_test(test_write_after_peer_closed_no_sigpipe),
        cmocka_unit_test(test_tcp_large_partial_writes),
        cmocka_unit_test(test_unix_large_partial_writes),
        cmocka_unit_test(test_tcp4_connection_refused),
        cmocka_unit_test(test_tcp6_connection_refused),
        cmocka_unit_test(test_unknown_host_name),
        cmocka_unit_test(test_unix_path_does_not_exist),
        cmocka_unit_test(test_unix_nobody_listening),
        cmocka_unit_test(test_unix_permission_denied),
        cmocka_unit_test(test_io_before_connect_is_usage_error),
        cmocka_unit_test(test_close_is_idempotent_and_reconnect_works),
        cmocka_unit_test(test_connect_in_progress_asks_for_pollout),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
