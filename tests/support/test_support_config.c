/* SPDX-License-Identifier: MIT */
#include "test_support_config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>
#include <string.h>

struct warn_buffer {
    char *buf;
    size_t size;
};

static void record_warning(void *ctx, const char *msg)
{
    struct warn_buffer *w = ctx;
    snprintf(w->buf, w->size, "%s", msg);
}

int dva_test_configure(const char *name, const char *const *pairs, dva_settings *s,
                       dva_error *err, char *warned, size_t warned_size)
{
    struct warn_buffer w = {warned, warned_size};
    dva_config *c = dva_config_new(name);
    assert_non_null(c);
    if (warned != NULL)
        warned[0] = '\0';
    int rc = 0;
    for (size_t i = 0; pairs[i] != NULL && rc == 0; i += 2)
        rc = dva_config_set(c, pairs[i], pairs[i + 1], err);
    if (rc == 0)
        rc = dva_config_finish(c, s, warned != NULL ? record_warning : NULL,
                               warned != NULL ? &w : NULL, err);
    dva_config_free(c);
    return rc;
}

void dva_test_expect_usage_error(const dva_error *err, const char *const *needles)
{
    assert_int_equal(err->code, DVA_ERR_USAGE);
    for (size_t i = 0; needles[i] != NULL; i++)
        if (strstr(err->message, needles[i]) == NULL)
            fail_msg("\"%s\" not in: %s", needles[i], err->message);
}
