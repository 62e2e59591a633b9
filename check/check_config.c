/* SPDX-License-Identifier: MIT */
/* Options from a file in collectd's syntax: see check_config.h. */
#include "check_config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define TOKENS_MAX 64

typedef struct {
    char *text[TOKENS_MAX];
    size_t n;
} tokens;

static void tokens_free(tokens *t)
{
    for (size_t i = 0; i < t->n; i++)
        free(t->text[i]);
    t->n = 0;
}

/* Splits one line into words and "quoted strings" (with \" and \\),
 * dropping a # comment. Returns NULL or the reason it cannot. */
static const char *tokenize(const char *line, tokens *t)
{
    t->n = 0;
    const char *p = line;
    for (;;) {
        while (*p == ' ' || *p == '\t' || *p == '\r')
            p++;
        if (*p == '\0' || *p == '#')
            return NULL;
        if (t->n == TOKENS_MAX)
            return "too many values on one line";
        char buf[CHK_CONFIG_LINE_MAX];
        size_t len = 0;
        if (*p == '"') {
            for (p++; *p != '"'; p++) {
                if (*p == '\0')
                    return "a quoted string is not closed";
                if (*p == '\\' && p[1] != '\0')
                    p++;
                buf[len++] = *p;
            }
            p++;
        } else {
            while (*p != '\0' && *p != ' ' && *p != '\t' && *p != '\r' && *p != '#')
                buf[len++] = *p++;
        }
        buf[len] = '\0';
        if ((t->text[t->n] = strdup(buf)) == NULL)
            return "out of memory";
        t->n++;
    }
}

/* "<Name" or "</Name", with the closing '>' on the last token removed. */
static bool block_tag(tokens *t, bool *closing, const char **name)
{
    char *first = t->text[0];
    if (first[0] != '<')
        return false;
    *closing = first[1] == '/';
    char *last = t->text[t->n - 1];
    size_t len = strlen(last);
    if (len > 0 && last[len - 1] == '>')
        last[len - 1] = '\0';
    if (t->n > 1 && last[0] == '\0') { /* <Instance "name"> ends in a lone '>' */
        free(last);
        t->n--;
    }
    *name = first + (*closing ? 2 : 1);
    return true;
}

static int add_item(chk_config_options *out, const char *option, const char *value,
                    unsigned line, unsigned nth)
{
    if (out->nitems == CHK_CONFIG_ITEMS_MAX)
        return -1;
    chk_config_item *grown = realloc(out->items, (out->nitems + 1) * sizeof(*grown));
    if (grown == NULL)
        return -1;
    out->items = grown;
    chk_config_item *it = &out->items[out->nitems];
    it->option = strdup(option);
    it->value = strdup(value);
    it->line = line;
    it->nth = nth;
    out->nitems++;
    return it->option != NULL && it->value != NULL ? 0 : -1;
}

typedef struct {
    int depth;        /* blocks open */
    int skip_depth;   /* > 0: inside a block we skip, opened at this depth */
    bool in_dovecot;  /* inside <Plugin dovecot> */
    bool in_instance; /* inside <Instance> */
    bool taking;      /* options of the chosen instance go to out */
    bool chosen_done; /* the chosen instance's block was read */
    bool saw_instance;
} parse_state;

static const char *open_block(parse_state *st, tokens *t, const char *name,
                              const char *instance, chk_config_options *out)
{
    st->depth++;
    if (st->skip_depth > 0)
        return NULL;
    if (strcasecmp(name, "Plugin") == 0 && !st->in_dovecot) {
        if (t->n >= 2 && strcasecmp(t->text[1], "dovecot") == 0)
            st->in_dovecot = true;
        else
            st->skip_depth = st->depth;
        return NULL;
    }
    if (strcasecmp(name, "Instance") == 0 && !st->in_instance) {
        if (t->n != 2 || t->text[1][0] == '\0')
            return "an <Instance> block needs one name: <Instance \"name\">";
        st->in_instance = true;
        st->saw_instance = true;
        bool wanted = instance != NULL ? strcmp(t->text[1], instance) == 0
                                       : out->instance == NULL;
        if (wanted && !st->chosen_done) {
            st->taking = true;
            free(out->instance);
            out->instance = strdup(t->text[1]);
            if (out->instance == NULL)
                return "out of memory";
        }
        return NULL;
    }
    st->skip_depth = st->depth; /* <LoadPlugin ...> and the like */
    return NULL;
}

static const char *close_block(parse_state *st, const char *name)
{
    if (st->depth == 0)
        return "a closing tag without an opening one";
    if (st->skip_depth == st->depth)
        st->skip_depth = 0;
    else if (st->skip_depth == 0 && strcasecmp(name, "Instance") == 0 &&
             st->in_instance) {
        st->in_instance = false;
        if (st->taking)
            st->chosen_done = true;
        st->taking = false;
    } else if (st->skip_depth == 0 && strcasecmp(name, "Plugin") == 0)
        st->in_dovecot = false;
    st->depth--;
    return NULL;
}

/* Bare option lines (no <Instance> anywhere) are collected apart and used
 * when the file has no instance block. */
static const char *option_line(parse_state *st, tokens *t, unsigned lineno,
                               chk_config_options *out, chk_config_options *bare)
{
    if (st->skip_depth > 0 || strcasecmp(t->text[0], "LoadPlugin") == 0)
        return NULL;
    chk_config_options *dst = st->taking ? out : (!st->in_instance ? bare : NULL);
    if (dst == NULL)
        return NULL;
    if (t->n < 2)
        return "the option has no value";
    for (size_t i = 1; i < t->n; i++)
        if (add_item(dst, t->text[0], t->text[i], lineno, (unsigned)(i - 1)) < 0)
            return "too many options, or out of memory";
    return NULL;
}

int chk_config_parse(const char *what, const char *text, const char *instance,
                     chk_config_options *out, dva_error *err)
{
    memset(out, 0, sizeof(*out));
    chk_config_options bare = {0};
    parse_state st = {0};
    const char *why = NULL;
    unsigned lineno = 0;
    tokens t = {0};
    for (const char *p = text; *p != '\0' && why == NULL;) {
        const char *eol = strchr(p, '\n');
        size_t len = eol != NULL ? (size_t)(eol - p) : strlen(p);
        lineno++;
        if (len >= CHK_CONFIG_LINE_MAX) {
            why = "the line is too long";
            break;
        }
        char line[CHK_CONFIG_LINE_MAX];
        memcpy(line, p, len);
        line[len] = '\0';
        p += len + (eol != NULL);
        if ((why = tokenize(line, &t)) != NULL || t.n == 0) {
            tokens_free(&t);
            continue;
        }
        bool closing;
        const char *name;
        if (block_tag(&t, &closing, &name))
            why = closing ? close_block(&st, name)
                          : open_block(&st, &t, name, instance, out);
        else
            why = option_line(&st, &t, lineno, out, &bare);
        tokens_free(&t);
    }
    if (why == NULL && st.depth != 0)
        why = "a block is not closed";
    if (why != NULL) {
        chk_config_options_free(&bare);
        chk_config_options_free(out);
        return dva_fail(err, DVA_ERR_USAGE, "%s:%u: %s", what, lineno, why);
    }
    if (!st.saw_instance) {
        chk_config_options_free(out);
        *out = bare;
        return 0;
    }
    chk_config_options_free(&bare);
    if (out->instance == NULL) {
        chk_config_options_free(out);
        return dva_fail(err, DVA_ERR_USAGE,
                        "%s: no <Instance \"%s\"> block; name one "
                        "that is there with --instance",
                        what, instance != NULL ? instance : "");
    }
    return 0;
}

int chk_config_parse_file(const char *path, const char *instance,
                          chk_config_options *out, dva_error *err)
{
    memset(out, 0, sizeof(*out));
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return dva_fail(err, DVA_ERR_USAGE, "cannot read %s: %s", path,
                        strerror(errno));
    char *text = malloc(CHK_CONFIG_FILE_MAX + 1);
    size_t len = 0;
    ssize_t n = 0;
    while (text != NULL && len < CHK_CONFIG_FILE_MAX &&
           ((n = read(fd, text + len, CHK_CONFIG_FILE_MAX - len)) > 0 ||
            (n < 0 && errno == EINTR)))
        if (n > 0)
            len += (size_t)n;
    int read_errno = errno;
    char extra;
    bool too_big =
        text != NULL && len == CHK_CONFIG_FILE_MAX && read(fd, &extra, 1) > 0;
    close(fd);
    int rc;
    if (text == NULL)
        rc = dva_fail(err, DVA_ERR_NOMEM, "out of memory reading %s", path);
    else if (n < 0)
        rc = dva_fail(err, DVA_ERR_USAGE, "cannot read %s: %s", path,
                      strerror(read_errno));
    else if (too_big)
        rc = dva_fail(err, DVA_ERR_USAGE, "%s is larger than %d bytes", path,
                      CHK_CONFIG_FILE_MAX);
    else if (memchr(text, '\0', len) != NULL)
        rc = dva_fail(err, DVA_ERR_USAGE, "%s holds a NUL byte: not a text file", path);
    else {
        text[len] = '\0';
        rc = chk_config_parse(path, text, instance, out, err);
    }
    free(text);
    return rc;
}

int chk_config_apply(const chk_config_options *options, const char *what,
                     dva_config *config, dva_error *err)
{
    for (size_t i = 0; i < options->nitems; i++) {
        const chk_config_item *it = &options->items[i];
        if (it->nth > 0 && !dva_config_repeatable(it->option))
            return dva_fail(err, DVA_ERR_USAGE,
                            "%s:%u: option %s takes one value; remove the others", what,
                            it->line, it->option);
        if (dva_config_set(config, it->option, it->value, err) < 0) {
            char msg[DVA_ERROR_MESSAGE_MAX];
            snprintf(msg, sizeof(msg), "%s", err->message);
            return dva_fail(err, err->code, "%s:%u: %s", what, it->line, msg);
        }
    }
    return 0;
}

void chk_config_options_free(chk_config_options *options)
{
    for (size_t i = 0; i < options->nitems; i++) {
        /* A value may be a password. */
        if (options->items[i].value != NULL)
            explicit_bzero(options->items[i].value, strlen(options->items[i].value));
        free(options->items[i].option);
        free(options->items[i].value);
    }
    free(options->items);
    free(options->instance);
    memset(options, 0, sizeof(*options));
}
