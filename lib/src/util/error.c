/* SPDX-License-Identifier: MIT */
#include "doveadm/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *dva_errcode_name(dva_errcode code)
{
    switch (code) {
    case DVA_OK:
        return "ok";
    case DVA_ERR_CONNECT:
        return "connect";
    case DVA_ERR_TIMEOUT:
        return "timeout";
    case DVA_ERR_VERSION:
        return "version";
    case DVA_ERR_AUTH:
        return "auth";
    case DVA_ERR_NOAUTH:
        return "noauth";
    case DVA_ERR_CLOSED:
        return "closed";
    case DVA_ERR_PROTOCOL:
        return "protocol";
    case DVA_ERR_COMMAND:
        return "command";
    case DVA_ERR_LIMIT:
        return "limit";
    case DVA_ERR_IO:
        return "io";
    case DVA_ERR_USAGE:
        return "usage";
    case DVA_ERR_NOMEM:
        return "nomem";
    case DVA_ERR_DECODE:
        return "decode";
    case DVA_ERR_TLS:
        return "tls";
    }
    return "invalid";
}

int dva_fail(dva_error *err, dva_errcode code, const char *fmt, ...)
{
    if (err == NULL)
        return -1;
    err->code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof(err->message), fmt, ap);
    va_end(ap);
    return -1;
}

void dva_error_clear(dva_error *err)
{
    if (err == NULL)
        return;
    err->code = DVA_OK;
    err->message[0] = '\0';
}

char *dva_quote(char *out, size_t out_size, const void *data, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = data;
    size_t o = 0;

    if (out_size == 0)
        return out;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = p[i];
        size_t need = (c >= 0x20 && c < 0x7f && c != '\\') ? 1 : (c == '\\' ? 2 : 4);
        /* keep room for "..." and the NUL */
        if (o + need + 4 > out_size) {
            if (o + 4 <= out_size) {
                memcpy(out + o, "...", 3);
                o += 3;
            }
            break;
        }
        if (need == 1) {
            out[o++] = (char)c;
        } else if (need == 2) {
            out[o++] = '\\';
            out[o++] = '\\';
        } else {
            out[o++] = '\\';
            out[o++] = 'x';
            out[o++] = hex[c >> 4];
            out[o++] = hex[c & 15];
        }
    }
    out[o < out_size ? o : out_size - 1] = '\0';
    return out;
}
