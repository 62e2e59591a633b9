/* SPDX-License-Identifier: MIT */
/* Escaping (escape.h) and parsing (reply.h) are inverses: any values,
 * escaped, each followed by TAB, then "\n+\n", parse back to exactly those
 * values; and unescaping an escaped value gives it back.
 * Input: separator byte, then the values' bytes cut at the separator. */
#include <stdlib.h>
#include <string.h>

#include "doveadm/escape.h"
#include "fuzz_support.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_input in = {data, size};
    uint8_t sep = fuzz_take_byte(&in);
    const char *raw = (const char *)in.p;

    /* Each value grows at most twice when escaped, plus its TAB. */
    char *wire = malloc(2 * in.n + in.n + 8);
    char *copy = malloc(2 * in.n + 1);
    fuzz_check(wire != NULL && copy != NULL, "allocation");
    size_t wlen = 0, nvalues = 0, start = 0;
    for (size_t i = 0; i <= in.n; i++) {
        if (in.n == 0)
            break;
        if (i < in.n && (uint8_t)raw[i] != sep)
            continue;
        size_t len = i - start;
        size_t elen = dva_escaped_len(raw + start, len);
        fuzz_check(elen >= len && elen <= 2 * len, "escaped length");
        fuzz_check(dva_escape(wire + wlen, raw + start, len) == elen,
                   "escape writes its announced length");
        fuzz_check(memchr(wire + wlen, '\t', elen) == NULL &&
                       memchr(wire + wlen, '\n', elen) == NULL,
                   "an escaped value holds no TAB or LF");
        memcpy(copy, wire + wlen, elen);
        fuzz_check(dva_unescape_inplace(copy, elen) == len &&
                       memcmp(copy, raw + start, len) == 0,
                   "unescape(escape(v)) == v");
        wlen += elen;
        wire[wlen++] = '\t';
        nvalues++;
        start = i + 1;
    }
    memcpy(wire + wlen, "\n+\n", 3);
    wlen += 3;

    dva_reply reply;
    fuzz_input stream = {(const uint8_t *)wire, wlen};
    fuzz_check(fuzz_parse_reply(&stream, 0, &reply), "an escaped reply parses");
    fuzz_check(reply.status == DVA_STATUS_OK, "status OK");
    fuzz_check(reply.nvalues == nvalues, "as many values as were escaped");
    start = 0;
    for (size_t v = 0; v < nvalues; v++) {
        size_t len;
        const char *got = dva_reply_value(&reply, v, &len);
        const char *end = memchr(raw + start, sep, in.n - start);
        size_t want = end != NULL ? (size_t)(end - (raw + start)) : in.n - start;
        fuzz_check(len == want && memcmp(got, raw + start, len) == 0,
                   "every value parses back unchanged");
        start += want + 1;
    }
    dva_reply_free(&reply);
    free(wire);
    free(copy);
    return 0;
}
