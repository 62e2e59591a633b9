/* SPDX-License-Identifier: MIT */
/* The instance option schema: defaults, types, ranges and messages. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "doveadm/settings.h"
#include "test_support_config.h"

static char warned[1024];

/* Applies option/value pairs, then finishes; returns the first failure. */
static int configure(dva_settings *s, dva_error *err, const char *const *pairs)
{
    return dva_test_configure("local", pairs, s, err, warned, sizeof(warned));
}

static char *write_temp(const char *content, mode_t mode)
{
    char *path = strdup("/tmp/dva-settings-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, content, strlen(content)), (ssize_t)strlen(content));
    close(fd);
    chmod(path, mode);
    return path;
}

static void test_defaults(void **state)
{
    (void)state;
    dva_settings s;
    dva_error err;
    const char *pairs[] = {NULL};
    assert_int_equal(configure(&s, &err, pairs), 0);
    assert_string_equal(s.name, "local");
    assert_string_equal(s.socket_path, DVA_DEFAULT_SOCKET);
    assert_null(s.host);
    assert_null(s.password);
    assert_true(s.collect_stats);
    assert_true(s.collect_who);
    assert_true(s.collect_quota);
    assert_false(s.collect_mailbox);
    assert_int_equal(s.nquota_users, 0);
    assert_true(s.quota_warning == 90.0);
    assert_true(s.quota_failure == 98.0);
    assert_int_equal(s.connections, 2);
    assert_true(s.interval == 0 && s.timeout == 0);
    assert_true(s.quota_scan);
    assert_string_equal(s.quota_scan_dir, DVA_DEFAULT_QUOTA_SCAN_DIR);
    assert_int_equal(s.identifier_layout, DVA_LAYOUT_CLASSIC);
    dva_settings_free(&s);
}

static void test_every_option(void **state)
{
    (void)state;
    char *pwfile = write_temp("s3cret\nignored\n", 0600);
    dva_settings s;
    dva_error err;
    const char *pairs[] = {"Host",
                           "127.0.0.1",
                           "Port",
                           "2425",
                           "PasswordFile",
                           pwfile,
                           "Interval",
                           "30",
                           "Timeout",
                           "2.5",
                           "CollectStats",
                           "false",
                           "CollectWho",
                           "off",
                           "CollectQuota",
                           "true",
                           "QuotaUser",
                           "alice@example.com",
                           "QuotaUser",
                           "bob@example.com",
                           "QuotaUsers",
                           "*@example.org",
                           "QuotaWarning",
                           "80",
                           "QuotaFailure",
                           "95",
                           "CollectMailbox",
                           "yes",
                           "Mailbox",
                           "INBOX",
                           "Mailbox",
                           "Sent*",
                           "ReportHost",
                           "mail1",
                           "IdentifierLayout",
                           "Labels",
                           "Connections",
                           "4",
                           NULL};
    assert_int_equal(configure(&s, &err, pairs), 0);
    assert_string_equal(s.host, "127.0.0.1");
    assert_null(s.socket_path);
    assert_int_equal(s.port, 2425);
    assert_string_equal(s.password, "s3cret");
    assert_string_equal(s.password_file, pwfile);
    assert_true(s.interval == 30 && s.timeout == 2.5);
    assert_false(s.collect_stats);
    assert_false(s.collect_who);
    assert_true(s.collect_mailbox);
    assert_int_equal(s.nquota_users, 2);
    assert_string_equal(s.quota_users[1], "bob@example.com");
    assert_int_equal(s.nquota_masks, 1);
    assert_string_equal(s.quota_masks[0], "*@example.org");
    assert_int_equal(s.nmailboxes, 2);
    assert_string_equal(s.mailboxes[1], "Sent*");
    assert_string_equal(s.report_host, "mail1");
    assert_int_equal(s.identifier_layout, DVA_LAYOUT_LABELS);
    assert_int_equal(s.connections, 4);
    assert_true(s.quota_warning == 80 && s.quota_failure == 95);
    assert_string_equal(warned, "");
    dva_settings_free(&s);
    unlink(pwfile);
    free(pwfile);
}

static void test_names_ignore_case(void **state)
{
    (void)state;
    dva_settings s;
    dva_error err;
    const char *pairs[] = {"socket", "/tmp/x.sock", "COLLECTWHO", "false", NULL};
    assert_int_equal(configure(&s, &err, pairs), 0);
    assert_string_equal(s.socket_path, "/tmp/x.sock");
    assert_false(s.collect_who);
    assert_true(dva_config_repeatable("quotauser"));
    assert_false(dva_config_repeatable("Socket"));
    assert_false(dva_config_repeatable("NoSuch"));
    dva_settings_free(&s);
}

static void expect_error(const char *const *pairs, const char *const *needles)
{
    dva_settings s;
    dva_error err;
    assert_int_equal(configure(&s, &err, pairs), -1);
    dva_test_expect_usage_error(&err, needles);
    assert_non_null(strstr(err.message, "instance \"local\""));
}

static void test_unknown_option_suggests(void **state)
{
    (void)state;
    const char *pairs[] = {"Sockt", "/x", NULL};
    const char *needles[] = {"unknown option \"Sockt\"", "did you mean Socket?",
                             "Valid options", NULL};
    expect_error(pairs, needles);
    const char *pairs2[] = {"Frobnicate", "1", NULL};
    const char *needles2[] = {"unknown option \"Frobnicate\"", "QuotaWarning", NULL};
    expect_error(pairs2, needles2);
}

static void test_wrong_types(void **state)
{
    (void)state;
    const char *port[] = {"Host", "h", "Port", "abc", NULL};
    const char *port_n[] = {"option Port", "\"abc\"", "whole number", "Port 2425",
                            NULL};
    expect_error(port, port_n);
    const char *b[] = {"CollectWho", "maybe", NULL};
    const char *b_n[] = {"option CollectWho", "\"maybe\"", "true or false", NULL};
    expect_error(b, b_n);
    const char *f[] = {"Timeout", "soon", NULL};
    const char *f_n[] = {"option Timeout", "seconds", NULL};
    expect_error(f, f_n);
}

static void test_ranges(void **state)
{
    (void)state;
    const char *port[] = {"Host", "h", "Port", "70000", NULL};
    const char *port_n[] = {"option Port", "out of range", NULL};
    expect_error(port, port_n);
    const char *t[] = {"Timeout", "0", NULL};
    const char *t_n[] = {"option Timeout", "out of range", NULL};
    expect_error(t, t_n);
    const char *c[] = {"Connections", "0", NULL};
    const char *c_n[] = {"option Connections", "1 to 64", NULL};
    expect_error(c, c_n);
    const char *q[] = {"QuotaWarning", "-5", NULL};
    const char *q_n[] = {"option QuotaWarning", "percentage", NULL};
    expect_error(q, q_n);
    const char *e[] = {"QuotaUser", "", NULL};
    const char *e_n[] = {"option QuotaUser", "is empty", NULL};
    expect_error(e, e_n);
    const char *l[] = {"IdentifierLayout", "prometheus", NULL};
    const char *l_n[] = {"option IdentifierLayout", "\"classic\" or \"labels\"",
                         "IdentifierLayout \"labels\"", NULL};
    expect_error(l, l_n);
}

static void test_socket_with_host(void **state)
{
    (void)state;
    const char *pairs[] = {"Socket", "/run/x", "Host", "mail", "Password", "p", NULL};
    const char *needles[] = {"Socket and Host", "not both", NULL};
    expect_error(pairs, needles);
}

static void test_tcp_needs_password(void **state)
{
    (void)state;
    const char *pairs[] = {"Host", "mail.example.com", NULL};
    const char *needles[] = {"needs a password", "PasswordFile", NULL};
    expect_error(pairs, needles);
}

static void test_port_without_host(void **state)
{
    (void)state;
    const char *pairs[] = {"Port", "2425", NULL};
    const char *needles[] = {"Port is given without Host", NULL};
    expect_error(pairs, needles);
}

static void test_repeated_single_option(void **state)
{
    (void)state;
    const char *pairs[] = {"Socket", "/a", "socket", "/b", NULL};
    const char *needles[] = {"Socket is given more than once", NULL};
    expect_error(pairs, needles);
}

static void test_password_never_in_messages(void **state)
{
    (void)state;
    const char *pairs[] = {"Password", "hunter2", "Password", "hunter3", NULL};
    const char *needles[] = {"Password is given more than once", NULL};
    expect_error(pairs, needles);
    dva_settings s;
    dva_error err;
    const char *both[] = {"Password", "hunter2", "PasswordFile", "/nonexistent", NULL};
    assert_int_equal(configure(&s, &err, both), -1);
    assert_null(strstr(err.message, "hunter2"));
    assert_non_null(strstr(err.message, "Password and PasswordFile"));
}

/* A line break can be in no password, name or path Dovecot knows: a
 * pasted newline is refused, and a password stays unshown even then. */
static void test_line_break_refused(void **state)
{
    (void)state;
    dva_settings s;
    dva_error err;
    const char *pw[] = {"Host", "localhost", "Password", "hunter2\n", NULL};
    assert_int_equal(configure(&s, &err, pw), -1);
    assert_non_null(strstr(err.message, "option Password"));
    assert_non_null(strstr(err.message, "holds a line break"));
    assert_null(strstr(err.message, "hunter2"));
    const char *user[] = {"QuotaUser", "alice@example.com\r", NULL};
    const char *user_n[] = {"option QuotaUser", "\"alice@example.com\\x0d\"",
                            "holds a line break", "one line", NULL};
    expect_error(user, user_n);
}

static void test_unreadable_password_file(void **state)
{
    (void)state;
    const char *pairs[] = {"Host", "h", "PasswordFile", "/nonexistent/dovecot.pass",
                           NULL};
    const char *needles[] = {"option PasswordFile", "/nonexistent/dovecot.pass",
                             "No such file", NULL};
    expect_error(pairs, needles);
}

static void test_empty_password_file(void **state)
{
    (void)state;
    char *path = write_temp("\nsecond line\n", 0600);
    const char *pairs[] = {"Host", "h", "PasswordFile", path, NULL};
    const char *needles[] = {"first line", "empty", NULL};
    expect_error(pairs, needles);
    unlink(path);
    free(path);
}

static void test_password_file_without_newline_and_crlf(void **state)
{
    (void)state;
    char *path = write_temp("pw-no-newline", 0600);
    dva_settings s;
    dva_error err;
    const char *pairs[] = {"Host", "localhost", "PasswordFile", path, NULL};
    assert_int_equal(configure(&s, &err, pairs), 0);
    assert_string_equal(s.password, "pw-no-newline");
    dva_settings_free(&s);
    unlink(path);
    free(path);
    path = write_temp("windows\r\n", 0600);
    const char *pairs2[] = {"Host", "localhost", "PasswordFile", path, NULL};
    assert_int_equal(configure(&s, &err, pairs2), 0);
    assert_string_equal(s.password, "windows");
    dva_settings_free(&s);
    unlink(path);
    free(path);
}

static void test_password_file_mode_warning(void **state)
{
    (void)state;
    char *path = write_temp("pw\n", 0644);
    dva_settings s;
    dva_error err;
    const char *pairs[] = {"Host", "localhost", "PasswordFile", path, NULL};
    assert_int_equal(configure(&s, &err, pairs), 0);
    assert_non_null(strstr(warned, path));
    assert_non_null(strstr(warned, "0644"));
    assert_non_null(strstr(warned, "chmod 600"));
    assert_null(strstr(warned, "pw\n"));
    dva_settings_free(&s);
    unlink(path);
    free(path);
}

static void test_timeout_not_below_interval(void **state)
{
    (void)state;
    const char *pairs[] = {"Interval", "10", "Timeout", "10", NULL};
    const char *needles[] = {"option Timeout", "not below the Interval", NULL};
    expect_error(pairs, needles);
}

static void test_quota_scan_options(void **state)
{
    (void)state;
    const char *relative[] = {"QuotaScanDir", "run/collectd", NULL};
    const char *needles[] = {"option QuotaScanDir", "\"run/collectd\"", "absolute",
                             NULL};
    expect_error(relative, needles);
    dva_settings s;
    dva_error err;
    const char *set[] = {"quotascan", "false", "QuotaScanDir", "/var/lib/collectd",
                         NULL};
    assert_int_equal(configure(&s, &err, set), 0);
    assert_false(s.quota_scan);
    assert_string_equal(s.quota_scan_dir, "/var/lib/collectd");
    assert_true(s.quota_interval == 0);
    dva_settings_free(&s);
    const char *spread[] = {"QuotaInterval", "600", NULL};
    assert_int_equal(configure(&s, &err, spread), 0);
    assert_true(s.quota_interval == 600);
    dva_settings_free(&s);
}

static void test_max_users_and_quota_series(void **state)
{
    (void)state;
    dva_settings s;
    dva_error err;
    const char *none[] = {NULL};
    assert_int_equal(configure(&s, &err, none), 0);
    assert_int_equal(s.max_users, 0); /* no bound */
    assert_int_equal(s.quota_series, DVA_QUOTA_SERIES_USER);
    dva_settings_free(&s);
    const char *set[] = {"MaxUsers", "200000", "QuotaSeries", "Top 25", NULL};
    assert_int_equal(configure(&s, &err, set), 0);
    assert_int_equal(s.max_users, 200000);
    assert_int_equal(s.quota_series, DVA_QUOTA_SERIES_TOP);
    assert_int_equal(s.quota_series_top, 25);
    dva_settings_free(&s);
    const char *domain[] = {"QuotaSeries", "domain", NULL};
    assert_int_equal(configure(&s, &err, domain), 0);
    assert_int_equal(s.quota_series, DVA_QUOTA_SERIES_DOMAIN);
    dva_settings_free(&s);
    const char *neg[] = {"MaxUsers", "-1", NULL};
    const char *neg_n[] = {"option MaxUsers", "\"-1\"", "0 (no bound)", NULL};
    expect_error(neg, neg_n);
    static const char *const bad[] = {"users",  "top",    "top 0",   "top 100001",
                                      "top 5x", "top  5", "per-user"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        const char *pairs[] = {"QuotaSeries", bad[i], NULL};
        const char *needles[] = {"option QuotaSeries", bad[i], "\"top N\"",
                                 "QuotaSeries \"domain\"", NULL};
        expect_error(pairs, needles);
    }
}

static void test_failure_below_warning(void **state)
{
    (void)state;
    const char *pairs[] = {"QuotaWarning", "95", "QuotaFailure", "90", NULL};
    const char *needles[] = {"QuotaFailure", "below QuotaWarning", NULL};
    expect_error(pairs, needles);
    dva_settings s;
    dva_error err;
    const char *off[] = {"QuotaWarning", "0", "QuotaFailure", "50", NULL};
    assert_int_equal(configure(&s, &err, off), 0);
    assert_true(s.quota_warning == 0);
    dva_settings_free(&s);
}

static void test_missing_value(void **state)
{
    (void)state;
    dva_config *c = dva_config_new("local");
    dva_error err;
    assert_int_equal(dva_config_set(c, "port", NULL, &err), -1);
    assert_non_null(strstr(err.message, "option Port needs a value"));
    assert_non_null(strstr(err.message, "Port 2425"));
    assert_int_equal(dva_config_set(c, "Prot", NULL, &err), -1);
    assert_non_null(strstr(err.message, "unknown option \"Prot\""));
    dva_config_free(c);
}

static void test_socket_path_too_long(void **state)
{
    (void)state;
    char path[200];
    memset(path, 'a', sizeof(path) - 1);
    path[0] = '/';
    path[sizeof(path) - 1] = '\0';
    const char *pairs[] = {"Socket", path, NULL};
    const char *needles[] = {"option Socket", "longer than", NULL};
    expect_error(pairs, needles);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_max_users_and_quota_series),
        cmocka_unit_test(test_every_option),
        cmocka_unit_test(test_names_ignore_case),
        cmocka_unit_test(test_unknown_option_suggests),
        cmocka_unit_test(test_wrong_types),
        cmocka_unit_test(test_ranges),
        cmocka_unit_test(test_socket_with_host),
        cmocka_unit_test(test_tcp_needs_password),
        cmocka_unit_test(test_port_without_host),
        cmocka_unit_test(test_repeated_single_option),
        cmocka_unit_test(test_password_never_in_messages),
        cmocka_unit_test(test_line_break_refused),
        cmocka_unit_test(test_unreadable_password_file),
        cmocka_unit_test(test_empty_password_file),
        cmocka_unit_test(test_password_file_without_newline_and_crlf),
        cmocka_unit_test(test_password_file_mode_warning),
        cmocka_unit_test(test_timeout_not_below_interval),
        cmocka_unit_test(test_failure_below_warning),
        cmocka_unit_test(test_quota_scan_options),
        cmocka_unit_test(test_missing_value),
        cmocka_unit_test(test_socket_path_too_long),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
