/* SPDX-License-Identifier: MIT */
/* Test helpers of the config layer: settings from option/value pairs. */
#ifndef DVA_TEST_SUPPORT_CONFIG_H
#define DVA_TEST_SUPPORT_CONFIG_H

#include <stddef.h>

#include "doveadm/settings.h"

/* Applies option/value pairs (NULL-terminated) to a new configuration of
 * instance `name`, then finishes it into *s; returns 0, or -1 with *err
 * from the first failure. warned (emptied first) receives the last warning
 * the settings give; warned NULL ignores warnings. */
int dva_test_configure(const char *name, const char *const *pairs, dva_settings *s,
                       dva_error *err, char *warned, size_t warned_size);

/* Fails the test unless err is a usage error whose message holds every one
 * of the NULL-terminated needles. */
void dva_test_expect_usage_error(const dva_error *err, const char *const *needles);

#endif
