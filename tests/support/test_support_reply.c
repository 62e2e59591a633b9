/* SPDX-License-Identifier: MIT */
#include "test_support_reply.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>
#include <string.h>

#include "test_support.h"

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
