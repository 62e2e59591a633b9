/* SPDX-License-Identifier: MIT */
/* Helpers of the plugin tests: see plugin_test_util.h. */
#include "plugin_test_util.h"

#include "doveadm/collector.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "collectd_stubs.h"
#include "doveadm/mailbox.h"
#include "doveadm/quota.h"
#include "doveadm/reply.h"
#include "doveadm/stats.h"
#include "doveadm/who.h"
#include "test_support.h"
#include "test_support_reply.h"

#define CI_MAX_CHILDREN 64
#define CI_MAX_VALUES 16

/* ---- oconfig trees ---- */

static void ci_init(oconfig_item_t *item, const char *key, oconfig_item_t *parent)
{
    memset(item, 0, sizeof(*item));
    item->key = strdup(key);
    item->parent = parent;
    item->values = calloc(CI_MAX_VALUES, sizeof(oconfig_value_t));
    assert_non_null(item->key);
    assert_non_null(item->values);
}

oconfig_item_t *tu_ci_new(const char *key)
{
    oconfig_item_t *item = malloc(sizeof(*item));
    assert_non_null(item);
    ci_init(item, key, NULL);
    return item;
}

oconfig_item_t *tu_ci_child(oconfig_item_t *parent, const char *key)
{
    if (parent->children == NULL) {
        parent->children = calloc(CI_MAX_CHILDREN, sizeof(oconfig_item_t));
        assert_non_null(parent->children);
    }
    assert_true(parent->children_num < CI_MAX_CHILDREN);
    oconfig_item_t *child = &parent->children[parent->children_num++];
    ci_init(child, key, parent);
    return child;
}

static oconfig_value_t *next_value(oconfig_item_t *item)
{
    assert_true(item->values_num < CI_MAX_VALUES);
    return &item->values[item->values_num++];
}

oconfig_item_t *tu_ci_str(oconfig_item_t *item, const char *value)
{
    oconfig_value_t *v = next_value(item);
    v->type = OCONFIG_TYPE_STRING;
    v->value.string = strdup(value);
    return item;
}

oconfig_item_t *tu_ci_num(oconfig_item_t *item, double value)
{
    oconfig_value_t *v = next_value(item);
    v->type = OCONFIG_TYPE_NUMBER;
    v->value.number = value;
    return item;
}

oconfig_item_t *tu_ci_bool(oconfig_item_t *item, bool value)
{
    oconfig_value_t *v = next_value(item);
    v->type = OCONFIG_TYPE_BOOLEAN;
    v->value.boolean = value;
    return item;
}

oconfig_item_t *tu_ci_opt(oconfig_item_t *parent, const char *key, const char *value)
{
    return tu_ci_str(tu_ci_child(parent, key), value);
}

static void ci_free_inner(oconfig_item_t *item)
{
    for (int i = 0; i < item->values_num; i++)
        if (item->values[i].type == OCONFIG_TYPE_STRING)
            free(item->values[i].value.string);
    free(item->values);
    for (int i = 0; i < item->children_num; i++)
        ci_free_inner(&item->children[i]);
    free(item->children);
    free(item->key);
}

void tu_ci_free(oconfig_item_t *root)
{
    ci_free_inner(root);
    free(root);
}

/* ---- results ---- */

void tu_parse_capture(const char *name, size_t ncols, dva_reply *out)
{
    dva_test_parse_capture(name, ncols, out);
}

void tu_result_init(dva_scrape_result *r)
{
    memset(r, 0, sizeof(*r));
    r->up = true;
    r->duration_ms = 42;
}

static void ok_step(dva_scrape_step *step)
{
    step->attempted = true;
    dva_error_clear(&step->error);
}

static void ok_user_step(dva_user_step *step)
{
    step->attempted = true;
    step->error.code = DVA_OK;
}

void tu_result_stats(dva_scrape_result *r, const char *capture)
{
    dva_error err;
    tu_parse_capture(capture, DVA_STATS_NCOLS, &r->stats_reply);
    ok_step(&r->stats_step);
    if (dva_stats_decode(&r->stats_reply, &r->stats, &err) < 0)
        fail_msg("%s: %s", capture, err.message);
}

void tu_result_who(dva_scrape_result *r, const char *capture)
{
    dva_error err;
    tu_parse_capture(capture, DVA_WHO_NCOLS, &r->who_reply);
    ok_step(&r->who_step);
    if (dva_who_decode(&r->who_reply, &r->who, &err) < 0 ||
        dva_who_summarize(&r->who, &r->who_summary, &err) < 0)
        fail_msg("%s: %s", capture, err.message);
}

dva_scrape_user *tu_result_user(dva_scrape_result *r, const char *name)
{
    dva_scrape_user *users = realloc(r->users, (r->nusers + 1) * sizeof(*users));
    assert_non_null(users);
    r->users = users;
    dva_scrape_user *u = &users[r->nusers++];
    memset(u, 0, sizeof(*u));
    u->name = dva_scrape_result_strdup(r, name); /* freed with the result */
    assert_non_null(u->name);
    return u;
}

void tu_user_quota(dva_scrape_user *u, const char *capture)
{
    dva_error err;
    ok_user_step(&u->quota_step);
    if (capture == NULL)
        return;
    if (u->quota_reply == NULL) {
        u->quota_reply = malloc(sizeof(*u->quota_reply));
        assert_non_null(u->quota_reply);
        dva_reply_init(u->quota_reply);
    }
    tu_parse_capture(capture, DVA_QUOTA_NCOLS, u->quota_reply);
    if (dva_quota_decode(u->quota_reply, u->name, &u->quota, &err) < 0)
        fail_msg("%s: %s", capture, err.message);
}

void tu_fail_step(dva_scrape_step *step, dva_errcode code, const char *message)
{
    step->attempted = true;
    step->error.code = code;
    snprintf(step->error.message, sizeof(step->error.message), "%s", message);
}

void tu_fail_user_step(dva_user_step *step, dva_errcode code, const char *message)
{
    dva_error err = {.code = code};
    snprintf(err.message, sizeof(err.message), "%s", message);
    dva_user_step_fail(step, &err);
}

void tu_user_mailbox(dva_scrape_user *u, const char *capture)
{
    dva_error err;
    size_t m = u->nmailbox_masks++;
    u->mailbox_replies = realloc(u->mailbox_replies, (m + 1) * sizeof(dva_reply));
    u->mailboxes = realloc(u->mailboxes, (m + 1) * sizeof(dva_mailbox_status));
    assert_non_null(u->mailbox_replies);
    assert_non_null(u->mailboxes);
    memset(&u->mailboxes[m], 0, sizeof(u->mailboxes[m]));
    ok_user_step(&u->mailbox_step);
    tu_parse_capture(capture, 2 + 3, &u->mailbox_replies[m]);
    if (dva_mailbox_decode(&u->mailbox_replies[m], 3, u->name, &u->mailboxes[m], &err) <
        0)
        fail_msg("%s: %s", capture, err.message);
}

void tu_user_quota_row(dva_scrape_user *u, const char *root, dva_quota_type type,
                       uint64_t value, uint64_t limit, uint64_t percent)
{
    ok_user_step(&u->quota_step);
    dva_quota_free(&u->quota);
    u->quota.rows = calloc(1, sizeof(dva_quota_row));
    assert_non_null(u->quota.rows);
    u->quota.nrows = 1;
    dva_quota_row *row = &u->quota.rows[0];
    row->user = u->name;
    row->root = root;
    row->type = type;
    row->type_name = type == DVA_QUOTA_STORAGE ? "STORAGE" : "MESSAGE";
    row->value = value;
    row->limit = limit;
    row->percent = percent;
}

/* ---- fake doveadm server ---- */

struct tu_server {
    int listen_fd;
    int stop_pipe[2];
    pthread_t thread;
    char path[108];
    unsigned port;
    bool tcp;
    char *password;
    unsigned connections;
    pthread_mutex_t lock;
    /* Connection threads: joined (and their sockets closed) on stop. */
    pthread_t conn_threads[256];
    int conn_fds[256];
    size_t nconns;
};

static bool write_all(int fd, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, data, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        data += n;
        len -= (size_t)n;
    }
    return true;
}

static char *capture_bytes(const char *name, size_t *len)
{
    char path[128];
    snprintf(path, sizeof(path), "captures/%s", name);
    return dva_test_read_data(path, len);
}

/* The captured reply to a named (-A) request in the plain form of a request
 * without -A: the first of every ncols values (the username) dropped, as
 * a real 2.3.19.1 and 2.4.1 answer (quota_alice_noA.bin is such a reply).
 * Values never hold a raw TAB or LF (they are escaped). */
static char *drop_user_column(char *reply, size_t *len, size_t ncols)
{
    /* The values end at the LF before the status line ("\n+\n"). */
    size_t end = *len > 0 ? *len - 1 : 0;
    while (end > 0 && reply[end - 1] != '\n')
        end--;
    if (end > 0)
        end--;
    size_t out = 0, value = 0;
    for (size_t i = 0, start = 0; i < end; i++) {
        if (reply[i] != '\t')
            continue;
        if (value++ % ncols != 0) {
            memmove(reply + out, reply + start, i + 1 - start);
            out += i + 1 - start;
        }
        start = i + 1;
    }
    memmove(reply + out, reply + end, *len - end);
    *len = out + *len - end;
    return reply;
}

char *tu_good_reply(const char *line, size_t *len)
{
    const char *user = strchr(line, '\t');
    const char *cmd = user == NULL ? NULL : strchr(user + 1, '\t');
    if (cmd == NULL) {
        *len = 0;
        return NULL;
    }
    user++;
    size_t ulen = (size_t)(cmd - user);
    cmd++;
    if (strncmp(cmd, "stats dump", 10) == 0)
        return capture_bytes("stats_dump.bin", len);
    if (strcmp(cmd, "who") == 0)
        return capture_bytes("who.bin", len);
    /* Server health (CollectServices is on by default): a real 2.3's. */
    if (strcmp(cmd, "service status") == 0)
        return capture_bytes("health/2.3/service_status.bin", len);
    if (strcmp(cmd, "user\t*") == 0)
        return capture_bytes("user_list.bin", len);
    /* A real 2.3's answer to the generation probe of DovecotVersion auto. */
    if (strcmp(cmd, "oldstats dump\tglobal") == 0)
        return capture_bytes("oldstats_global.bin", len);
    char local[64] = "";
    const char *at = memchr(user, '@', ulen);
    if (at != NULL && (size_t)(at - user) < sizeof(local))
        snprintf(local, sizeof(local), "%.*s", (int)(at - user), user);
    if (strncmp(cmd, "quota get", 9) == 0 &&
        (strcmp(local, "alice") == 0 || strcmp(local, "bob") == 0 ||
         strcmp(local, "carol") == 0 || strcmp(local, "dave") == 0)) {
        char name[64];
        snprintf(name, sizeof(name), "quota_%s.bin", local);
        char *reply = capture_bytes(name, len);
        return strstr(cmd, "\t-A") != NULL ? reply : drop_user_column(reply, len, 6);
    }
    if (strncmp(cmd, "mailbox status", 14) == 0 && strcmp(local, "alice") == 0) {
        char *reply = capture_bytes("mailbox_status_alice.bin", len);
        return strstr(cmd, "\t-A") != NULL ? reply : drop_user_column(reply, len, 5);
    }
    char *fail = strdup("\n-\n");
    assert_non_null(fail);
    *len = 3;
    return fail;
}

/* Answers one request line: flags TAB user TAB command TAB args... */
static bool answer(int fd, const char *line)
{
    size_t len;
    char *reply = tu_good_reply(line, &len);
    if (reply == NULL)
        return false;
    bool ok = write_all(fd, reply, len);
    free(reply);
    return ok;
}

typedef struct {
    tu_server *server;
    int fd;
} conn_arg;

void tu_plain_line(char *out, size_t size, const char *password)
{
    static const char b64[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    unsigned char in[256];
    size_t n = 0;
    in[n++] = '\0';
    memcpy(in + n, "doveadm", 7);
    n += 7;
    in[n++] = '\0';
    size_t plen = strlen(password);
    assert_true(n + plen < sizeof(in));
    memcpy(in + n, password, plen);
    n += plen;
    size_t pos = (size_t)snprintf(out, size, "PLAIN\t");
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)in[i] << 16;
        if (i + 1 < n)
            v |= (unsigned)in[i + 1] << 8;
        if (i + 2 < n)
            v |= in[i + 2];
        assert_true(pos + 5 < size);
        out[pos++] = b64[(v >> 18) & 63];
        out[pos++] = b64[(v >> 12) & 63];
        out[pos++] = i + 1 < n ? b64[(v >> 6) & 63] : '=';
        out[pos++] = i + 2 < n ? b64[v & 63] : '=';
    }
    out[pos] = '\0';
}

static void *serve_conn(void *arg)
{
    conn_arg *ca = arg;
    tu_server *s = ca->server;
    int fd = ca->fd;
    free(ca);
    char buf[8192];
    size_t len = 0;
    bool handshake = true, authenticating = false;
    for (;;) {
        ssize_t n = read(fd, buf + len, sizeof(buf) - 1 - len);
        if (n <= 0)
            break;
        len += (size_t)n;
        buf[len] = '\0';
        char *nl;
        while ((nl = memchr(buf, '\n', len)) != NULL) {
            *nl = '\0';
            bool ok = true;
            if (handshake) {
                handshake = false;
                if (strncmp(buf, "VERSION\t", 8) != 0)
                    ok = false;
                else if (s->password != NULL) {
                    authenticating = true;
                    ok = write_all(fd, "-\n", 2);
                } else {
                    ok = write_all(fd, "+\n", 2);
                }
            } else if (authenticating) {
                authenticating = false;
                /* PLAIN TAB base64(\0doveadm\0password) */
                char expected[512];
                tu_plain_line(expected, sizeof(expected), s->password);
                ok = write_all(fd, strcmp(buf, expected) == 0 ? "+\n" : "-\n", 2);
            } else {
                ok = answer(fd, buf);
            }
            size_t used = (size_t)(nl - buf) + 1;
            memmove(buf, nl + 1, len - used);
            len -= used;
            if (!ok)
                goto out;
        }
        if (len == sizeof(buf) - 1)
            break;
    }
out:
    shutdown(fd, SHUT_RDWR); /* closed by tu_server_stop() */
    return NULL;
}

static void *serve(void *arg)
{
    tu_server *s = arg;
    for (;;) {
        struct pollfd fds[2] = {{.fd = s->listen_fd, .events = POLLIN},
                                {.fd = s->stop_pipe[0], .events = POLLIN}};
        if (poll(fds, 2, -1) < 0 && errno != EINTR)
            break;
        if (fds[1].revents != 0)
            break;
        if (fds[0].revents == 0)
            continue;
        int fd = accept(s->listen_fd, NULL, NULL);
        if (fd < 0)
            continue;
        conn_arg *ca = malloc(sizeof(*ca));
        if (ca == NULL || s->nconns == sizeof(s->conn_fds) / sizeof(s->conn_fds[0])) {
            close(fd);
            free(ca);
            continue;
        }
        ca->server = s;
        ca->fd = fd;
        /* Counted before the connection is served: a client that got its
         * answer must find its connection counted. */
        pthread_mutex_lock(&s->lock);
        s->connections++;
        pthread_mutex_unlock(&s->lock);
        if (pthread_create(&s->conn_threads[s->nconns], NULL, serve_conn, ca) != 0) {
            close(fd);
            free(ca);
            continue;
        }
        s->conn_fds[s->nconns++] = fd;
    }
    for (size_t i = 0; i < s->nconns; i++) {
        shutdown(s->conn_fds[i], SHUT_RDWR);
        pthread_join(s->conn_threads[i], NULL);
        close(s->conn_fds[i]);
    }
    return NULL;
}

tu_server *tu_server_start(bool tcp, const char *password)
{
    tu_server *s = calloc(1, sizeof(*s));
    assert_non_null(s);
    s->tcp = tcp;
    s->password = password != NULL ? strdup(password) : NULL;
    pthread_mutex_init(&s->lock, NULL);
    assert_int_equal(pipe(s->stop_pipe), 0);
    if (tcp) {
        s->listen_fd = socket(AF_INET, SOCK_STREAM, 0);
        assert_true(s->listen_fd >= 0);
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = 0};
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        assert_int_equal(bind(s->listen_fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
        socklen_t sl = sizeof(sa);
        assert_int_equal(getsockname(s->listen_fd, (struct sockaddr *)&sa, &sl), 0);
        s->port = ntohs(sa.sin_port);
    } else {
        char dir[] = "/tmp/dvp-test-XXXXXX";
        assert_non_null(mkdtemp(dir));
        snprintf(s->path, sizeof(s->path), "%s/doveadm-server", dir);
        s->listen_fd = socket(AF_UNIX, SOCK_STREAM, 0);
        assert_true(s->listen_fd >= 0);
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", s->path);
        assert_int_equal(bind(s->listen_fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    }
    assert_int_equal(listen(s->listen_fd, 16), 0);
    assert_int_equal(pthread_create(&s->thread, NULL, serve, s), 0);
    return s;
}

const char *tu_server_path(const tu_server *s)
{
    return s->path;
}

unsigned tu_server_port(const tu_server *s)
{
    return s->port;
}

unsigned tu_server_connections(const tu_server *s)
{
    pthread_mutex_t *lock = (pthread_mutex_t *)&s->lock;
    pthread_mutex_lock(lock);
    unsigned n = s->connections;
    pthread_mutex_unlock(lock);
    return n;
}

void tu_server_stop(tu_server *s)
{
    if (write(s->stop_pipe[1], "x", 1) != 1)
        fail_msg("cannot stop the fake server");
    pthread_join(s->thread, NULL);
    close(s->listen_fd);
    close(s->stop_pipe[0]);
    close(s->stop_pipe[1]);
    if (!s->tcp) {
        unlink(s->path);
        char *slash = strrchr(s->path, '/');
        *slash = '\0';
        rmdir(s->path);
    }
    pthread_mutex_destroy(&s->lock);
    free(s->password);
    free(s);
}

int tu_submit_setup(void **state, const char *host, cdtime_t interval)
{
    stub_reset();
    tu_submit_fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    dvp_logger_init(&f->log, "local", NULL);
    dvp_submit_init(&f->submit, "local", host, interval, &f->log);
    tu_result_init(&f->result);
    *state = f;
    return 0;
}

int tu_submit_teardown(void **state)
{
    tu_submit_fixture *f = *state;
    dva_scrape_result_free(&f->result);
    dvp_submit_free(&f->submit);
    dvp_logger_free(&f->log);
    free(f);
    stub_reset();
    return 0;
}
