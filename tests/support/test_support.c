#include "test_support.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "doveadm/reply.h"
#include "doveadm/settings.h"

char *dva_test_read_data(const char *relpath, size_t *len)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", DVA_TEST_DATA_DIR, relpath);
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        fail_msg("cannot open test data %s", path);
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap + 1);
    assert_non_null(buf);
    size_t got;
    while ((got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            cap *= 2;
            buf = realloc(buf, cap + 1);
            assert_non_null(buf);
        }
    }
    fclose(f);
    buf[n] = '\0';
    if (len != NULL)
        *len = n;
    return buf;
}

/* Builds a reply holding n values (with explicit lengths, so a value may
 * hold NUL bytes) the way reply.c stores them. */
void dva_test_build_reply_len(dva_reply *r, dva_status status, size_t ncols,
                              const char *const *vals, const size_t *lens, size_t n)
{
    size_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += lens[i] + 1;
    dva_reply_init(r);
    r->status = status;
    r->ncols = ncols;
    r->data = malloc(total + 1);
    r->offsets = malloc((n + 1) * sizeof(size_t));
    assert_non_null(r->data);
    assert_non_null(r->offsets);
    r->data_cap = total + 1;
    r->offsets_cap = n + 1;
    size_t pos = 0;
    for (size_t i = 0; i < n; i++) {
        r->offsets[i] = pos;
        memcpy(r->data + pos, vals[i], lens[i]);
        pos += lens[i];
        r->data[pos++] = '\0';
    }
    r->offsets[n] = pos;
    r->nvalues = n;
    r->data_len = pos;
}

void dva_test_build_reply(dva_reply *r, dva_status status, size_t ncols,
                          const char *const *vals, size_t n)
{
    size_t *lens = malloc((n + 1) * sizeof(size_t));
    assert_non_null(lens);
    for (size_t i = 0; i < n; i++)
        lens[i] = strlen(vals[i]);
    dva_test_build_reply_len(r, status, ncols, vals, lens, n);
    free(lens);
}

/* Parses a whole capture file as one reply cut into ncols. */
void dva_test_parse_capture(const char *name, size_t ncols, dva_reply *out)
{
    char path[256];
    size_t len, consumed = 0;
    dva_parser parser;
    dva_error err;

    snprintf(path, sizeof(path), "captures/%s", name);
    char *buf = dva_test_read_data(path, &len);
    dva_reply_init(out);
    dva_parser_init(&parser, NULL);
    dva_parser_begin(&parser, out, ncols);
    dva_parse_result res = dva_parser_feed(&parser, buf, len, &consumed, &err);
    if (res != DVA_PARSE_DONE)
        fail_msg("%s: parser: %s", name, err.message);
    assert_int_equal(consumed, len);
    free(buf);
}

struct warn_buffer {
    char *buf;
    size_t size;
};

static void record_warning(void *ctx, const char *msg)
{
    struct warn_buffer *w = ctx;
    snprintf(w->buf, w->size, "%s", msg);
}

int dva_test_configure(const char *name, const char *const *pairs, dva_settings *s,
                       dva_error *err, char *warned, size_t warned_size)
{
    struct warn_buffer w = {warned, warned_size};
    dva_config *c = dva_config_new(name);
    assert_non_null(c);
    if (warned != NULL)
        warned[0] = '\0';
    int rc = 0;
    for (size_t i = 0; pairs[i] != NULL && rc == 0; i += 2)
        rc = dva_config_set(c, pairs[i], pairs[i + 1], err);
    if (rc == 0)
        rc = dva_config_finish(c, s, warned != NULL ? record_warning : NULL,
                               warned != NULL ? &w : NULL, err);
    dva_config_free(c);
    return rc;
}

void dva_test_expect_usage_error(const dva_error *err, const char *const *needles)
{
    assert_int_equal(err->code, DVA_ERR_USAGE);
    for (size_t i = 0; needles[i] != NULL; i++)
        if (strstr(err->message, needles[i]) == NULL)
            fail_msg("\"%s\" not in: %s", needles[i], err->message);
}

int dva_test_listen_loopback(unsigned *port, int backlog)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    struct sockaddr_in sin = {.sin_family = AF_INET,
                              .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(sin);
    assert_int_equal(bind(fd, (struct sockaddr *)&sin, len), 0);
    assert_int_equal(listen(fd, backlog), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
    *port = ntohs(sin.sin_port);
    return fd;
}
