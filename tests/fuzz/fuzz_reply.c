/* SPDX-License-Identifier: MIT */
/* The reply parser (reply.h) fed any split of a byte stream.
 *
 * Input: ncols byte, limits byte, split-count byte K, K chunk-size bytes,
 * then the stream (one or more pipelined replies). The stream is parsed
 * reply after reply, once in a single feed and once in chunks of the
 * fuzz-chosen sizes (1 byte at a time when K is 0). Whatever the split, the
 * replies, the point where each ends, the error (code) and the final
 * discardable state must be the same. */
#include <stdlib.h>
#include <string.h>

#include "fuzz_support.h"

#define MAX_REPLIES 64
#define MAX_SPLITS 16

typedef struct {
    dva_parse_result result;
    dva_errcode code; /* on DVA_PARSE_ERROR */
    size_t end;       /* stream offset just past the reply (DONE) */
    dva_reply reply;  /* on DONE */
    bool discardable; /* at the end of the stream (MORE) */
} outcome;

typedef struct {
    outcome items[MAX_REPLIES];
    size_t n;
} outcomes;

static void outcomes_free(outcomes *o)
{
    for (size_t i = 0; i < o->n; i++)
        dva_reply_free(&o->items[i].reply);
}

/* Parses stream[0..len) reply after reply, feeding at most chunk[i % nchunk]
 * bytes per call (nchunk 0: everything at once). */
static void parse_stream(const uint8_t *stream, size_t len, size_t ncols,
                         const dva_limits *limits, const size_t *chunk, size_t nchunk,
                         outcomes *out)
{
    dva_parser parser;
    size_t pos = 0, k = 0;

    out->n = 0;
    dva_parser_init(&parser, limits);
    while (out->n < MAX_REPLIES) {
        outcome *o = &out->items[out->n++];
        memset(o, 0, sizeof(*o));
        dva_reply_init(&o->reply);
        dva_parser_begin(&parser, &o->reply, ncols);
        for (;;) {
            size_t n = len - pos;
            if (nchunk > 0 && n > chunk[k % nchunk])
                n = chunk[k % nchunk];
            k++;
            size_t consumed = 0;
            dva_error err = {0};
            /* n may be 0 at the end of the stream: feed() accepts it */
            o->result = dva_parser_feed(&parser, (const char *)stream + pos, n,
                                        &consumed, &err);
            if (o->result == DVA_PARSE_ERROR) {
                fuzz_check(err.code != DVA_OK && err.message[0] != '\0',
                           "an error has a code and a message");
                o->code = err.code;
                return;
            }
            fuzz_check(consumed <= n, "consumed within the feed");
            fuzz_check(o->result == DVA_PARSE_DONE || consumed == n,
                       "MORE consumes everything");
            pos += consumed;
            if (o->result == DVA_PARSE_DONE) {
                o->end = pos;
                fuzz_check_reply(&o->reply);
                if (o->reply.status == DVA_STATUS_OK && ncols > 0)
                    fuzz_check(o->reply.nvalues % ncols == 0, "whole rows");
                fuzz_check(strlen(o->reply.status_text) < DVA_STATUS_TEXT_MAX,
                           "status_text is terminated");
                break;
            }
            if (pos == len) {
                o->discardable = dva_parser_discardable(&parser);
                return;
            }
        }
        if (pos == len)
            return;
    }
}

static void compare(const outcome *a, const outcome *b)
{
    fuzz_check(a->result == b->result, "same result whatever the split");
    if (a->result == DVA_PARSE_ERROR) {
        fuzz_check(a->code == b->code, "same error code whatever the split");
        return;
    }
    if (a->result == DVA_PARSE_MORE) {
        fuzz_check(a->discardable == b->discardable, "same discardable state");
        return;
    }
    const dva_reply *x = &a->reply, *y = &b->reply;
    fuzz_check(a->end == b->end, "the reply ends at the same byte");
    fuzz_check(x->status == y->status && x->exit_code == y->exit_code, "same status");
    fuzz_check(strcmp(x->status_text, y->status_text) == 0, "same status text");
    fuzz_check(x->nvalues == y->nvalues && x->data_len == y->data_len,
               "same value count and size");
    fuzz_check(x->nvalues == 0 || (memcmp(x->data, y->data, x->data_len) == 0 &&
                                   memcmp(x->offsets, y->offsets,
                                          (x->nvalues + 1) * sizeof(size_t)) == 0),
               "same values");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_input in = {data, size};
    size_t ncols = fuzz_take_byte(&in) % 11;
    uint8_t lim = fuzz_take_byte(&in);
    /* Mostly the defaults; sometimes tiny limits to reach the limit paths. */
    dva_limits limits = {0};
    if ((lim & 0x80) != 0) {
        limits.max_value_len = (size_t)(lim & 0x0f) + 1;
        limits.max_values = (size_t)((lim >> 4) & 0x07) + 1;
        limits.max_reply_len = (size_t)(lim & 0x1f) + 1;
    }
    size_t nchunk = fuzz_take_byte(&in) % MAX_SPLITS;
    size_t chunk[MAX_SPLITS];
    for (size_t i = 0; i < nchunk; i++)
        chunk[i] = (size_t)fuzz_take_byte(&in) + 1;
    if (nchunk == 0) {
        chunk[0] = 1;
        nchunk = 1;
    }

    static outcomes whole, split;
    parse_stream(in.p, in.n, ncols, &limits, NULL, 0, &whole);
    parse_stream(in.p, in.n, ncols, &limits, chunk, nchunk, &split);
    fuzz_check(whole.n == split.n, "same number of replies whatever the split");
    for (size_t i = 0; i < whole.n; i++)
        compare(&whole.items[i], &split.items[i]);
    outcomes_free(&whole);
    outcomes_free(&split);
    return 0;
}
