/* SPDX-License-Identifier: MIT */
/* `user <mask>`: one value holding {"userList":["a@x","b@x"]}.
 *
 * A strict parser for exactly that shape (RFC 8259 syntax for the parts it
 * accepts): whitespace anywhere between tokens, full string escapes
 * including surrogate pairs, raw UTF-8 validated. Anything else - another
 * key, a missing or repeated key, a nested value, trailing bytes - is
 * DVA_ERR_DECODE with the offset where it went wrong. */
#include "doveadm/userlist.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "decode_util.h"

#define USERLIST_KEY "userList"

typedef struct {
    const unsigned char *start, *p, *end;
    dva_error *err;
    /* Where decoded strings go, back to back: one buffer for the whole
     * list (a string never decodes longer than its quoted form, so the
     * text's length is enough), not one allocation per user. */
    char *buf;
    size_t used;
} json_in;

static int syntax(json_in *in, const char *expected)
{
    char q[32];
    size_t off = (size_t)(in->p - in->start);

    if (in->p >= in->end) {
        return dva_fail(in->err, DVA_ERR_DECODE,
                        "The user list is not the expected JSON {\"userList\":[...]}: "
                        "expected %s at offset %zu, got the end of the text.",
                        expected, off);
    }
    size_t left = (size_t)(in->end - in->p);
    return dva_fail(
        in->err, DVA_ERR_DECODE,
        "The user list is not the expected JSON {\"userList\":[...]}: expected "
        "%s at offset %zu, got \"%s\".",
        expected, off, dva_quote(q, sizeof(q), in->p, left < 8 ? left : 8));
}

static void skip_ws(json_in *in)
{
    while (in->p < in->end &&
           (*in->p == ' ' || *in->p == '\t' || *in->p == '\n' || *in->p == '\r'))
        in->p++;
}

static int expect(json_in *in, char c, const char *what)
{
    skip_ws(in);
    if (in->p >= in->end || *in->p != (unsigned char)c)
        return syntax(in, what);
    in->p++;
    return 0;
}

static int hex4(const unsigned char *p, uint32_t *out)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        unsigned char c = p[i];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (uint32_t)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (uint32_t)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (uint32_t)(c - 'A' + 10);
        else
            return -1;
    }
    *out = v;
    return 0;
}

static size_t put_utf8(unsigned char *o, uint32_t cp)
{
    if (cp < 0x80) {
        o[0] = (unsigned char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (unsigned char)(0xc0 | (cp >> 6));
        o[1] = (unsigned char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (unsigned char)(0xe0 | (cp >> 12));
        o[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
        o[2] = (unsigned char)(0x80 | (cp & 0x3f));
        return 3;
    }
    o[0] = (unsigned char)(0xf0 | (cp >> 18));
    o[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
    o[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
    o[3] = (unsigned char)(0x80 | (cp & 0x3f));
    return 4;
}

/* Length of the well-formed UTF-8 sequence (2-4 bytes) at p, or 0. */
static size_t utf8_seq_len(const unsigned char *p, const unsigned char *end)
{
    size_t avail = (size_t)(end - p);
    unsigned char c = p[0];
    unsigned char lo = 0x80, hi = 0xbf;
    size_t n;

    if (c >= 0xc2 && c <= 0xdf) {
        n = 2;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        if (c == 0xe0)
            lo = 0xa0; /* no overlong forms */
        else if (c == 0xed)
            hi = 0x9f; /* no UTF-16 surrogates */
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        if (c == 0xf0)
            lo = 0x90;
        else if (c == 0xf4)
            hi = 0x8f; /* nothing above U+10FFFF */
    } else {
        return 0;
    }
    if (avail < n || p[1] < lo || p[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++) {
        if (p[i] < 0x80 || p[i] > 0xbf)
            return 0;
    }
    return n;
}

/* Parses a string at in->p (after optional whitespace) into a new
 * NUL-terminated buffer. */
static int parse_string(json_in *in, char **out, size_t *out_len)
{
    *out = NULL;
    if (expect(in, '"', "'\"'") < 0)
        return -1;
    /* The decoded form is never longer than the raw form: find the end. */
    const unsigned char *s = in->p;
    while (s < in->end && *s != '"') {
        if (*s == '\\' && s + 1 < in->end)
            s++;
        s++;
    }
    if (s >= in->end) {
        in->p = in->end;
        return syntax(in, "the closing '\"' of a string");
    }
    unsigned char *buf = (unsigned char *)in->buf + in->used;
    size_t o = 0;

    while (*in->p != '"') {
        unsigned char c = *in->p;
        if (c < 0x20) {
            syntax(in, "a string without raw control characters");
            goto fail;
        }
        if (c < 0x80 && c != '\\') {
            buf[o++] = c;
            in->p++;
            continue;
        }
        if (c >= 0x80) {
            size_t n = utf8_seq_len(in->p, in->end);
            if (n == 0) {
                syntax(in, "valid UTF-8");
                goto fail;
            }
            memcpy(buf + o, in->p, n);
            o += n;
            in->p += n;
            continue;
        }
        /* An escape; the scan above guarantees a byte after the '\'. */
        static const char escapes[] = "\"\\/bfnrt";
        static const char map[] = "\"\\/\b\f\n\r\t";
        unsigned char e = in->p[1];
        const char *simple = e == '\0' ? NULL : strchr(escapes, e);
        if (simple != NULL) {
            buf[o++] = (unsigned char)map[simple - escapes];
            in->p += 2;
            continue;
        }
        if (e != 'u') {
            in->p++;
            syntax(in, "one of the escapes \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\u");
            goto fail;
        }
        uint32_t cp, lo;
        if ((size_t)(in->end - in->p) < 6 || hex4(in->p + 2, &cp) < 0) {
            in->p += 2;
            syntax(in, "four hex digits after \\u");
            goto fail;
        }
        if (cp >= 0xdc00 && cp <= 0xdfff) {
            syntax(in, "a \\u escape that is not a lone low surrogate");
            goto fail;
        }
        if (cp >= 0xd800 && cp <= 0xdbff) {
            const unsigned char *l = in->p + 6;
            if ((size_t)(in->end - l) < 6 || l[0] != '\\' || l[1] != 'u' ||
                hex4(l + 2, &lo) < 0 || lo < 0xdc00 || lo > 0xdfff) {
                in->p = l;
                syntax(in, "a \\u low surrogate after a high surrogate");
                goto fail;
            }
            cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
            in->p += 12;
        } else {
            if (cp == 0) {
                dva_fail(in->err, DVA_ERR_DECODE,
                         "The user list holds a name with a NUL character (\\u0000) at "
                         "offset %zu; no user name can contain one.",
                         (size_t)(in->p - in->start));
                goto fail;
            }
            in->p += 6;
        }
        o += put_utf8(buf + o, cp);
    }
    in->p++; /* closing quote */
    buf[o] = '\0';
    *out = (char *)buf;
    *out_len = o;
    in->used += o + 1;
    return 0;
fail:
    return -1;
}

static int add_user(dva_userlist *list, size_t *cap, char *name, size_t max_users,
                    dva_error *err)
{
    if (list->nusers >= max_users) {
        return dva_fail(err, DVA_ERR_LIMIT,
                        "The user list holds more than the %zu users allowed.",
                        max_users);
    }
    if (list->nusers == *cap) {
        size_t ncap = *cap == 0 ? 16 : *cap * 2;
        if (ncap < *cap || ncap > SIZE_MAX / sizeof(char *))
            return dva_fail(err, DVA_ERR_NOMEM, "The user list is too long to hold.");
        char **n = realloc(list->users, ncap * sizeof(char *));
        if (n == NULL)
            return dva_fail(err, DVA_ERR_NOMEM, "Out of memory for the user list.");
        list->users = n;
        *cap = ncap;
    }
    list->users[list->nusers++] = name;
    return 0;
}

static int parse_list(json_in *in, size_t max_users, dva_userlist *out)
{
    size_t cap = 0;
    char *s;
    size_t len;

    if (expect(in, '{', "'{'") < 0)
        return -1;
    skip_ws(in);
    if (in->p < in->end && *in->p == '}')
        return syntax(in, "the key \"userList\"");
    const unsigned char *key_at = in->p;
    if (parse_string(in, &s, &len) < 0)
        return -1;
    bool key_ok = len == strlen(USERLIST_KEY) && memcmp(s, USERLIST_KEY, len) == 0;
    in->used = 0; /* the key's room is the names' */
    if (!key_ok) {
        in->p = key_at;
        return syntax(in, "the key \"userList\" (the only key accepted)");
    }
    if (expect(in, ':', "':'") < 0 || expect(in, '[', "'[' (a list of user names)") < 0)
        return -1;
    skip_ws(in);
    if (in->p < in->end && *in->p == ']') {
        in->p++;
    } else {
        for (;;) {
            skip_ws(in);
            const unsigned char *at = in->p;
            if (in->p >= in->end || *in->p != '"')
                return syntax(in, "a user name string");
            if (parse_string(in, &s, &len) < 0)
                return -1;
            if (len == 0) {
                return dva_fail(in->err, DVA_ERR_DECODE,
                                "The user list holds an empty user name at offset %zu.",
                                (size_t)(at - in->start));
            }
            if (add_user(out, &cap, s, max_users, in->err) < 0)
                return -1;
            skip_ws(in);
            if (in->p < in->end && *in->p == ',') {
                in->p++;
                continue;
            }
            if (expect(in, ']', "',' or ']'") < 0)
                return -1;
            break;
        }
    }
    if (expect(in, '}', "'}' (\"userList\" is the only key accepted)") < 0)
        return -1;
    skip_ws(in);
    if (in->p != in->end)
        return syntax(in, "the end of the text");
    return 0;
}

int dva_userlist_parse(const char *json, size_t len, size_t max_users,
                       dva_userlist *out, dva_error *err)
{
    out->users = NULL;
    out->strings = NULL;
    out->nusers = 0;
    if (json == NULL && len != 0)
        return dva_fail(err, DVA_ERR_USAGE, "No user list text was given to parse.");
    json_in in = {
        .start = (const unsigned char *)json,
        .p = (const unsigned char *)json,
        .end = (const unsigned char *)json + len,
        .err = err,
    };
    if (json == NULL) { /* len == 0: parse "" for its error message */
        static const unsigned char empty[1] = {0};
        in.start = in.p = in.end = empty;
    }
    in.buf = malloc(len + 1);
    if (in.buf == NULL)
        return dva_fail(err, DVA_ERR_NOMEM, "Out of memory parsing the user list.");
    out->strings = in.buf;
    if (parse_list(&in, max_users, out) < 0) {
        dva_userlist_free(out);
        return -1;
    }
    if (out->nusers == 0) { /* an empty list holds nothing */
        free(out->strings);
        out->strings = NULL;
    }
    return 0;
}

int dva_userlist_decode(const dva_reply *reply, size_t max_users, dva_userlist *out,
                        dva_error *err)
{
    size_t len = 0;

    out->users = NULL;
    out->strings = NULL;
    out->nusers = 0;
    if (dva_decode_check_reply(reply, 1, "user", err) < 0)
        return -1;
    if (reply->nvalues != 1) {
        return dva_fail(
            err, DVA_ERR_DECODE,
            "The user reply has %zu values; exactly one (the JSON user list) "
            "was expected.",
            reply->nvalues);
    }
    const char *json = dva_reply_value(reply, 0, &len);
    return dva_userlist_parse(json, len, max_users, out, err);
}

void dva_userlist_free(dva_userlist *list)
{
    if (list == NULL)
        return;
    free(list->strings);
    free(list->users);
    list->users = NULL;
    list->strings = NULL;
    list->nusers = 0;
}
