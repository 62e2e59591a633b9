/* SPDX-License-Identifier: MIT */
/* The TLS options of the schema and the cleartext-password guard. */
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

#define CA_FILE DVA_TEST_DATA_DIR "/tls/ca.pem"

static char warned[1024];

/* Applies option/value pairs, then finishes; returns the first failure. */
static int configure(dva_settings *s, dva_error *err, const char *const *pairs)
{
    return dva_test_configure("remote", pairs, s, err, warned, sizeof(warned));
}

static void expect_error(const char *const *pairs, const char *const *needles)
{
    dva_settings s;
    dva_error err;
    assert_int_equal(configure(&s, &err, pairs), -1);
    dva_test_expect_usage_error(&err, needles);
    /* Never the password. */
    assert_null(strstr(err.message, "s3cret"));
}

static void expect_ok(const char *const *pairs, dva_settings *s)
{
    dva_error err;
    if (configure(s, &err, pairs) != 0)
        fail_msg("refused: %s", err.message);
}

static void test_defaults_are_plain_and_verifying(void **state)
{
    (void)state;
    dva_settings s;
    const char *pairs[] = {NULL};
    expect_ok(pairs, &s);
    assert_int_equal(s.tls, DVA_TLS_NONE);
    assert_true(s.verify_peer);
    assert_true(s.verify_host);
    assert_false(s.allow_cleartext_password);
    assert_null(s.ca_cert);
    assert_null(s.server_name);
    dva_settings_free(&s);
}

static void test_tls_options_read(void **state)
{
    (void)state;
    dva_settings s;
    const char *pairs[] = {
        "Host", "mail.example.com", "Password", "s3cret",     "TLS",
        "TLS",  "CACert",           CA_FILE,    "ServerName", "imap.example.com",
        NULL};
    expect_ok(pairs, &s);
    assert_int_equal(s.tls, DVA_TLS_IMMEDIATE);
    assert_string_equal(s.ca_cert, CA_FILE);
    assert_string_equal(s.server_name, "imap.example.com");
    assert_true(s.verify_peer && s.verify_host);
    assert_string_equal(warned, "");
    dva_tls_options o = dva_settings_tls_options(&s);
    assert_int_equal(o.mode, DVA_TLS_IMMEDIATE);
    assert_string_equal(o.ca_file, CA_FILE);
    assert_false(o.skip_verify_peer || o.skip_verify_host);
    dva_settings_free(&s);

    const char *starttls[] = {"Host", "mail.example.com", "Password", "s3cret",
                              "tls",  "starttls",         NULL};
    expect_ok(starttls, &s);
    assert_int_equal(s.tls, DVA_TLS_STARTTLS);
    dva_settings_free(&s);
}

static void test_bad_tls_value(void **state)
{
    (void)state;
    const char *pairs[] = {"TLS", "ssl", NULL};
    const char *needles[] = {"instance \"remote\"", "option TLS", "\"ssl\"",
                             "\"none\", \"starttls\" or \"tls\"", NULL};
    expect_error(pairs, needles);
}

static void test_ca_cert_missing(void **state)
{
    (void)state;
    const char *pairs[] = {
        "Host",   "mail.example.com",    "Password", "s3cret", "TLS", "tls",
        "CACert", "/nonexistent/ca.pem", NULL};
    const char *needles[] = {"option CACert", "/nonexistent/ca.pem", "No such file",
                             "PEM", NULL};
    expect_error(pairs, needles);
}

static void test_ca_cert_not_pem(void **state)
{
    (void)state;
    char path[] = "/tmp/dva-ca-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "not a certificate\n", 18), 18);
    close(fd);
    const char *pairs[] = {"Host", "mail.example.com", "Password", "s3cret", "TLS",
                           "tls",  "CACert",           path,       NULL};
    const char *needles[] = {"option CACert", path, "cannot load", NULL};
    expect_error(pairs, needles);
    unlink(path);
}

static void test_tls_needs_host(void **state)
{
    (void)state;
    const char *pairs[] = {"Socket", "/run/dovecot/doveadm-server", "TLS", "tls", NULL};
    const char *needles[] = {"option TLS \"tls\" needs Host", NULL};
    expect_error(pairs, needles);
}

static void test_tls_option_without_tls(void **state)
{
    (void)state;
    const char *pairs[] = {"Host",   "localhost", "Password", "s3cret",
                           "CACert", CA_FILE,     NULL};
    const char *needles[] = {"option CACert applies only to TLS", "TLS \"tls\"", NULL};
    expect_error(pairs, needles);
    const char *pairs2[] = {"Host",       "localhost", "Password", "s3cret",
                            "VerifyPeer", "false",     NULL};
    const char *needles2[] = {"option VerifyPeer applies only to TLS", NULL};
    expect_error(pairs2, needles2);
}

static void test_cleartext_refused(void **state)
{
    (void)state;
    const char *pairs[] = {"Host", "mail.example.com", "Password", "s3cret", NULL};
    const char *needles[] = {"instance \"remote\"",
                             "option TLS is \"none\"",
                             "Host \"mail.example.com\"",
                             "unencrypted",
                             "TLS \"tls\"",
                             "AllowCleartextPassword true",
                             NULL};
    expect_error(pairs, needles);
}

static void test_cleartext_opt_in(void **state)
{
    (void)state;
    dva_settings s;
    const char *pairs[] = {"Host",   "mail.example.com",       "Password",
                           "s3cret", "AllowCleartextPassword", "true",
                           NULL};
    expect_ok(pairs, &s);
    assert_true(s.allow_cleartext_password);
    assert_int_equal(s.tls, DVA_TLS_NONE);
    dva_settings_free(&s);
}

static void test_loopback_needs_no_tls(void **state)
{
    (void)state;
    static const char *const loopback[] = {"127.0.0.1",       "127.1.2.3", "::1",
                                           "[::1]",           "localhost", "LocalHost",
                                           "::ffff:127.0.0.1"};
    for (size_t i = 0; i < sizeof(loopback) / sizeof(loopback[0]); i++) {
        dva_settings s;
        const char *pairs[] = {"Host", loopback[i], "Password", "s3cret", NULL};
        expect_ok(pairs, &s);
        dva_settings_free(&s);
    }
    static const char *const remote[] = {
        "128.0.0.1",      "10.0.0.1", "::2", "[::2]", "localhost.example.com",
        "::ffff:10.0.0.1"};
    for (size_t i = 0; i < sizeof(remote) / sizeof(remote[0]); i++) {
        const char *pairs[] = {"Host", remote[i], "Password", "s3cret", NULL};
        const char *needles[] = {"AllowCleartextPassword", remote[i], NULL};
        expect_error(pairs, needles);
    }
}

static void test_verify_off_warns(void **state)
{
    (void)state;
    dva_settings s;
    const char *pairs[] = {"Host", "mail.example.com", "Password", "s3cret", "TLS",
                           "tls",  "VerifyPeer",       "false",    NULL};
    expect_ok(pairs, &s);
    assert_false(s.verify_peer);
    assert_non_null(strstr(warned, "VerifyPeer false"));
    assert_non_null(strstr(warned, "CACert"));
    dva_tls_options o = dva_settings_tls_options(&s);
    assert_int_equal(o.mode, DVA_TLS_IMMEDIATE);
    assert_true(o.skip_verify_peer);
    assert_false(o.skip_verify_host);
    assert_null(o.ca_file);
    dva_settings_free(&s);

    const char *host_off[] = {"Host", "mail.example.com", "Password",   "s3cret",
                              "TLS",  "starttls",         "VerifyHost", "false",
                              NULL};
    expect_ok(host_off, &s);
    assert_false(s.verify_host);
    assert_non_null(strstr(warned, "VerifyHost false"));
    dva_settings_free(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_are_plain_and_verifying),
        cmocka_unit_test(test_tls_options_read),
        cmocka_unit_test(test_bad_tls_value),
        cmocka_unit_test(test_ca_cert_missing),
        cmocka_unit_test(test_ca_cert_not_pem),
        cmocka_unit_test(test_tls_needs_host),
        cmocka_unit_test(test_tls_option_without_tls),
        cmocka_unit_test(test_cleartext_refused),
        cmocka_unit_test(test_cleartext_opt_in),
        cmocka_unit_test(test_loopback_needs_no_tls),
        cmocka_unit_test(test_verify_off_warns),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
