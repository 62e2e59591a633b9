/* SPDX-License-Identifier: MIT */
/* Faults: the plugin's real read callback (dovecot.c, with the library's
 * real scrape over real sockets) against a scripted fake doveadm server
 * (fault_server.c) that misbehaves in every way issue 4 lists and a real
 * Dovecot cannot be made to (a restarted or stopped real Dovecot is in
 * tests/integration/test_e2e_faults.py).
 *
 * Every fault runs the same drill (run_fault):
 *   1. a good read: the values a good server gives (the baseline);
 *   2. the fault, for many reads. Each read returns within Timeout + 0.5 s;
 *      every value dispatched equals the baseline's value of the same
 *      identifier (nothing from a partial reply, nothing credited to
 *      another user or metric); everything the outage logs is logged in
 *      its first read, naming the server and what went wrong; the password
 *      appears nowhere; the heap does not grow from the 10th read to the
 *      last;
 *   3. the fault ends: the next read gives the whole baseline again.
 *
 * Read counts (the whole file takes ~35 s on the 2-core machine, ~15 s
 * built with sanitizers, which read a tenth as often: DVP_READS_SCALE):
 * 1,000 reads for the faults that end a read at once; 150 reads at
 * Timeout 0.05 s for those that hang until the Timeout (accepted but
 * silent, silent after auth, silent mid-reply); 50 for the drip-fed reply
 * (every byte on its own, ~100 ms a read) and 50 for the endless value
 * (16 MiB per read until the value limit, ~40 ms a read). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "collectd_stubs.h"
#include "fault_server.h"
#include "plugin_test_util.h"

#if defined(__SANITIZE_ADDRESS__)
#define DVP_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define DVP_ASAN 1
#endif
#endif
#ifdef DVP_ASAN
/* From libasan (its header, sanitizer/allocator_interface.h, is not
 * installed with Debian's gcc). */
size_t __sanitizer_get_current_allocated_bytes(void);
/* Sanitized builds run everything ~3x slower and check leaks themselves at
 * exit: a tenth of the reads keeps the second pass of the suite short. */
#define DVP_READS_SCALE 10
#else
#define DVP_READS_SCALE 1
#endif

void module_register(void);

#define INSTANCE "f"
#define SERVER_PASSWORD "fault-test-pw-7c1d"
#define OTHER_PASSWORD "rotated-server-pw-93ab"
#define MAX_BASELINE 512
/* Allowed heap growth over a fault's reads: one leaked allocation per read
 * would be at least 32 bytes times the reads. */
#define HEAP_SLACK 2048
#define WARM_READS 10

typedef struct {
    char type[DATA_MAX_NAME_LEN];
    char type_instance[DATA_MAX_NAME_LEN];
    value_t value;
} baseline_value;

typedef struct {
    const char *name;
    fs_script script; /* the fault (ignored when refused) */
    bool refused;     /* no listener at all: connections are refused */
    bool tcp;
    double timeout; /* the instance's Timeout, seconds */
    unsigned reads;
    /* The server looks down: bool-up 0, one error line and one FAILURE
     * notification for the outage, one OKAY when it ends. */
    bool down;
    /* Every reply is broken: no value but bool-up and duration-read. */
    bool no_values;
    /* Slow but within Timeout: every read complete, nothing logged. */
    bool harmless;
    /* What the outage's log line must say (server, step, what came). */
    const char *needles[4];
} fault_case;

static baseline_value baseline[MAX_BASELINE];
static size_t nbaseline;

/* ---- helpers ---- */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Bytes the process has allocated and not freed. glibc's per-thread cache
 * keeps freed chunks counted as in use, so main() runs the tests with it
 * off (GLIBC_TUNABLES); the fake server's processes are not counted. */
static size_t heap_in_use(void)
{
#ifdef DVP_ASAN
    return __sanitizer_get_current_allocated_bytes();
#else
    struct mallinfo2 mi = mallinfo2();
    return mi.uordblks + mi.hblkhd;
#endif
}

#define NO_TCACHE "glibc.malloc.tcache_count=0"

/* Runs this program again with glibc's thread cache off, once. */
static void reexec_without_tcache(char **argv)
{
#ifndef DVP_ASAN
    const char *t = getenv("GLIBC_TUNABLES");
    if (t != NULL && strstr(t, NO_TCACHE) != NULL)
        return;
    setenv("GLIBC_TUNABLES", NO_TCACHE, 1);
    execv("/proc/self/exe", argv);
    perror("re-executing without the malloc thread cache");
    exit(1);
#else
    (void)argv;
#endif
}

static int setup(void **state)
{
    (void)state;
    stub_reset();
    module_register();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    if (stub_shutdown_cb != NULL)
        stub_shutdown_cb();
    stub_reset();
    return 0;
}

static void configure(const fs_server *server, bool tcp, double timeout)
{
    oconfig_item_t *root = tu_ci_new("Plugin");
    oconfig_item_t *in = tu_ci_str(tu_ci_child(root, "Instance"), INSTANCE);
    if (tcp) {
        tu_ci_opt(in, "Host", "127.0.0.1");
        tu_ci_num(tu_ci_child(in, "Port"), fs_server_port(server));
        tu_ci_opt(in, "Password", SERVER_PASSWORD);
    } else {
        tu_ci_opt(in, "Socket", fs_server_path(server));
    }
    tu_ci_str(tu_ci_str(tu_ci_str(tu_ci_child(in, "QuotaUser"), "alice@example.com"),
                        "bob@example.com"),
              "carol@example.com");
    /* One mail connection: the three users' requests are pipelined on it,
     * so a fault in one reply can reach the next user's. */
    tu_ci_num(tu_ci_child(in, "Connections"), 1);
    /* Per-user requests, not one server-side scan: the faults below
     * strike the users' own replies. */
    tu_ci_bool(tu_ci_child(in, "QuotaScan"), false);
    tu_ci_num(tu_ci_child(in, "Timeout"), timeout);
    assert_int_equal(stub_config_cb(root), 0);
    tu_ci_free(root);
    assert_int_equal(stub_init_cb(), 0);
    assert_int_equal(stub_nreads, 1);
}

/* One read; returns its wall time in seconds. */
static double read_once(void)
{
    stub_clear_captures();
    stub_read *r = &stub_reads[0];
    double t0 = now_s();
    assert_int_equal(r->callback(&r->user_data), 0); /* never a backoff */
    return now_s() - t0;
}

static bool is_meta(const stub_value *v)
{
    return (strcmp(v->vl.type, "bool") == 0 &&
            strcmp(v->vl.type_instance, "up") == 0) ||
           (strcmp(v->vl.type, "duration") == 0 &&
            strcmp(v->vl.type_instance, "read") == 0);
}

static double up_value(void)
{
    const stub_value *up = stub_find("bool", "up");
    assert_non_null(up);
    return up->value.gauge;
}

static void record_baseline(void)
{
    nbaseline = 0;
    for (size_t i = 0; i < stub_nvalues; i++) {
        const stub_value *v = &stub_values[i];
        if (is_meta(v))
            continue;
        assert_true(nbaseline < MAX_BASELINE);
        baseline_value *b = &baseline[nbaseline++];
        snprintf(b->type, sizeof(b->type), "%s", v->vl.type);
        snprintf(b->type_instance, sizeof(b->type_instance), "%s", v->vl.type_instance);
        b->value = v->value;
    }
}

static const baseline_value *find_baseline(const stub_value *v)
{
    for (size_t i = 0; i < nbaseline; i++)
        if (strcmp(baseline[i].type, v->vl.type) == 0 &&
            strcmp(baseline[i].type_instance, v->vl.type_instance) == 0)
            return &baseline[i];
    return NULL;
}

static size_t count_values(void)
{
    size_t n = 0;
    for (size_t i = 0; i < stub_nvalues; i++)
        n += !is_meta(&stub_values[i]);
    return n;
}

/* Every value of this read is one of the baseline's, with its value. */
static void check_values(const fault_case *fc, unsigned read)
{
    for (size_t i = 0; i < stub_nvalues; i++) {
        const stub_value *v = &stub_values[i];
        assert_string_equal(v->vl.plugin_instance, INSTANCE);
        if (is_meta(v))
            continue;
        const baseline_value *b = find_baseline(v);
        if (fc->no_values || b == NULL ||
            memcmp(&b->value, &v->value, sizeof(v->value)) != 0) {
            stub_dump();
            fail_msg("%s, read %u: value %s-%s dispatched (%s)", fc->name, read,
                     v->vl.type, v->vl.type_instance,
                     b == NULL       ? "not a value of the good server"
                     : fc->no_values ? "every reply was broken"
                                     : "a value other than the good server's");
        }
    }
}

static void check_no_password(const fault_case *fc)
{
    if (stub_anywhere(SERVER_PASSWORD) || stub_anywhere(OTHER_PASSWORD)) {
        stub_dump();
        fail_msg("%s: a password reached a log line, notification or value", fc->name);
    }
}

/* The outage's first read: what it logged and notified. */
static void check_first_fault_read(const fault_case *fc, const fs_server *server)
{
    char where[160];
    if (fc->tcp)
        snprintf(where, sizeof(where), "127.0.0.1:%u", fs_server_port(server));
    else
        snprintf(where, sizeof(where), "%s", fs_server_path(server));
    size_t errors = stub_count_logs(LOG_ERR, "");
    size_t warnings = stub_count_logs(LOG_WARNING, "");
    if (fc->down ? errors != 1 || stub_nnotifications != 1 : errors != 0) {
        stub_dump();
        fail_msg("%s: %zu error lines and %zu notifications, expected %s", fc->name,
                 errors, stub_nnotifications, fc->down ? "one each" : "none");
    }
    if (fc->down)
        assert_int_equal(stub_count_notifications(NOTIF_FAILURE, where), 1);
    /* The line saying what went wrong: the error, else the first warning. */
    const char *line = NULL;
    for (size_t i = 0; i < stub_nlogs && line == NULL; i++)
        if (stub_logs[i].level == (fc->down ? LOG_ERR : LOG_WARNING))
            line = stub_logs[i].text;
    if (line == NULL || (!fc->down && warnings == 0)) {
        stub_dump();
        fail_msg("%s: nothing logged about the fault", fc->name);
    }
    if (stub_echo_logs || getenv("DVP_SHOW_FAULT_LOGS") != NULL)
        fprintf(stderr, "[%s] %s\n", fc->name, line);
    bool ok = strstr(line, where) != NULL;
    for (size_t i = 0; ok && i < 4 && fc->needles[i] != NULL; i++)
        ok = strstr(line, fc->needles[i]) != NULL;
    if (!ok) {
        stub_dump();
        fail_msg("%s: the log line does not name %s and %s, %s, %s: %s", fc->name,
                 where, fc->needles[0], fc->needles[1] ? fc->needles[1] : "-",
                 fc->needles[2] ? fc->needles[2] : "-", line);
    }
}

/* ---- the drill ---- */

static void run_fault(const fault_case *fc)
{
    fs_script good = {.password = fc->tcp ? SERVER_PASSWORD : NULL};
    fs_server *server = fs_server_start(fc->tcp, &good);
    configure(server, fc->tcp, fc->timeout);

    /* 1. a good server */
    read_once();
    assert_true(up_value() == 1);
    record_baseline();
    /* DovecotVersion auto: the first read tells the generation, once. */
    if (stub_nlogs != 1)
        stub_dump();
    assert_int_equal(stub_count_logs(LOG_INFO, "answers like Dovecot 2.3"), 1);
    assert_int_equal(stub_nlogs, 1);
    assert_non_null(stub_find("derive", "imap_command"));
    assert_non_null(stub_find("users", "imap"));
    assert_non_null(stub_find("bytes", "alice@example.com-User_quota-used"));
    assert_non_null(stub_find("percent", "bob@example.com-User_quota-storage"));
    assert_non_null(stub_find("bytes", "carol@example.com-User_quota-used"));

    /* 2. the fault */
    if (fc->refused)
        fs_server_unlisten(server);
    else
        fs_server_set_script(server, &fc->script);
    unsigned reads = fc->reads / DVP_READS_SCALE;
    if (reads < 2 * WARM_READS)
        reads = 2 * WARM_READS;
    double worst = 0, total = 0;
    size_t heap_warm = 0;
    for (unsigned i = 0; i < reads; i++) {
        double took = read_once();
        total += took;
        if (took > worst)
            worst = took;
        if (took > fc->timeout + 0.5)
            fail_msg("%s, read %u: took %.3f s, Timeout is %.3f s", fc->name, i, took,
                     fc->timeout);
        check_values(fc, i);
        check_no_password(fc);
        if (fc->down || fc->no_values)
            assert_true(up_value() == 0);
        if (fc->harmless) {
            assert_true(up_value() == 1);
            assert_int_equal(count_values(), nbaseline); /* all of them */
            assert_int_equal(stub_nlogs + stub_nnotifications, 0);
        } else if (i == 0) {
            check_first_fault_read(fc, server);
        } else if (stub_nlogs != 0 || stub_nnotifications != 0) {
            stub_dump();
            fail_msg("%s, read %u: logged again during the same outage", fc->name, i);
        }
        if (i + 1 == WARM_READS)
            heap_warm = heap_in_use();
    }
    size_t heap_end = heap_in_use();
    if (heap_end > heap_warm + HEAP_SLACK)
        fail_msg("%s: the heap grew by %zu bytes over %u reads", fc->name,
                 heap_end - heap_warm, reads - WARM_READS);
    fprintf(stderr,
            "[ %-22s ] %4u reads in %5.2f s, slowest %.3f s (Timeout %.3f s), heap "
            "%+ld B\n",
            fc->name, reads, total, worst, fc->timeout,
            (long)heap_end - (long)heap_warm);

    /* 3. the fault ends: the next read recovers by itself */
    if (fc->refused)
        fs_server_listen(server);
    else
        fs_server_set_script(server, &good);
    read_once();
    check_no_password(fc);
    assert_true(up_value() == 1);
    size_t nonmeta = count_values();
    check_values(fc->no_values ? &(fault_case){.name = fc->name} : fc, reads);
    if (nonmeta != nbaseline) {
        stub_dump();
        fail_msg("%s: %zu values after the fault, %zu before", fc->name, nonmeta,
                 nbaseline);
    }
    if (fc->down) {
        assert_int_equal(stub_count_notifications(NOTIF_OKAY, ""), 1);
        assert_int_equal(stub_count_logs(LOG_INFO, "answers again"), 1);
    }
    assert_int_equal(stub_count_logs(LOG_ERR, ""), 0);
    fs_server_stop(server);
}

/* ---- the faults ---- */

#define FAST 1000
#define HANGING 150
/* Short, to keep 150 reads quick; long enough that a whole good read fits
 * even on a loaded machine (a good read takes ~5 ms). */
#define HANG_TIMEOUT 0.05
#define FAST_TIMEOUT 2.0

static void test_connection_refused(void **state)
{
    (void)state;
    run_fault(&(fault_case){.name = "connection refused",
                            .refused = true,
                            .tcp = true,
                            .timeout = FAST_TIMEOUT,
                            .reads = FAST,
                            .down = true,
                            .no_values = true,
                            .needles = {"connect", "refused"}});
}

static void test_accepted_but_silent(void **state)
{
    (void)state;
    run_fault(&(fault_case){
        .name = "accepted but silent",
        .script = {.when = FS_AT_ACCEPT, .action = FS_HANG},
        .timeout = HANG_TIMEOUT,
        .reads = HANGING,
        .down = true,
        .no_values = true,
        .needles = {"timed out while waiting for the server's greeting"}});
}

static void test_silent_after_auth(void **state)
{
    (void)state;
    run_fault(&(fault_case){
        .name = "silent after auth",
        .script = {.password = SERVER_PASSWORD, .when = FS_AT_AUTH, .action = FS_HANG},
        .tcp = true,
        .timeout = HANG_TIMEOUT,
        .reads = HANGING,
        .down = true,
        .no_values = true,
        .needles = {"timed out waiting for the reply to", "nothing came"}});
}

static void test_silent_mid_reply(void **state)
{
    (void)state;
    run_fault(&(fault_case){
        .name = "silent mid-reply",
        .script = {.when = FS_AT_REPLY, .cut_percent = 50, .action = FS_HANG},
        .timeout = HANG_TIMEOUT,
        .reads = HANGING,
        .down = true,
        .no_values = true,
        .needles = {"timed out waiting for the rest of the reply to",
                    "bytes of it came"}});
}

static void test_drip_fed_reply(void **state)
{
    (void)state;
    /* Every byte on its own, 50 us apart: slow, but well within Timeout, so
     * every read succeeds in full and nothing is logged. */
    run_fault(&(fault_case){.name = "drip-fed reply",
                            .script = {.when = FS_AT_ACCEPT, .drip_us = 50},
                            .timeout = FAST_TIMEOUT,
                            .reads = 50,
                            .harmless = true});
}

static void test_closed_mid_reply(void **state)
{
    (void)state;
    run_fault(&(fault_case){
        .name = "closed mid-reply",
        .script = {.when = FS_AT_REPLY, .cut_percent = 50, .action = FS_CLOSE},
        .timeout = FAST_TIMEOUT,
        .reads = FAST,
        .down = true,
        .no_values = true,
        .needles = {"closed the connection in the middle of the reply to"}});
}

static void test_random_bytes(void **state)
{
    (void)state;
    run_fault(&(fault_case){
        .name = "random bytes",
        .script = {.when = FS_AT_REPLY, .action = FS_GARBAGE, .garbage_len = 4096},
        .timeout = FAST_TIMEOUT,
        .reads = FAST,
        .down = true,
        .no_values = true,
        .needles = {"reply to"}});
}

static void test_random_greeting(void **state)
{
    (void)state;
    run_fault(&(fault_case){
        .name = "random greeting",
        .script = {.when = FS_AT_VERSION, .action = FS_GARBAGE, .garbage_len = 4096},
        .timeout = FAST_TIMEOUT,
        .reads = FAST,
        .down = true,
        .no_values = true,
        .needles = {"answered VERSION with", "\\x"}});
}

static void test_endless_value(void **state)
{
    (void)state;
    /* In the reply to stats dump only: 16 MiB per read until the value
     * limit, not three times that. */
    run_fault(&(fault_case){
        .name = "endless value",
        .script = {.when = FS_AT_REPLY, .command = "stats dump", .action = FS_ENDLESS},
        .timeout = 1.0,
        .reads = 50,
        .needles = {"stats dump", "longer than the limit"}});
}

static void test_wrong_password(void **state)
{
    (void)state;
    /* The server's doveadm_password was changed; the plugin has the old. */
    run_fault(&(fault_case){.name = "wrong password",
                            .script = {.password = OTHER_PASSWORD},
                            .tcp = true,
                            .timeout = FAST_TIMEOUT,
                            .reads = FAST,
                            .down = true,
                            .no_values = true,
                            .needles = {"rejected the password"}});
}

static void test_version_refused(void **state)
{
    (void)state;
    run_fault(&(fault_case){.name = "VERSION refused",
                            .script = {.when = FS_AT_VERSION, .action = FS_CLOSE},
                            .timeout = FAST_TIMEOUT,
                            .reads = FAST,
                            .down = true,
                            .no_values = true,
                            .needles = {"closed the connection after VERSION"}});
}

static void test_rows_after_status(void **state)
{
    (void)state;
    /* alice's reply is followed by one more row naming alice (with values
     * the good server never sends): it arrives glued to the front of bob's
     * reply. bob's quota is refused rather than credited with it. */
    static const char row[] = "alice@example.com\tUser quota\tSTORAGE\t999\t10240\t9\t";
    run_fault(&(fault_case){.name = "rows after the status",
                            .script = {.when = FS_AT_REPLY,
                                       .command = "quota get",
                                       .cut_percent = 100,
                                       .bytes = row,
                                       .nbytes = sizeof(row) - 1},
                            .timeout = FAST_TIMEOUT,
                            .reads = FAST,
                            .needles = {"bob@example.com", "alice@example.com"}});
}

static void test_double_status_line(void **state)
{
    (void)state;
    /* Dovecot 2.3.0-2.3.16: a failure has two status lines. The second must
     * not become bob's reply (his request is pipelined behind alice's). */
    static const char dup[] = "\n-NOUSER\n\n-\n";
    run_fault(&(fault_case){.name = "double status line",
                            .script = {.when = FS_AT_REPLY,
                                       .command = "quota get",
                                       .bytes = dup,
                                       .nbytes = sizeof(dup) - 1},
                            .timeout = FAST_TIMEOUT,
                            .reads = FAST,
                            .needles = {"alice@example.com", "NOUSER"}});
}

static void test_process_dies_after_mail_command(void **state)
{
    (void)state;
    /* The server process ends when the second mail command of a connection
     * arrives: the lost requests are retried once on a fresh connection. */
    run_fault(&(fault_case){.name = "process dies",
                            .script = {.when = FS_AT_REPLY,
                                       .command = "quota get",
                                       .nth = 1,
                                       .action = FS_CLOSE},
                            .timeout = FAST_TIMEOUT,
                            .reads = FAST,
                            .needles = {"carol@example.com", "closed the connection"}});
}

int main(int argc, char **argv)
{
    (void)argc;
    reexec_without_tcache(argv);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_connection_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_accepted_but_silent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_silent_after_auth, setup, teardown),
        cmocka_unit_test_setup_teardown(test_silent_mid_reply, setup, teardown),
        cmocka_unit_test_setup_teardown(test_drip_fed_reply, setup, teardown),
        cmocka_unit_test_setup_teardown(test_closed_mid_reply, setup, teardown),
        cmocka_unit_test_setup_teardown(test_random_bytes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_random_greeting, setup, teardown),
        cmocka_unit_test_setup_teardown(test_endless_value, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wrong_password, setup, teardown),
        cmocka_unit_test_setup_teardown(test_version_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rows_after_status, setup, teardown),
        cmocka_unit_test_setup_teardown(test_double_status_line, setup, teardown),
        cmocka_unit_test_setup_teardown(test_process_dies_after_mail_command, setup,
                                        teardown),
    };
    /* DVP_FAULT_FILTER=test_wrong_password (a glob) runs just that one. */
    if (getenv("DVP_FAULT_FILTER") != NULL)
        cmocka_set_test_filter(getenv("DVP_FAULT_FILTER"));
    return cmocka_run_group_tests(tests, NULL, NULL);
}
