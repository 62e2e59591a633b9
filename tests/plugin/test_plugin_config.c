/* SPDX-License-Identifier: MIT */
/* The <Plugin dovecot> block -> settings (plugin_config.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "collectd_stubs.h"
#include "plugin_config.h"
#include "plugin_test_util.h"

static int setup(void **state)
{
    (void)state;
    stub_reset();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    stub_reset();
    return 0;
}

static char *write_temp(const char *content, mode_t mode)
{
    char *path = strdup("/tmp/dvp-config-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, content, strlen(content)), (ssize_t)strlen(content));
    close(fd);
    chmod(path, mode);
    return path;
}

/* Runs one block; returns the result and leaves the instances in *cfg. */
static int run_block(oconfig_item_t *root, dvp_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    int rc = dvp_config_block(cfg, root, 10.0);
    tu_ci_free(root);
    return rc;
}

/* Expects the block to be refused with an ERROR line holding every needle. */
static void expect_refused(oconfig_item_t *root, const char *const *needles)
{
    dvp_config cfg;
    if (run_block(root, &cfg) != -1) {
        stub_dump();
        fail_msg("the block was accepted");
    }
    assert_int_equal(cfg.ninstances, 0);
    for (size_t i = 0; needles[i] != NULL; i++) {
        if (stub_count_logs(LOG_ERR, needles[i]) == 0) {
            stub_dump();
            fail_msg("no ERROR line holds \"%s\"", needles[i]);
        }
    }
    for (size_t i = 0; i < stub_nlogs; i++)
        if (stub_logs[i].level == LOG_ERR)
            assert_memory_equal(stub_logs[i].text, "dovecot plugin: ", 16);
    dvp_config_free(&cfg);
}

static oconfig_item_t *instance(oconfig_item_t *root, const char *name)
{
    return tu_ci_str(tu_ci_child(root, "Instance"), name);
}

static void test_every_option(void **state)
{
    (void)state;
    char *pwfile = write_temp("s3cret\n", 0600);
    oconfig_item_t *root = tu_ci_new("Plugin");
    tu_ci_str(root, "dovecot");
    oconfig_item_t *in = instance(root, "mail1");
    tu_ci_opt(in, "Host", "127.0.0.1");
    tu_ci_num(tu_ci_child(in, "Port"), 2425);
    tu_ci_opt(in, "PasswordFile", pwfile);
    tu_ci_num(tu_ci_child(in, "Interval"), 30);
    tu_ci_num(tu_ci_child(in, "Timeout"), 2.5);
    tu_ci_bool(tu_ci_child(in, "CollectStats"), false);
    tu_ci_bool(tu_ci_child(in, "CollectWho"), true);
    tu_ci_bool(tu_ci_child(in, "CollectQuota"), true);
    tu_ci_str(tu_ci_str(tu_ci_child(in, "QuotaUser"), "alice@example.com"),
              "bob@example.com");
    tu_ci_opt(in, "QuotaUser", "carol@example.com");
    tu_ci_opt(in, "QuotaUsers", "*@example.org");
    tu_ci_num(tu_ci_child(in, "QuotaWarning"), 80);
    tu_ci_num(tu_ci_child(in, "QuotaFailure"), 95.5);
    tu_ci_bool(tu_ci_child(in, "CollectMailbox"), true);
    tu_ci_str(tu_ci_str(tu_ci_child(in, "Mailbox"), "INBOX"), "Sent*");
    tu_ci_opt(in, "ReportHost", "mail1.example.com");
    tu_ci_num(tu_ci_child(in, "Connections"), 4);
    oconfig_item_t *in2 = instance(root, "local");
    tu_ci_opt(in2, "Socket", "/run/dovecot/doveadm-server");

    dvp_config cfg;
    assert_int_equal(run_block(root, &cfg), 0);
    assert_int_equal(cfg.ninstances, 2);
    const dvp_instance_config *ic = &cfg.instances[0];
    const dva_settings *s = &ic->settings;
    assert_string_equal(s->name, "mail1");
    assert_string_equal(s->host, "127.0.0.1");
    assert_null(s->socket_path);
    assert_int_equal(s->port, 2425);
    assert_string_equal(s->password, "s3cret");
    assert_true(s->interval == 30 && s->timeout == 2.5);
    assert_true(ic->interval == 30 && ic->timeout == 2.5);
    assert_false(s->collect_stats);
    assert_true(s->collect_who && s->collect_quota && s->collect_mailbox);
    assert_int_equal(s->nquota_users, 3);
    assert_string_equal(s->quota_users[0], "alice@example.com");
    assert_string_equal(s->quota_users[1], "bob@example.com");
    assert_string_equal(s->quota_users[2], "carol@example.com");
    assert_int_equal(s->nquota_masks, 1);
    assert_true(s->quota_warning == 80 && s->quota_failure == 95.5);
    assert_int_equal(s->nmailboxes, 2);
    assert_string_equal(s->mailboxes[1], "Sent*");
    assert_string_equal(s->report_host, "mail1.example.com");
    assert_int_equal(s->connections, 4);

    s = &cfg.instances[1].settings;
    assert_string_equal(s->name, "local");
    assert_string_equal(s->socket_path, "/run/dovecot/doveadm-server");
    /* No Interval: collectd's (10 s); no Timeout: 80% of it. */
    assert_true(cfg.instances[1].interval == 10.0);
    assert_true(cfg.instances[1].timeout == 8.0);
    assert_int_equal(stub_count_logs(-1, ""), 0);
    dvp_config_free(&cfg);
    unlink(pwfile);
    free(pwfile);
}

static void test_value_text(void **state)
{
    (void)state;
    char buf[64];
    oconfig_value_t v = {.type = OCONFIG_TYPE_NUMBER};
    v.value.number = 2425;
    assert_string_equal(dvp_config_value_text(&v, buf, sizeof(buf)), "2425");
    v.value.number = 2.5;
    assert_string_equal(dvp_config_value_text(&v, buf, sizeof(buf)), "2.5");
    v.value.number = 0.1;
    assert_string_equal(dvp_config_value_text(&v, buf, sizeof(buf)), "0.1");
    v.value.number = -3;
    assert_string_equal(dvp_config_value_text(&v, buf, sizeof(buf)), "-3");
    v.value.number = 1e300;
    assert_string_equal(dvp_config_value_text(&v, buf, sizeof(buf)), "1e+300");
    oconfig_value_t b = {.type = OCONFIG_TYPE_BOOLEAN};
    b.value.boolean = 1;
    assert_string_equal(dvp_config_value_text(&b, buf, sizeof(buf)), "true");
    b.value.boolean = 0;
    assert_string_equal(dvp_config_value_text(&b, buf, sizeof(buf)), "false");
}

static void test_unknown_option(void **state)
{
    (void)state;
    oconfig_item_t *root = tu_ci_new("Plugin");
    tu_ci_opt(instance(root, "local"), "Sockt", "/x");
    const char *needles[] = {"instance \"local\"", "unknown option \"Sockt\"",
                             "did you mean Socket?", NULL};
    expect_refused(root, needles);
}

static void test_wrong_types(void **state)
{
    (void)state;
    oconfig_item_t *root = tu_ci_new("Plugin");
    tu_ci_opt(instance(root, "a"), "CollectWho", "maybe");
    const char *n1[] = {"option CollectWho", "\"maybe\"", "true or false", NULL};
    expect_refused(root, n1);

    root = tu_ci_new("Plugin");
    oconfig_item_t *in = instance(root, "b");
    tu_ci_opt(in, "Host", "mail");
    tu_ci_opt(in, "Password", "pw");
    tu_ci_bool(tu_ci_child(in, "Port"), true);
    const char *n2[] = {"option Port", "\"true\"", "whole number", NULL};
    expect_refused(root, n2);

    root = tu_ci_new("Plugin");
    tu_ci_bool(tu_ci_child(instance(root, "c"), "Timeout"), true);
    const char *n3[] = {"option Timeout", "seconds", NULL};
    expect_refused(root, n3);
}

static void test_every_error_reported(void **state)
{
    (void)state;
    oconfig_item_t *root = tu_ci_new("Plugin");
    oconfig_item_t *in = instance(root, "local");
    tu_ci_opt(in, "Frobnicate", "1");
    tu_ci_opt(in, "CollectWho", "maybe");
    tu_ci_opt(root, "Socket", "/x");
    const char *needles[] = {"Frobnicate", "CollectWho", "top of <Plugin dovecot>",
                             NULL};
    expect_refused(root, needles);
    assert_int_equal(stub_count_logs(LOG_ERR, ""), 3);
}

static void test_socket_with_host(void **state)
{
    (void)state;
    oconfig_item_t *root = tu_ci_new("Plugin");
    oconfig_item_t *in = instance(root, "local");
    tu_ci_opt(in, "Socket", "/run/dovecot/doveadm-server");
    tu_ci_opt(in, "Host", "mail.example.com");
    tu_ci_opt(in, "Password", "pw");
    const char *needles[] = {"Socket and Host", "not both", NULL};
    expect_refused(root, needles);
}

static void test_tcp_without_password(void **state)
{
    (void)state;
    oconfig_item_t *root = tu_ci_new("Plugin");
    tu_ci_opt(instance(root, "remote"), "Host", "mail.example.com");
    const char *needles[] = {"instance \"remote\"", "needs a password", "PasswordFile",
                             NULL};
    expect_refused(root, needles);
}

static void test_unreadable_password_file(void **state)
{
    (void)state;
    oconfig_item_t *root = tu_ci_new("Plugin");
    oconfig_item_t *in = instance(root, "remote");
    tu_ci_opt(in, "Host", "mail.example.com");
    tu_ci_opt(in, "PasswordFile", "/nonexistent/dovecot.pass");
    const char *needles[] = {"option PasswordFile", "/nonexistent/dovecot.pass",
                             "No such file", NULL};
    expect_refused(root, needles);
}

static void test_password_file_mode_warning(void **state)
{
    (void)state;
    char *pwfile = write_temp("topsecret\n", 0644);
    oconfig_item_t *root = tu_ci_new("Plugin");
    oconfig_item_t *in = instance(root, "remote");
    tu_ci_opt(in, "Host", "127.0.0.1");
    tu_ci_opt(in, "PasswordFile", pwfile);
    dvp_config cfg;
    assert_int_equal(run_block(root, &cfg), 0);
    assert_int_equal(cfg.ninstances, 1);
    assert_int_equal(stub_count_logs(LOG_WARNING, "chmod 600"), 1);
    assert_int_equal(stub_count_logs(LOG_WARNING, "dovecot plugin: "), 1);
    assert_false(stub_anywhere("topsecret"));
    dvp_config_free(&cfg);
    unlink(pwfile);
    free(pwfile);
}

static void test_password_never_logged(void **state)
{
    (void)state;
    oconfig_item_t *root = tu_ci_new("Plugin");
    oconfig_item_t *in = instance(root, "remote");
    tu_ci_opt(in, "Host", "mail.example.com");
    tu_ci_str(tu_ci_str(tu_ci_child(in, "Password"), "hunter2"), "hunter3");
    const char *needles[] = {"option Password takes one value", NULL};
    expect_refused(root, needles);
    assert_false(stub_anywhere("hunter"));

    stub_clear_captures();
    root = tu_ci_new("Plugin");
    in = instance(root, "remote");
    tu_ci_opt(in, "Password", "hunter2");
    tu_ci_opt(in, "Password", "hunter2");
    const char *needles2[] = {"Password is given more than once", NULL};
    expect_refused(root, needles2);
    assert_false(stub_anywhere("hunter"));
}

static void test_duplicate_instance(void **state)
{
    (void)state;
    oconfig_item_t *root = tu_ci_new("Plugin");
    instance(root, "local");
    instance(root, "local");
    const char *needles[] = {"instance \"local\" is defined twice", NULL};
    expect_refused(root, needles);

    /* Across two <Plugin dovecot> blocks. */
    stub_clear_captures();
    dvp_config cfg = {0};
    root = tu_ci_new("Plugin");
    instance(root, "local");
    assert_int_equal(dvp_config_block(&cfg, root, 10.0), 0);
    tu_ci_free(root);
    root = tu_ci_new("Plugin");
    instance(root, "local");
    assert_int_equal(dvp_config_block(&cfg, root, 10.0), -1);
    tu_ci_free(root);
    assert_int_equal(cfg.ninstances, 1);
    assert_int_equal(stub_count_logs(LOG_ERR, "defined twice"), 1);
    dvp_config_free(&cfg);
}

static void test_option_outside_instance(void **state)
{
    (void)state;
    oconfig_item_t *root = tu_ci_new("Plugin");
    tu_ci_opt(root, "Socket", "/run/dovecot/doveadm-server");
    const char *needles[] = {"option \"Socket\"", "<Instance \"name\">", NULL};
    expect_refused(root, needles);
}

static void test_bad_instance_names(void **state)
{
    (void)state;
    oconfig_item_t *root = tu_ci_new("Plugin");
    tu_ci_child(root, "Instance");
    const char *n1[] = {"<Instance> needs exactly one name", NULL};
    expect_refused(root, n1);

    root = tu_ci_new("Plugin");
    instance(root, "");
    const char *n2[] = {"empty name", NULL};
    expect_refused(root, n2);

    root = tu_ci_new("Plugin");
    tu_ci_num(tu_ci_child(root, "Instance"), 1);
    const char *n3[] = {"exactly one name", "a number", NULL};
    expect_refused(root, n3);

    root = tu_ci_new("Plugin");
    instance(root, "mail/1");
    const char *n4[] = {"<Instance \"mail/1\">", "letters, digits", NULL};
    expect_refused(root, n4);
}

static void test_nested_block(void **state)
{
    (void)state;
    oconfig_item_t *root = tu_ci_new("Plugin");
    oconfig_item_t *in = instance(root, "local");
    oconfig_item_t *nested = tu_ci_str(tu_ci_child(in, "Instance"), "inner");
    tu_ci_opt(nested, "Socket", "/x");
    const char *needles[] = {"instance \"local\"", "<Instance> blocks are not allowed",
                             NULL};
    expect_refused(root, needles);
}

static void test_option_without_value(void **state)
{
    (void)state;
    oconfig_item_t *root = tu_ci_new("Plugin");
    tu_ci_child(instance(root, "local"), "Socket");
    const char *needles[] = {"option Socket needs a value", NULL};
    expect_refused(root, needles);
}

static void test_multiple_values_single_option(void **state)
{
    (void)state;
    oconfig_item_t *root = tu_ci_new("Plugin");
    tu_ci_str(tu_ci_str(tu_ci_child(instance(root, "local"), "Socket"), "/a"), "/b");
    const char *needles[] = {"option Socket takes one value, but 2 are given", NULL};
    expect_refused(root, needles);
}

static void test_names_ignore_case(void **state)
{
    (void)state;
    oconfig_item_t *root = tu_ci_new("Plugin");
    oconfig_item_t *in = tu_ci_str(tu_ci_child(root, "instance"), "local");
    tu_ci_opt(in, "socket", "/tmp/x.sock");
    tu_ci_str(tu_ci_str(tu_ci_child(in, "QUOTAUSER"), "a@example.com"),
              "b@example.com");
    tu_ci_bool(tu_ci_child(in, "collectwho"), false);
    dvp_config cfg;
    assert_int_equal(run_block(root, &cfg), 0);
    assert_int_equal(cfg.ninstances, 1);
    const dva_settings *s = &cfg.instances[0].settings;
    assert_string_equal(s->socket_path, "/tmp/x.sock");
    assert_int_equal(s->nquota_users, 2);
    assert_false(s->collect_who);
    dvp_config_free(&cfg);
}

static void test_timeout_not_below_interval(void **state)
{
    (void)state;
    /* Against collectd's interval (10 s in run_block). */
    oconfig_item_t *root = tu_ci_new("Plugin");
    tu_ci_num(tu_ci_child(instance(root, "local"), "Timeout"), 15);
    const char *n1[] = {"instance \"local\"", "Timeout 15 seconds",
                        "interval of 10 seconds", "collectd's Interval", NULL};
    expect_refused(root, n1);

    /* Against its own Interval (the schema checks it). */
    root = tu_ci_new("Plugin");
    oconfig_item_t *in = instance(root, "local");
    tu_ci_num(tu_ci_child(in, "Interval"), 10);
    tu_ci_num(tu_ci_child(in, "Timeout"), 10);
    const char *n2[] = {"option Timeout", "not below the Interval", NULL};
    expect_refused(root, n2);

    /* Timeout alone below collectd's interval: fine; above Interval 30 too. */
    root = tu_ci_new("Plugin");
    in = instance(root, "local");
    tu_ci_num(tu_ci_child(in, "Interval"), 30);
    tu_ci_num(tu_ci_child(in, "Timeout"), 15);
    dvp_config cfg;
    assert_int_equal(run_block(root, &cfg), 0);
    assert_true(cfg.instances[0].interval == 30 && cfg.instances[0].timeout == 15);
    dvp_config_free(&cfg);
}

static void test_interval_default_timeout(void **state)
{
    (void)state;
    oconfig_item_t *root = tu_ci_new("Plugin");
    tu_ci_num(tu_ci_child(instance(root, "local"), "Interval"), 60);
    dvp_config cfg;
    assert_int_equal(run_block(root, &cfg), 0);
    assert_true(cfg.instances[0].interval == 60);
    assert_true(cfg.instances[0].timeout == 48);
    dvp_config_free(&cfg);
}

static void test_collects_nothing(void **state)
{
    (void)state;
    oconfig_item_t *root = tu_ci_new("Plugin");
    oconfig_item_t *in = instance(root, "local");
    tu_ci_bool(tu_ci_child(in, "CollectStats"), false);
    tu_ci_bool(tu_ci_child(in, "CollectWho"), false);
    tu_ci_bool(tu_ci_child(in, "CollectServices"), false);
    const char *needles[] = {"instance \"local\" collects nothing", NULL};
    expect_refused(root, needles);
}

static void test_report_host_checked(void **state)
{
    (void)state;
    oconfig_item_t *root = tu_ci_new("Plugin");
    tu_ci_opt(instance(root, "local"), "ReportHost", "mail 1/x");
    const char *needles[] = {"option ReportHost", NULL};
    expect_refused(root, needles);

    char longname[200];
    memset(longname, 'h', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    root = tu_ci_new("Plugin");
    tu_ci_opt(instance(root, "local"), "ReportHost", longname);
    expect_refused(root, needles);
}

static void test_default_instance(void **state)
{
    (void)state;
    dvp_config cfg = {0};
    assert_int_equal(dvp_config_default(&cfg, 20.0), 0);
    assert_int_equal(cfg.ninstances, 1);
    assert_string_equal(cfg.instances[0].settings.name, "local");
    assert_string_equal(cfg.instances[0].settings.socket_path, DVA_DEFAULT_SOCKET);
    assert_true(cfg.instances[0].interval == 20 && cfg.instances[0].timeout == 16);
    dvp_config_free(&cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_every_option, setup, teardown),
        cmocka_unit_test_setup_teardown(test_value_text, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_option, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wrong_types, setup, teardown),
        cmocka_unit_test_setup_teardown(test_every_error_reported, setup, teardown),
        cmocka_unit_test_setup_teardown(test_socket_with_host, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tcp_without_password, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unreadable_password_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_password_file_mode_warning, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_password_never_logged, setup, teardown),
        cmocka_unit_test_setup_teardown(test_duplicate_instance, setup, teardown),
        cmocka_unit_test_setup_teardown(test_option_outside_instance, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_instance_names, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nested_block, setup, teardown),
        cmocka_unit_test_setup_teardown(test_option_without_value, setup, teardown),
        cmocka_unit_test_setup_teardown(test_multiple_values_single_option, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_names_ignore_case, setup, teardown),
        cmocka_unit_test_setup_teardown(test_timeout_not_below_interval, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_interval_default_timeout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_collects_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_report_host_checked, setup, teardown),
        cmocka_unit_test_setup_teardown(test_default_instance, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
