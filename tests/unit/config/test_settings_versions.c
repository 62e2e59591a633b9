/* SPDX-License-Identifier: MIT */
/* The version options of the schema: DovecotVersion, OldStats,
 * OldStatsTop, OldStatsSortBy, OldStatsColumns; their defaults and the
 * messages that name the option, the value and the fix. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "doveadm/settings.h"
#include "test_support_config.h"

static int configure(dva_settings *s, dva_error *err, const char *const *pairs)
{
    return dva_test_configure("mx", pairs, s, err, NULL, 0);
}

static void refused(const char *const *pairs, const char *const *needles)
{
    dva_settings s;
    dva_error err;
    assert_int_equal(configure(&s, &err, pairs), -1);
    dva_test_expect_usage_error(&err, needles);
}

static void test_defaults(void **state)
{
    (void)state;
    dva_settings s;
    dva_error err;
    const char *pairs[] = {NULL};
    assert_int_equal(configure(&s, &err, pairs), 0);
    assert_int_equal(s.generation, DVA_GEN_AUTO);
    for (size_t i = 0; i < DVA_OLDSTATS_NSCOPES; i++)
        assert_false(s.oldstats[i]);
    assert_int_equal(s.oldstats_top, 20);
    assert_string_equal(s.oldstats_sort_by, "num_cmds");
    assert_int_equal(s.noldstats_columns, 0);
    dva_settings_free(&s);
}

static void test_values(void **state)
{
    (void)state;
    dva_settings s;
    dva_error err;
    const char *pairs[] = {"dovecotversion",
                           "2.2",
                           "OldStats",
                           "user",
                           "OldStats",
                           "ip",
                           "OldStatsTop",
                           "0",
                           "OldStatsSortBy",
                           "mail_read_bytes",
                           "OldStatsColumns",
                           "user_cpu",
                           "OldStatsColumns",
                           "mail_read_bytes",
                           NULL};
    assert_int_equal(configure(&s, &err, pairs), 0);
    assert_int_equal(s.generation, DVA_GEN_22);
    assert_true(s.oldstats[DVA_OLDSTATS_USER]);
    assert_true(s.oldstats[DVA_OLDSTATS_IP]);
    assert_false(s.oldstats[DVA_OLDSTATS_GLOBAL]);
    assert_int_equal(s.oldstats_top, 0);
    assert_int_equal(s.noldstats_columns, 2);
    assert_string_equal(s.oldstats_columns[1], "mail_read_bytes");
    dva_settings_free(&s);
}

static void test_refusals(void **state)
{
    (void)state;
    refused((const char *[]){"DovecotVersion", "2.5", NULL},
            (const char *[]){"DovecotVersion", "2.5", "auto, 2.2, 2.3 or 2.4", NULL});
    refused(
        (const char *[]){"OldStats", "session", NULL},
        (const char *[]){"OldStats", "session", "global, domain, user or ip", NULL});
    refused((const char *[]){"OldStatsTop", "-1", NULL},
            (const char *[]){"OldStatsTop", "100000", NULL});
    refused((const char *[]){"DovecotVersion", "2.4", "OldStats", "user", NULL},
            (const char *[]){"OldStats", "2.4", "remove OldStats", NULL});
    refused((const char *[]){"OldStatsTop", "5", NULL},
            (const char *[]){"OldStatsTop", "without OldStats", NULL});
    refused((const char *[]){"OldStats", "user", "OldStatsSortBy",
                             "num_connected_sessions", NULL},
            (const char *[]){"OldStatsSortBy", "num_connected_sessions", "user scope",
                             NULL});
    refused((const char *[]){"OldStats", "user", "OldStatsColumns", "user_cpu",
                             "OldStatsColumns", "user_cpu", NULL},
            (const char *[]){"OldStatsColumns", "user_cpu", "header", NULL});
    refused((const char *[]){"OldStats", "user", "OldStatsColumns", "num_cmds", NULL},
            (const char *[]){"OldStatsColumns", "num_cmds", NULL});
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_values),
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
