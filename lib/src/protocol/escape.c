/* SPDX-License-Identifier: MIT */
/* Tab escaping of doveadm fields, PROTOCOL.md section 5.
 *
 * Runs of ordinary bytes are found with a table (escape) or memchr
 * (unescape) and moved in bulk; only the special bytes are handled one by
 * one. */
#include "doveadm/escape.h"

#include <string.h>

/* ESC_CODE[b] is the code byte that follows 0x01 in the escaped form of b,
 * or 0 when b is sent as it is. */
static const unsigned char ESC_CODE[256] = {
    [0x00] = '0', [0x01] = '1', ['\t'] = 't', ['\n'] = 'n', ['\r'] = 'r',
};

size_t dva_escaped_len(const char *in, size_t len)
{
    const unsigned char *p = (const unsigned char *)in;
    size_t extra = 0;

    for (size_t i = 0; i < len; i++)
        extra += ESC_CODE[p[i]] != 0;
    return len + extra;
}

size_t dva_escape(char *out, const char *in, size_t len)
{
    if (len == 0)
        return 0; /* in may be NULL */
    const unsigned char *p = (const unsigned char *)in;
    const unsigned char *end = p + len;
    char *o = out;

    while (p < end) {
        const unsigned char *run = p;
        while (p < end && ESC_CODE[*p] == 0)
            p++;
        if (p > run) {
            memcpy(o, run, (size_t)(p - run));
            o += p - run;
        }
        if (p == end)
            break;
        *o++ = '\001';
        *o++ = (char)ESC_CODE[*p++];
    }
    return (size_t)(o - out);
}

char dva_unescape_code(char c)
{
    switch (c) {
    case '1':
        return '\001';
    case 't':
        return '\t';
    case 'r':
        return '\r';
    case 'n':
        return '\n';
    case '0':
        return '\0';
    default:
        return c;
    }
}

size_t dva_unescape_inplace(char *buf, size_t len)
{
    char *esc = len == 0 ? NULL : memchr(buf, '\001', len);
    if (esc == NULL)
        return len;

    size_t r = (size_t)(esc - buf); /* read position: at a 0x01 */
    size_t w = r;                   /* write position */
    while (r < len) {
        r++; /* skip the 0x01 */
        if (r == len)
            break; /* a lone 0x01 at the end is dropped */
        buf[w++] = dva_unescape_code(buf[r++]);

        char *next = r < len ? memchr(buf + r, '\001', len - r) : NULL;
        size_t run = next != NULL ? (size_t)(next - (buf + r)) : len - r;
        memmove(buf + w, buf + r, run);
        w += run;
        r += run;
    }
    return w;
}
