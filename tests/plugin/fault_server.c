/* SPDX-License-Identifier: MIT */
/* The scriptable fake doveadm server: see fault_server.h.
 *
 * Process layout: the test process owns the listening socket; an acceptor
 * process (forked per script) accepts and runs each connection's script in
 * a thread of its own with blocking I/O (threads, not a process per
 * connection: a fork of a sanitized process costs ~50 ms). Code that runs
 * there never calls cmocka (a failed assertion would unwind into the
 * test's runner): it just ends the connection. */
#include "fault_server.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "plugin_test_util.h"

/* A connection never waits longer than this for its client. */
#define CONN_MAX_SECONDS 30
#define LINE_MAX_LEN 65536

struct fs_server {
    bool tcp;
    int listen_fd;
    char dir[64];
    char path[108];
    unsigned port;
    pid_t acceptor;
    fs_script script;
};

/* ---- one connection (in its own process) ---- */

typedef struct {
    int fd;
    const fs_script *script;
    char buf[LINE_MAX_LEN];
    size_t len;
} conn;

/* Ends the connection (and its thread): "the server process ended". */
__attribute__((noreturn)) static void conn_exit(conn *c)
{
    close(c->fd);
    free(c);
    pthread_exit(NULL);
}

static void send_bytes(conn *c, const char *data, size_t len)
{
    size_t step = c->script->drip_us > 0 ? 1 : len;
    while (len > 0) {
        ssize_t n = send(c->fd, data, len < step ? len : step, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            conn_exit(c); /* the client went away */
        data += n;
        len -= (size_t)n;
        if (c->script->drip_us > 0 && len > 0)
            usleep(c->script->drip_us);
    }
}

/* The next line without its LF (NUL-terminated in c->buf); the process
 * ends at EOF. Call consume_line() when done with it. */
static char *read_line(conn *c)
{
    for (;;) {
        char *nl = memchr(c->buf, '\n', c->len);
        if (nl != NULL) {
            *nl = '\0';
            return c->buf;
        }
        if (c->len == sizeof(c->buf))
            conn_exit(c);
        ssize_t n = read(c->fd, c->buf + c->len, sizeof(c->buf) - c->len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            conn_exit(c);
        c->len += (size_t)n;
    }
}

static void consume_line(conn *c)
{
    char *end = memchr(c->buf, '\0', c->len);
    size_t used = (size_t)(end - c->buf) + 1;
    memmove(c->buf, c->buf + used, c->len - used);
    c->len -= used;
}

static void hang(conn *c)
{
    char sink[4096];
    for (;;) {
        ssize_t n = read(c->fd, sink, sizeof(sink));
        if (n == 0 || (n < 0 && errno != EINTR))
            conn_exit(c);
    }
}

static void garbage(conn *c, size_t len)
{
    uint32_t x = 2463534242u; /* xorshift32: the same bytes every run */
    char chunk[512];
    while (len > 0) {
        size_t n = len < sizeof(chunk) ? len : sizeof(chunk);
        for (size_t i = 0; i < n; i++) {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            chunk[i] = (char)(x & 0xff);
        }
        send_bytes(c, chunk, n);
        len -= n;
    }
    hang(c);
}

static void endless(conn *c)
{
    char chunk[16384];
    memset(chunk, 'v', sizeof(chunk));
    send_bytes(c, "metric\t", 7);
    for (;;)
        send_bytes(c, chunk, sizeof(chunk)); /* ends when the client closes */
}

/* The scripted fault; returns only for FS_CONTINUE. */
static void fault(conn *c)
{
    const fs_script *sc = c->script;
    if (sc->nbytes > 0)
        send_bytes(c, sc->bytes, sc->nbytes);
    switch (sc->action) {
    case FS_CONTINUE:
        return;
    case FS_HANG:
        hang(c);
        break;
    case FS_CLOSE:
        conn_exit(c);
        break;
    case FS_GARBAGE:
        garbage(c, sc->garbage_len);
        break;
    case FS_ENDLESS:
        endless(c);
        break;
    }
}

/* The command field of a request line (after flags and user), or "". */
static const char *command_of(const char *line)
{
    const char *p = strchr(line, '\t');
    p = p == NULL ? NULL : strchr(p + 1, '\t');
    return p == NULL ? "" : p + 1;
}

static void handshake(conn *c)
{
    const fs_script *sc = c->script;
    if (strncmp(read_line(c), "VERSION\t", 8) != 0)
        conn_exit(c);
    consume_line(c);
    if (sc->when == FS_AT_VERSION)
        fault(c);
    if (sc->password != NULL) {
        send_bytes(c, "-\n", 2);
        char expected[512];
        tu_plain_line(expected, sizeof(expected), sc->password);
        bool ok = strcmp(read_line(c), expected) == 0;
        consume_line(c);
        if (!ok) {
            send_bytes(c, "-\n", 2);
            conn_exit(c);
        }
    }
    send_bytes(c, "+\n", 2);
    if (sc->when == FS_AT_AUTH)
        fault(c);
}

static void *serve_conn(void *arg)
{
    conn *c = arg;
    const fs_script *script = c->script;
    if (script->when == FS_AT_ACCEPT)
        fault(c);
    handshake(c);
    unsigned matched = 0;
    for (;;) {
        char *line = read_line(c);
        size_t len;
        char *reply = tu_good_reply(line, &len);
        bool strikes =
            script->when == FS_AT_REPLY &&
            (script->command == NULL || strncmp(command_of(line), script->command,
                                                strlen(script->command)) == 0) &&
            matched++ == script->nth;
        consume_line(c);
        if (reply == NULL)
            conn_exit(c); /* fewer than 3 fields: Dovecot closes */
        if (strikes) {
            send_bytes(c, reply, len * script->cut_percent / 100);
            free(reply);
            fault(c);
            continue;
        }
        send_bytes(c, reply, len);
        free(reply);
    }
    return NULL;
}

/* ---- the acceptor (a process per script) ---- */

static void accept_loop(fs_server *s)
{
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    for (;;) {
        int fd = accept(s->listen_fd, NULL, NULL);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            _exit(1);
        }
        if (s->tcp) {
            /* Like Dovecot: no Nagle delay between the replies of a
             * pipeline (else each waits for the client's delayed ACK). */
            int one = 1;
            setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        }
        struct timeval bound = {.tv_sec = CONN_MAX_SECONDS};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &bound, sizeof(bound));
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &bound, sizeof(bound));
        conn *c = malloc(sizeof(*c));
        pthread_t thread;
        if (c == NULL) {
            close(fd);
            continue;
        }
        *c = (conn){.fd = fd, .script = &s->script};
        if (pthread_create(&thread, &attr, serve_conn, c) != 0) {
            close(fd);
            free(c);
        }
    }
}

static void stop_acceptor(fs_server *s)
{
    if (s->acceptor <= 0)
        return;
    kill(s->acceptor, SIGKILL);
    while (waitpid(s->acceptor, NULL, 0) < 0 && errno == EINTR)
        ;
    s->acceptor = 0;
}

/* Returns once the acceptor runs: a read right after a script change
 * must not spend its Timeout waiting for the new process to be scheduled. */
static void start_acceptor(fs_server *s)
{
    pid_t parent = getpid();
    int ready[2];
    assert_int_equal(pipe(ready), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        /* Dies with the test, even if the test crashes. */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(0);
        close(ready[0]);
        if (write(ready[1], "r", 1) != 1)
            _exit(1);
        close(ready[1]);
        accept_loop(s);
    }
    close(ready[1]);
    char byte;
    ssize_t n;
    while ((n = read(ready[0], &byte, 1)) < 0 && errno == EINTR)
        ;
    close(ready[0]);
    assert_int_equal(n, 1);
    s->acceptor = pid;
}

/* ---- the listening socket (owned by the test process) ---- */

static void open_listener(fs_server *s)
{
    if (s->tcp) {
        s->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        assert_true(s->listen_fd >= 0);
        int one = 1;
        setsockopt(s->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(s->port)};
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        assert_int_equal(bind(s->listen_fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
        socklen_t sl = sizeof(sa);
        assert_int_equal(getsockname(s->listen_fd, (struct sockaddr *)&sa, &sl), 0);
        s->port = ntohs(sa.sin_port);
    } else {
        s->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        assert_true(s->listen_fd >= 0);
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", s->path);
        unlink(s->path);
        assert_int_equal(bind(s->listen_fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    }
    assert_int_equal(listen(s->listen_fd, 64), 0);
}

fs_server *fs_server_start(bool tcp, const fs_script *script)
{
    fs_server *s = calloc(1, sizeof(*s));
    assert_non_null(s);
    s->tcp = tcp;
    s->listen_fd = -1;
    if (!tcp) {
        snprintf(s->dir, sizeof(s->dir), "/tmp/dvp-fault-XXXXXX");
        assert_non_null(mkdtemp(s->dir));
        snprintf(s->path, sizeof(s->path), "%s/doveadm-server", s->dir);
    }
    open_listener(s);
    fs_server_set_script(s, script);
    return s;
}

void fs_server_set_script(fs_server *s, const fs_script *script)
{
    stop_acceptor(s);
    if (script == NULL)
        return;
    s->script = *script;
    if (s->listen_fd >= 0)
        start_acceptor(s);
}

void fs_server_unlisten(fs_server *s)
{
    stop_acceptor(s);
    if (s->listen_fd >= 0)
        close(s->listen_fd);
    s->listen_fd = -1;
    /* A UNIX socket file stays: connecting to it is refused. */
}

void fs_server_listen(fs_server *s)
{
    if (s->listen_fd >= 0)
        return;
    open_listener(s);
    start_acceptor(s);
}

const char *fs_server_path(const fs_server *s)
{
    return s->path;
}

unsigned fs_server_port(const fs_server *s)
{
    return s->port;
}

void fs_server_stop(fs_server *s)
{
    fs_server_unlisten(s);
    if (!s->tcp) {
        unlink(s->path);
        rmdir(s->dir);
    }
    free(s);
}
