/* SPDX-License-Identifier: MIT */
#include "fuzz_support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

uint8_t fuzz_take_byte(fuzz_input *in)
{
    if (in->n == 0)
        return 0;
    in->n--;
    return *in->p++;
}

const char *fuzz_take_user(fuzz_input *in, char buf[256])
{
    uint8_t len = fuzz_take_byte(in);
    if (len == 0xff)
        return NULL;
    size_t n = len < in->n ? len : in->n;
    memcpy(buf, in->p, n);
    buf[n] = '\0';
    in->p += n;
    in->n -= n;
    return buf;
}

size_t fuzz_take_ncols(fuzz_input *in, size_t command_ncols)
{
    uint8_t shape = fuzz_take_byte(in);
    return (shape & 0x80) != 0 ? (size_t)(shape & 0x0f) : command_ncols;
}

void fuzz_check(bool cond, const char *what)
{
    if (cond)
        return;
    fprintf(stderr, "fuzz invariant broken: %s\n", what);
    abort();
}

void fuzz_check_reply(const dva_reply *r)
{
    if (r->nvalues == 0)
        return;
    fuzz_check(r->offsets[0] == 0, "offsets[0] is 0");
    for (size_t i = 0; i < r->nvalues; i++) {
        size_t len = 0;
        fuzz_check(r->offsets[i] < r->offsets[i + 1], "offsets increase");
        fuzz_check(r->data[r->offsets[i + 1] - 1] == '\0', "values end with NUL");
        const char *v = dva_reply_value(r, i, &len);
        fuzz_check(v == r->data + r->offsets[i], "value i starts at offsets[i]");
        fuzz_check(len == r->offsets[i + 1] - r->offsets[i] - 1, "value length");
    }
    fuzz_check(r->offsets[r->nvalues] == r->data_len, "offsets[nvalues] is data_len");
    fuzz_check(r->data_len <= r->data_cap, "data fits its buffer");
    fuzz_check(dva_reply_value(r, r->nvalues, NULL) == NULL, "value past the end");
    size_t rows = dva_reply_rows(r);
    size_t width = r->ncols == 0 ? 1 : r->ncols;
    if (rows > 0) {
        size_t len;
        const char *c = dva_reply_cstr(r, rows - 1, width - 1);
        const char *v = dva_reply_cell(r, rows - 1, width - 1, &len);
        fuzz_check(v != NULL, "last cell exists");
        fuzz_check(c == NULL || (c == v && strlen(c) == len), "cstr agrees with cell");
    }
    fuzz_check(dva_reply_cell(r, rows, 0, NULL) == NULL, "row past the end");
    fuzz_check(dva_reply_cell(r, 0, width, NULL) == NULL, "column past the end");
}

bool fuzz_parse_reply(const fuzz_input *in, size_t ncols, dva_reply *out)
{
    dva_parser parser;
    dva_error err;
    size_t consumed = 0;

    dva_reply_init(out);
    dva_parser_init(&parser, NULL);
    dva_parser_begin(&parser, out, ncols);
    /* A non-NULL pointer also for an empty input. */
    const char *data = in->n > 0 ? (const char *)in->p : "";
    dva_parse_result res = dva_parser_feed(&parser, data, in->n, &consumed, &err);
    if (res != DVA_PARSE_DONE)
        return false;
    fuzz_check(consumed <= in->n, "consumed within the input");
    fuzz_check_reply(out);
    if (out->status == DVA_STATUS_OK && ncols > 0)
        fuzz_check(out->nvalues % ncols == 0, "a successful reply has whole rows");
    return true;
}

bool fuzz_utf8_valid(const char *str, size_t len)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
    while (i < len) {
        unsigned char c = s[i];
        size_t n;
        unsigned char lo = 0x80, hi = 0xbf;
        if (c < 0x80) {
            i++;
            continue;
        } else if (c >= 0xc2 && c <= 0xdf) {
            n = 2;
        } else if (c >= 0xe0 && c <= 0xef) {
            n = 3;
            if (c == 0xe0)
                lo = 0xa0;
            if (c == 0xed)
                hi = 0x9f;
        } else if (c >= 0xf0 && c <= 0xf4) {
            n = 4;
            if (c == 0xf0)
                lo = 0x90;
            if (c == 0xf4)
                hi = 0x8f;
        } else {
            return false;
        }
        if (len - i < n || s[i + 1] < lo || s[i + 1] > hi)
            return false;
        for (size_t k = 2; k < n; k++)
            if (s[i + k] < 0x80 || s[i + k] > 0xbf)
                return false;
        i += n;
    }
    return true;
}
