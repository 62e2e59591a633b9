/* SPDX-License-Identifier: MIT */
/* Logging of one instance: every line starts "dovecot plugin: instance
 * "<name>": ", the password is never printed (any occurrence is masked),
 * and messages that repeat read after read are logged once. */
#ifndef DVP_PLUGIN_LOG_H
#define DVP_PLUGIN_LOG_H

#include <stdbool.h>
#include <stddef.h>

#include "doveadm/client.h"
#include "plugin_map.h"

/* A once-logged message not repeated for this many reads is forgotten,
 * so it is logged again if it comes back. */
#define DVP_LOG_FORGET_READS 360
/* Distinct once-logged messages remembered per instance. */
#define DVP_LOG_MAX_ONCE 4096

typedef struct {
    const char *instance; /* borrowed */
    const char *password; /* borrowed; NULL: none */
    dvp_map once;
    bool once_full_noted;
} dvp_logger;

void dvp_logger_init(dvp_logger *log, const char *instance, const char *password);
void dvp_logger_free(dvp_logger *log);
/* Call once per read, before the read logs anything. */
void dvp_logger_new_read(dvp_logger *log);

/* Logs at a collectd level (LOG_ERR, LOG_WARNING, LOG_INFO). */
void dvp_log(dvp_logger *log, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Logs unless a message with the same key was logged and not forgotten;
 * returns true when it logged. */
bool dvp_log_once(dvp_logger *log, int level, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* The library's dva_log_fn; ctx is a dvp_logger. Each distinct message is
 * logged once (see DVP_LOG_FORGET_READS). */
void dvp_lib_log(void *ctx, dva_log_level level, const char *message);

/* The library's dva_notice_fn (doveadm/read_memory.h); ctx is a
 * dvp_logger. A line with a key is logged once per key. */
void dvp_lib_notice(void *ctx, dva_log_level level, const char *key,
                    const char *message);

/* Masks every occurrence of secret in text with '*' (in place). */
void dvp_redact(char *text, const char *secret);

#endif
