/* SPDX-License-Identifier: MIT */
/* The plugin as collectd drives it (dovecot.c): module_register, the config
 * and init callbacks, one read per instance, and whole reads against a fake
 * doveadm server answering with replies captured from Dovecot 2.3.19. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collectd_stubs.h"
#include "doveadm/settings.h"
#include "plugin_test_util.h"

void module_register(void);

static int setup(void **state)
{
    (void)state;
    stub_reset();
    module_register();
    assert_non_null(stub_config_cb);
    assert_non_null(stub_init_cb);
    assert_non_null(stub_shutdown_cb);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    if (stub_shutdown_cb != NULL)
        stub_shutdown_cb();
    stub_reset(); /* frees the instances through their free function */
    return 0;
}

static int configure(oconfig_item_t *root)
{
    int rc = stub_config_cb(root);
    tu_ci_free(root);
    return rc;
}

static const stub_read *find_read(const char *name)
{
    for (size_t i = 0; i < stub_nreads; i++)
        if (strcmp(stub_reads[i].name, name) == 0)
            return &stub_reads[i];
    return NULL;
}

static int read_instance(const char *name)
{
    stub_read *r = (stub_read *)find_read(name);
    assert_non_null(r);
    return r->callback(&r->user_data);
}

static void expect_gauge(const char *type, const char *ti, double want)
{
    const stub_value *v = stub_find(type, ti);
    if (v == NULL) {
        stub_dump();
        fail_msg("no value %s-%s", type, ti);
    }
    if (fabs(v->value.gauge - want) > 1e-9)
        fail_msg("%s-%s is %.17g, expected %.17g", type, ti, v->value.gauge, want);
}

static void test_default_instance(void **state)
{
    (void)state;
    /* `LoadPlugin dovecot` and no <Plugin dovecot> block. */
    assert_int_equal(stub_init_cb(), 0);
    assert_int_equal(stub_nreads, 1);
    assert_string_equal(stub_reads[0].name, "dovecot/local");
    assert_int_equal(stub_reads[0].interval, TIME_T_TO_CDTIME_T_STATIC(10));
    assert_non_null(stub_reads[0].user_data.data);
    assert_non_null(stub_reads[0].user_data.free_func);
    assert_int_equal(stub_count_logs(LOG_INFO, DVA_DEFAULT_SOCKET), 1);
}

static void test_one_read_per_instance(void **state)
{
    (void)state;
    oconfig_item_t *root = tu_ci_new("Plugin");
    tu_ci_opt(tu_ci_str(tu_ci_child(root, "Instance"), "a"), "Socket", "/tmp/a.sock");
    oconfig_item_t *b = tu_ci_str(tu_ci_child(root, "Instance"), "b");
    tu_ci_opt(b, "Socket", "/tmp/b.sock");
    tu_ci_num(tu_ci_child(b, "Interval"), 30);
    assert_int_equal(configure(root), 0);
    /* A second <Plugin dovecot> block adds to the first. */
    root = tu_ci_new("Plugin");
    tu_ci_opt(tu_ci_str(tu_ci_child(root, "Instance"), "c"), "Socket", "/tmp/c.sock");
    assert_int_equal(configure(root), 0);
    assert_int_equal(stub_nreads, 0); /* registered at init */
    assert_int_equal(stub_init_cb(), 0);
    assert_int_equal(stub_nreads, 3);
    assert_int_equal(find_read("dovecot/a")->interval, TIME_T_TO_CDTIME_T_STATIC(10));
    assert_int_equal(find_read("dovecot/b")->interval, TIME_T_TO_CDTIME_T_STATIC(30));
    assert_non_null(find_read("dovecot/c"));
    assert_null(find_read("dovecot/local"));
    /* init runs once */
    assert_int_equal(stub_init_cb(), 0);
    assert_int_equal(stub_nreads, 3);
}

static void test_config_error_refuses_start(void **state)
{
    (void)state;
    oconfig_item_t *root = tu_ci_new("Plugin");
    tu_ci_opt(tu_ci_str(tu_ci_child(root, "Instance"), "a"), "Sockett", "/x");
    assert_int_equal(configure(root), -1);
    assert_int_equal(stub_count_logs(LOG_ERR, "dovecot plugin: instance \"a\": unknown "
                                              "option \"Sockett\""),
                     1);
    /* No default instance sneaks in after a broken configuration. */
    assert_int_equal(stub_init_cb(), -1);
    assert_int_equal(stub_nreads, 0);
}

static void test_server_missing_reads_zero(void **state)
{
    (void)state;
    oconfig_item_t *root = tu_ci_new("Plugin");
    tu_ci_opt(tu_ci_str(tu_ci_child(root, "Instance"), "gone"), "Socket",
              "/nonexistent/dovecot/doveadm-server");
    assert_int_equal(configure(root), 0);
    assert_int_equal(stub_init_cb(), 0);
    stub_clear_captures();
    for (int i = 0; i < 3; i++)
        assert_int_equal(read_instance("dovecot/gone"), 0); /* no backoff */
    assert_int_equal(stub_nvalues, 3 * 2); /* bool-up and duration-read */
    const stub_value *up = stub_find("bool", "up");
    assert_non_null(up);
    assert_true(up->value.gauge == 0);
    assert_string_equal(up->vl.plugin_instance, "gone");
    assert_string_equal(up->vl.host, "");
    assert_int_equal(up->vl.interval, TIME_T_TO_CDTIME_T_STATIC(10));
    assert_int_equal(stub_count_notifications(NOTIF_FAILURE, "/nonexistent/dovecot"),
                     1);
    assert_int_equal(stub_count_logs(LOG_ERR, "instance \"gone\""), 1);
    assert_int_equal(stub_nlogs, 1);
}

static void test_full_read_over_unix_socket(void **state)
{
    (void)state;
    tu_server *server = tu_server_start(false, NULL);
    oconfig_item_t *root = tu_ci_new("Plugin");
    oconfig_item_t *in = tu_ci_str(tu_ci_child(root, "Instance"), "local");
    tu_ci_opt(in, "Socket", tu_server_path(server));
    tu_ci_str(tu_ci_str(tu_ci_str(tu_ci_child(in, "QuotaUser"), "alice@example.com"),
                        "bob@example.com"),
              "carol@example.com");
    tu_ci_bool(tu_ci_child(in, "CollectMailbox"), true);
    tu_ci_opt(in, "ReportHost", "mail1");
    assert_int_equal(configure(root), 0);
    assert_int_equal(stub_init_cb(), 0);
    stub_clear_captures();

    assert_int_equal(read_instance("dovecot/local"), 0);
    expect_gauge("bool", "up", 1);
    const stub_value *v = stub_find("derive", "imap_command");
    assert_non_null(v);
    assert_int_equal(v->value.derive, 46);
    assert_string_equal(v->vl.host, "mail1");
    assert_string_equal(v->vl.plugin, "dovecot");
    assert_string_equal(v->vl.plugin_instance, "local");
    expect_gauge("gauge", "imap_command_SELECT-avg_us", 1945.33);
    expect_gauge("users", "", 2);
    expect_gauge("current_sessions", "imap", 3);
    expect_gauge("bytes", "alice@example.com-User_quota-used", 29 * 1024.0);
    expect_gauge("bytes", "alice@example.com-User_quota-limit", 10240 * 1024.0);
    expect_gauge("percent", "bob@example.com-User_quota-storage", 93);
    expect_gauge("bytes", "carol@example.com-User_quota-used", 7 * 1024.0);
    assert_null(stub_find("bytes", "carol@example.com-User_quota-limit"));
    expect_gauge("email_count", "alice@example.com-INBOX-messages", 6);
    expect_gauge("email_size", "alice@example.com-INBOX", 29500);
    /* bob crossed the warning level; his and carol's mailbox status
     * failed (the fake server has none for them): logged once each. */
    assert_int_equal(stub_count_notifications(NOTIF_WARNING, "bob@example.com"), 1);
    assert_string_equal(stub_notifications[0].host, "mail1");
    assert_int_equal(stub_count_logs(LOG_WARNING, "mailbox status of user"), 2);

    stub_clear_captures();
    assert_int_equal(read_instance("dovecot/local"), 0);
    assert_int_equal(stub_nnotifications, 0);
    assert_int_equal(stub_nlogs, 0);
    expect_gauge("bool", "up", 1);
    tu_server_stop(server);
}

/* The entries of dir (one level), or -1. */
static int count_entries(const char *dir, char *first, size_t size)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if (n++ == 0 && first != NULL)
            snprintf(first, size, "%s/%s", dir, e->d_name);
    }
    closedir(d);
    return n;
}

static void test_quota_scan_refused_falls_back_to_per_user(void **state)
{
    (void)state;
    char parent[] = "/tmp/dvp-scan-test.XXXXXX";
    assert_non_null(mkdtemp(parent));
    /* The fake server answers `quota get -F` with a bare "-", as a server
     * without the quota plugin would: every user is read alone. */
    tu_server *server = tu_server_start(false, NULL);
    oconfig_item_t *root = tu_ci_new("Plugin");
    oconfig_item_t *in = tu_ci_str(tu_ci_child(root, "Instance"), "local");
    tu_ci_opt(in, "Socket", tu_server_path(server));
    tu_ci_str(tu_ci_str(tu_ci_child(in, "QuotaUser"), "alice@example.com"),
              "carol@example.com");
    tu_ci_opt(in, "QuotaScanDir", parent);
    assert_int_equal(configure(root), 0);
    assert_int_equal(stub_init_cb(), 0);

    /* The instance's private directory: one, mode 0700. */
    char dir[512] = "";
    assert_int_equal(count_entries(parent, dir, sizeof(dir)), 1);
    struct stat st;
    assert_int_equal(stat(dir, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0700);

    for (int read = 0; read < 2; read++) {
        stub_clear_captures();
        assert_int_equal(read_instance("dovecot/local"), 0);
        expect_gauge("bytes", "alice@example.com-User_quota-used", 29 * 1024.0);
        expect_gauge("bytes", "carol@example.com-User_quota-used", 7 * 1024.0);
        /* Logged once, not every read. */
        assert_int_equal(stub_count_logs(LOG_WARNING, "server-side quota scan"),
                         read == 0 ? 1 : 0);
        /* No user-list file is left behind. */
        assert_int_equal(count_entries(dir, NULL, 0), 0);
    }
    stub_shutdown_cb();
    stub_reset(); /* frees the instance: its directory goes */
    assert_int_equal(count_entries(parent, NULL, 0), 0);
    assert_int_equal(rmdir(parent), 0);
    tu_server_stop(server);
}

/* DovecotVersion 2.4 reads `QuotaUsers "*"` with one `quota get -A`
 * without a user. This server answers it with a bare "-" (as one that
 * does not iterate users would): the same read lists the users and asks
 * each one, and says so once. */
static void test_all_user_quota_refused_lists_users(void **state)
{
    (void)state;
    tu_server *server = tu_server_start(false, NULL);
    oconfig_item_t *root = tu_ci_new("Plugin");
    oconfig_item_t *in = tu_ci_str(tu_ci_child(root, "Instance"), "v24");
    tu_ci_opt(in, "Socket", tu_server_path(server));
    tu_ci_opt(in, "DovecotVersion", "2.4");
    tu_ci_opt(in, "QuotaUsers", "*");
    tu_ci_opt(in, "QuotaScan", "false");
    assert_int_equal(configure(root), 0);
    assert_int_equal(stub_init_cb(), 0);
    for (int read = 0; read < 2; read++) {
        stub_clear_captures();
        assert_int_equal(read_instance("dovecot/v24"), 0);
        expect_gauge("bytes", "alice@example.com-User_quota-used", 29 * 1024.0);
        expect_gauge("bytes", "carol@example.com-User_quota-used", 7 * 1024.0);
        assert_int_equal(stub_count_logs(LOG_NOTICE, "did not list every user"),
                         read == 0 ? 1 : 0);
    }
    tu_server_stop(server);
}

static void test_quota_interval_spreads_users_over_reads(void **state)
{
    (void)state;
    static const char *const users[] = {"alice@example.com", "bob@example.com",
                                        "carol@example.com"};
    tu_server *server = tu_server_start(false, NULL);
    oconfig_item_t *root = tu_ci_new("Plugin");
    oconfig_item_t *in = tu_ci_str(tu_ci_child(root, "Instance"), "local");
    tu_ci_opt(in, "Socket", tu_server_path(server));
    tu_ci_str(tu_ci_str(tu_ci_str(tu_ci_child(in, "QuotaUser"), users[0]), users[1]),
              users[2]);
    tu_ci_opt(in, "QuotaScan", "false");
    tu_ci_num(tu_ci_child(in, "Interval"), 10);
    tu_ci_num(tu_ci_child(in, "QuotaInterval"), 35); /* 3 reads */
    assert_int_equal(configure(root), 0);
    assert_int_equal(stub_init_cb(), 0);

    int times_read[3] = {0};
    for (int read = 0; read < 6; read++) {
        stub_clear_captures();
        assert_int_equal(read_instance("dovecot/local"), 0);
        const stub_value *up = stub_find("bool", "up");
        assert_non_null(up);
        assert_true(up->vl.interval == TIME_T_TO_CDTIME_T(10));
        for (int u = 0; u < 3; u++) {
            char ti[128];
            snprintf(ti, sizeof(ti), "%s-User_quota-used", users[u]);
            const stub_value *v = stub_find("bytes", ti);
            if (v == NULL)
                continue;
            times_read[u]++;
            /* The series' period is QuotaInterval: no gaps in graphs. */
            assert_true(v->vl.interval == DOUBLE_TO_CDTIME_T(35.0));
            assert_int_equal(dva_scrape_user_slice(users[u], 3), read % 3);
        }
    }
    /* Every user once per QuotaInterval (3 reads), so twice in 6 reads. */
    for (int u = 0; u < 3; u++)
        assert_int_equal(times_read[u], 2);
    tu_server_stop(server);
}

static void test_quota_interval_refused_outside_its_range(void **state)
{
    (void)state;
    const double bad[] = {5, 10 * 51};
    for (size_t i = 0; i < 2; i++) {
        oconfig_item_t *root = tu_ci_new("Plugin");
        oconfig_item_t *in = tu_ci_str(tu_ci_child(root, "Instance"), "local");
        tu_ci_num(tu_ci_child(in, "Interval"), 10);
        tu_ci_num(tu_ci_child(in, "QuotaInterval"), bad[i]);
        assert_int_equal(configure(root), -1);
        assert_int_equal(stub_count_logs(LOG_ERR, "QuotaInterval"), i + 1);
    }
}

static void test_tcp_password(void **state)
{
    (void)state;
    tu_server *server = tu_server_start(true, "right-password");
    char port[16];
    snprintf(port, sizeof(port), "%u", tu_server_port(server));
    oconfig_item_t *root = tu_ci_new("Plugin");
    oconfig_item_t *ok = tu_ci_str(tu_ci_child(root, "Instance"), "ok");
    tu_ci_opt(ok, "Host", "127.0.0.1");
    tu_ci_num(tu_ci_child(ok, "Port"), tu_server_port(server));
    tu_ci_opt(ok, "Password", "right-password");
    oconfig_item_t *bad = tu_ci_str(tu_ci_child(root, "Instance"), "bad");
    tu_ci_opt(bad, "Host", "127.0.0.1");
    tu_ci_opt(bad, "Port", port);
    tu_ci_opt(bad, "Password", "wrong-password");
    assert_int_equal(configure(root), 0);
    assert_int_equal(stub_init_cb(), 0);
    stub_clear_captures();

    assert_int_equal(read_instance("dovecot/ok"), 0);
    expect_gauge("users", "imap", 2);
    stub_clear_captures();
    assert_int_equal(read_instance("dovecot/bad"), 0);
    expect_gauge("bool", "up", 0);
    assert_int_equal(stub_count_notifications(NOTIF_FAILURE, "password"), 1);
    assert_false(stub_anywhere("wrong-password"));
    assert_false(stub_anywhere("right-password"));
    tu_server_stop(server);
}

/* A Host name: the instance looks it up once, in the background, and
 * every read uses the answer ("localhost": no DNS, /etc/hosts). */
static void test_tcp_host_name(void **state)
{
    (void)state;
    tu_server *server = tu_server_start(true, "right-password");
    oconfig_item_t *root = tu_ci_new("Plugin");
    oconfig_item_t *in = tu_ci_str(tu_ci_child(root, "Instance"), "byname");
    tu_ci_opt(in, "Host", "localhost");
    tu_ci_num(tu_ci_child(in, "Port"), tu_server_port(server));
    tu_ci_opt(in, "Password", "right-password");
    assert_int_equal(configure(root), 0);
    assert_int_equal(stub_init_cb(), 0);
    for (int i = 0; i < 2; i++) {
        stub_clear_captures();
        assert_int_equal(read_instance("dovecot/byname"), 0);
        expect_gauge("users", "imap", 2);
    }
    tu_server_stop(server);
}

static void test_unneeded_password_warned_once(void **state)
{
    (void)state;
    tu_server *server = tu_server_start(false, NULL);
    oconfig_item_t *root = tu_ci_new("Plugin");
    oconfig_item_t *in = tu_ci_str(tu_ci_child(root, "Instance"), "local");
    tu_ci_opt(in, "Socket", tu_server_path(server));
    tu_ci_opt(in, "Password", "not-needed-pw");
    assert_int_equal(configure(root), 0);
    assert_int_equal(stub_init_cb(), 0);
    stub_clear_captures();
    for (int i = 0; i < 3; i++)
        assert_int_equal(read_instance("dovecot/local"), 0);
    /* stats and who connections both warn, on every read: logged once. */
    assert_int_equal(stub_count_logs(LOG_WARNING, "instance \"local\""), 1);
    assert_int_equal(stub_count_logs(LOG_WARNING, "password"), 1);
    assert_false(stub_anywhere("not-needed-pw"));
    assert_true(tu_server_connections(server) >= 6);
    tu_server_stop(server);
}

static void test_shutdown_then_again(void **state)
{
    (void)state;
    oconfig_item_t *root = tu_ci_new("Plugin");
    tu_ci_opt(tu_ci_str(tu_ci_child(root, "Instance"), "a"), "Sockett", "/x");
    assert_int_equal(configure(root), -1);
    assert_int_equal(stub_shutdown_cb(), 0);
    /* A fresh start (collectd restarted in the same process, as in tests). */
    root = tu_ci_new("Plugin");
    tu_ci_opt(tu_ci_str(tu_ci_child(root, "Instance"), "a"), "Socket", "/x");
    assert_int_equal(configure(root), 0);
    assert_int_equal(stub_init_cb(), 0);
    assert_int_equal(stub_nreads, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_default_instance, setup, teardown),
        cmocka_unit_test_setup_teardown(test_one_read_per_instance, setup, teardown),
        cmocka_unit_test_setup_teardown(test_config_error_refuses_start, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_server_missing_reads_zero, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_full_read_over_unix_socket, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_quota_scan_refused_falls_back_to_per_user,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_all_user_quota_refused_lists_users, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_quota_interval_spreads_users_over_reads,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_quota_interval_refused_outside_its_range,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_tcp_password, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tcp_host_name, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unneeded_password_warned_once, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_shutdown_then_again, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
