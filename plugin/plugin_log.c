/* SPDX-License-Identifier: MIT */
/* Logging of one instance: see plugin_log.h. */
#include "plugin_collectd.h"

#include "plugin_log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define LINE_MAX_LEN 1024

void dvp_logger_init(dvp_logger *log, const char *instance, const char *password)
{
    memset(log, 0, sizeof(*log));
    log->instance = instance;
    log->password = password != NULL && password[0] != '\0' ? password : NULL;
    dvp_map_init(&log->once, DVP_LOG_MAX_ONCE);
}

void dvp_logger_free(dvp_logger *log)
{
    dvp_map_free(&log->once);
}

void dvp_logger_new_read(dvp_logger *log)
{
    dvp_map_age(&log->once, DVP_LOG_FORGET_READS);
}

void dvp_redact(char *text, const char *secret)
{
    if (secret == NULL || secret[0] == '\0')
        return;
    size_t n = strlen(secret);
    for (char *p = strstr(text, secret); p != NULL; p = strstr(p + n, secret))
        memset(p, '*', n);
}

__attribute__((format(printf, 3, 0))) static void emit(dvp_logger *log, int level,
                                                       const char *fmt, va_list ap)
{
    char line[LINE_MAX_LEN];
    vsnprintf(line, sizeof(line), fmt, ap);
    dvp_redact(line, log->password);
    plugin_log(level, DVP_PLUGIN_NAME " plugin: instance \"%s\": %s", log->instance,
               line);
}

void dvp_log(dvp_logger *log, int level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    emit(log, level, fmt, ap);
    va_end(ap);
}

/* True when key was not logged yet (and is now remembered). */
static bool first_time(dvp_logger *log, const char *key)
{
    bool added = false;
    if (dvp_map_touch(&log->once, key, strlen(key), &added) != NULL)
        return added;
    if (!log->once_full_noted) {
        log->once_full_noted = true;
        plugin_log(LOG_WARNING,
                   DVP_PLUGIN_NAME " plugin: instance \"%s\": more than %d distinct "
                                   "warnings; further new ones are not logged",
                   log->instance, DVP_LOG_MAX_ONCE);
    }
    return false;
}

bool dvp_log_once(dvp_logger *log, int level, const char *key, const char *fmt, ...)
{
    if (!first_time(log, key))
        return false;
    va_list ap;
    va_start(ap, fmt);
    emit(log, level, fmt, ap);
    va_end(ap);
    return true;
}

static int level_of(dva_log_level level)
{
    switch (level) {
    case DVA_LOG_WARNING:
        return LOG_WARNING;
    case DVA_LOG_NOTICE:
        return LOG_NOTICE;
    default:
        return LOG_INFO;
    }
}

void dvp_lib_log(void *ctx, dva_log_level level, const char *message)
{
    dvp_logger *log = ctx;
    char key[LINE_MAX_LEN];
    snprintf(key, sizeof(key), "lib:%s", message);
    dvp_log_once(log, level_of(level), key, "%s", message);
}

void dvp_lib_notice(void *ctx, dva_log_level level, const char *key,
                    const char *message)
{
    dvp_logger *log = ctx;
    if (key == NULL)
        dvp_log(log, level_of(level), "%s", message);
    else
        dvp_log_once(log, level_of(level), key, "%s", message);
}
