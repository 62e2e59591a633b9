/* SPDX-License-Identifier: MIT */
/* dva_reply storage and accessors; the parser that fills it is parser.c. */
#include "doveadm/reply.h"

#include <stdlib.h>
#include <string.h>

const char *dva_status_name(dva_status status)
{
    switch (status) {
    case DVA_STATUS_OK:
        return "OK";
    case DVA_STATUS_FAILED:
        return "FAILED";
    case DVA_STATUS_UNKNOWN:
        return "UNKNOWN";
    case DVA_STATUS_TEMPFAIL:
        return "TEMPFAIL";
    case DVA_STATUS_USAGE:
        return "USAGE";
    case DVA_STATUS_NOUSER:
        return "NOUSER";
    case DVA_STATUS_NOPERM:
        return "NOPERM";
    case DVA_STATUS_PROTOCOL:
        return "PROTOCOL";
    case DVA_STATUS_DATAERR:
        return "DATAERR";
    case DVA_STATUS_NOREPLICATE:
        return "NOREPLICATE";
    case DVA_STATUS_NOTFOUND:
        return "NOTFOUND";
    case DVA_STATUS_CHANGED:
        return "CHANGED";
    case DVA_STATUS_EXPIRED:
        return "EXPIRED";
    case DVA_STATUS_REFERRAL:
        return "REFERRAL";
    case DVA_STATUS_NUMERIC:
        return "NUMERIC";
    case DVA_STATUS_OTHER:
        return "OTHER";
    }
    return "INVALID";
}

void dva_limits_fill_defaults(dva_limits *limits)
{
    if (limits->max_value_len == 0)
        limits->max_value_len = DVA_DEFAULT_MAX_VALUE_LEN;
    if (limits->max_values == 0)
        limits->max_values = DVA_DEFAULT_MAX_VALUES;
    if (limits->max_reply_len == 0)
        limits->max_reply_len = DVA_DEFAULT_MAX_REPLY_LEN;
}

void dva_reply_init(dva_reply *reply)
{
    memset(reply, 0, sizeof(*reply));
}

void dva_reply_reset(dva_reply *reply)
{
    reply->status = DVA_STATUS_OK;
    reply->exit_code = 0;
    reply->status_text[0] = '\0';
    reply->ncols = 0;
    reply->nvalues = 0;
    reply->data_len = 0;
    reply->nul_free = false; /* the parser sets it */
    if (reply->offsets != NULL)
        reply->offsets[0] = 0;
}

void dva_reply_free(dva_reply *reply)
{
    free(reply->data);
    free(reply->offsets);
    dva_reply_init(reply);
}

size_t dva_reply_rows(const dva_reply *reply)
{
    return reply->ncols == 0 ? reply->nvalues : reply->nvalues / reply->ncols;
}

const char *dva_reply_value(const dva_reply *reply, size_t i, size_t *len)
{
    if (i >= reply->nvalues)
        return NULL;
    size_t start = reply->offsets[i];
    if (len != NULL)
        *len = reply->offsets[i + 1] - start - 1;
    return reply->data + start;
}

const char *dva_reply_cell(const dva_reply *reply, size_t row, size_t col, size_t *len)
{
    size_t width = reply->ncols == 0 ? 1 : reply->ncols;
    if (col >= width || row >= dva_reply_rows(reply))
        return NULL;
    return dva_reply_value(reply, row * width + col, len);
}

const char *dva_reply_cstr(const dva_reply *reply, size_t row, size_t col)
{
    size_t len;
    const char *v = dva_reply_cell(reply, row, col, &len);
    if (v == NULL || (!reply->nul_free && memchr(v, '\0', len) != NULL))
        return NULL;
    return v;
}
