/* SPDX-License-Identifier: MIT */
/* The option schema of an instance (settings.h), shared by the files of
 * the config layer: settings_schema.c (options, types, ranges, setting
 * them), settings_finish.c (the options together, into dva_settings),
 * password_file.c and settings_tls.c (TLS and the cleartext guard). */
#ifndef DVA_SETTINGS_PRIVATE_H
#define DVA_SETTINGS_PRIVATE_H

#include <confuse.h>
#include <stdbool.h>

#include "doveadm/settings.h"

typedef enum {
    KIND_TEXT,
    KIND_PORT,
    KIND_SECONDS,
    KIND_BOOL,
    KIND_PERCENT,
    KIND_COUNT,
    KIND_TLS_MODE,
    KIND_GENERATION, /* DovecotVersion */
    KIND_SCOPE,      /* OldStats */
    KIND_TOP,        /* OldStatsTop */
    KIND_LAYOUT,     /* IdentifierLayout */
    KIND_MAX_USERS,  /* MaxUsers */
    KIND_SERIES,     /* QuotaSeries */
} value_kind;

typedef struct {
    const char *name;
    value_kind kind;
    bool repeatable;
    bool secret; /* never echo the value */
    const char *example;
} option_doc;

/* The options of the schema, in the order of its libconfuse table. */
#define DVA_NOPTIONS 40
extern const option_doc dva_option_docs[DVA_NOPTIONS];

struct dva_config {
    cfg_t *cfg;
    char *name;
    bool seen[DVA_NOPTIONS];
};

/* The index of option (any letter case) in dva_option_docs, or -1. */
int dva_option_find(const char *option);
/* "classic", "labels" (any letter case) as a dva_identifier_layout, or -1. */
int dva_option_layout(const char *value);
/* "none", "starttls", "tls" (any letter case) as a dva_tls_mode, or -1. */
int dva_option_tls_mode(const char *value);

/* password_file.c: reads the first line of s->password_file into
 * s->password; a file others can read is warned about. */
int dva_settings_read_password_file(const dva_config *c, dva_settings *s,
                                    dva_config_warn_fn *warn, void *warn_ctx,
                                    dva_error *err);
/* settings_tls.c: the TLS options together (and the CA file loads), and
 * the refusal of a password sent in clear text off the host. */
int dva_settings_check_tls(const dva_config *c, const dva_settings *s,
                           dva_config_warn_fn *warn, void *warn_ctx, dva_error *err);
int dva_settings_check_cleartext(const dva_config *c, const dva_settings *s,
                                 dva_error *err);

#endif
