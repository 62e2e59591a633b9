/* SPDX-License-Identifier: MIT */
/* The server-side quota scan's pieces (quota_scan.c): which names may go
 * into the user-list file, the file itself, the command, and the crediting
 * of rows to users, which must never give a row to the wrong user. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <sys/stat.h>
#include <unistd.h>

#include "scan_file.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static void test_names_that_fit_a_line(void **state)
{
    (void)state;
    assert_true(dva_scan_name_ok("alice@example.com"));
    assert_true(dva_scan_name_ok("j\xc3\xb6rg@example.net")); /* UTF-8 */
    assert_false(dva_scan_name_ok(NULL));
    assert_false(dva_scan_name_ok(""));
    assert_false(dva_scan_name_ok("a b@example.com"));
    assert_false(dva_scan_name_ok("a\tb"));
    assert_false(dva_scan_name_ok("a\nb"));
    assert_false(dva_scan_name_ok("a\rb"));
    assert_false(dva_scan_name_ok("a\x7f"));
}

static void test_command(void **state)
{
    (void)state;
    dva_command cmd;
    assert_int_equal(dva_scan_command(&cmd, "/run/x/users.abc"), 0);
    assert_int_equal(cmd.argc, 3);
    assert_string_equal(cmd.argv[0], "quota get");
    assert_string_equal(cmd.argv[1], "-F");
    assert_string_equal(cmd.argv[2], "/run/x/users.abc");
    assert_int_equal(cmd.ncols, DVA_QUOTA_NCOLS);
    assert_int_equal(dva_scan_command(&cmd, "relative"), -1);
    assert_int_equal(dva_scan_command(&cmd, NULL), -1);
    char longpath[DVA_COMMAND_STORAGE + 8];
    memset(longpath, 'a', sizeof(longpath) - 1);
    longpath[0] = '/';
    longpath[sizeof(longpath) - 1] = '\0';
    assert_int_equal(dva_scan_command(&cmd, longpath), -1);
}

static void test_file_is_private_and_complete(void **state)
{
    (void)state;
    char dir[] = "/tmp/dva-scan-test.XXXXXX";
    assert_non_null(mkdtemp(dir));
    /* Enough names to need several buffered writes. */
    enum { COUNT = 5000 };
    char **names = calloc(COUNT, sizeof(char *));
    assert_non_null(names);
    size_t expected = 0;
    for (size_t i = 0; i < COUNT; i++) {
        names[i] = malloc(32);
        expected += (size_t)snprintf(names[i], 32, "user%05zu@example.com", i) + 1;
    }
    char *path = NULL;
    dva_error err;
    assert_int_equal(
        dva_scan_write_file(dir, (const char *const *)names, COUNT, &path, &err), 0);
    assert_non_null(path);
    assert_memory_equal(path, dir, strlen(dir));
    struct stat st;
    assert_int_equal(lstat(path, &st), 0);
    assert_true(S_ISREG(st.st_mode));
    assert_int_equal(st.st_mode & 07777, 0600);
    assert_int_equal((size_t)st.st_size, expected);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char line[64];
    for (size_t i = 0; i < COUNT; i++) {
        assert_non_null(fgets(line, sizeof(line), f));
        line[strcspn(line, "\n")] = '\0';
        assert_string_equal(line, names[i]);
    }
    fclose(f);
    unlink(path);
    free(path);
    for (size_t i = 0; i < COUNT; i++)
        free(names[i]);
    free(names);

    const char *one[] = {"a@x"};
    assert_int_equal(dva_scan_write_file("relative", one, 1, &path, &err), -1);
    assert_int_equal(err.code, DVA_ERR_USAGE);
    assert_null(path);
    char missing[64];
    snprintf(missing, sizeof(missing), "%s/missing", dir);
    assert_int_equal(dva_scan_write_file(missing, one, 1, &path, &err), -1);
    assert_int_equal(err.code, DVA_ERR_IO);
    assert_non_null(strstr(err.message, missing));
    assert_null(path);
    assert_int_equal(rmdir(dir), 0);
}

/* rows of users (one row each unless repeated in the list). */
static dva_quota rows_of(dva_quota_row *rows, const char *const *users, size_t n)
{
    for (size_t i = 0; i < n; i++)
        rows[i] = (dva_quota_row){.user = users[i], .root = "User quota"};
    return (dva_quota){.rows = rows, .nrows = n};
}

static void test_assign_in_file_order(void **state)
{
    (void)state;
    const char *names[] = {"a@x", "b@x", "c@x", "d@x"};
    /* b missing (unknown to the server), c in another letter case. */
    const char *users[] = {"a@x", "a@x", "C@X", "C@X", "d@x"};
    dva_quota_row rows[N(users)];
    dva_quota q = rows_of(rows, users, N(users));
    dva_scan_range ranges[N(names)];
    dva_error err;
    assert_int_equal(dva_scan_assign(&q, names, N(names), ranges, &err), 0);
    assert_int_equal(ranges[0].first, 0);
    assert_int_equal(ranges[0].count, 2);
    assert_int_equal(ranges[1].count, 0);
    assert_int_equal(ranges[2].first, 2);
    assert_int_equal(ranges[2].count, 2);
    assert_int_equal(ranges[3].first, 4);
    assert_int_equal(ranges[3].count, 1);

    dva_quota empty = {NULL, 0};
    assert_int_equal(dva_scan_assign(&empty, names, N(names), ranges, &err), 0);
    for (size_t i = 0; i < N(names); i++)
        assert_int_equal(ranges[i].count, 0);
}

/* A reply that would credit a row to the wrong user is refused whole. */
static void expect_refused(const char *const *users, size_t n, const char *needle)
{
    const char *names[] = {"a@x", "b@x", "c@x"};
    dva_quota_row rows[8];
    dva_quota q = rows_of(rows, users, n);
    dva_scan_range ranges[N(names)];
    dva_error err;
    assert_int_equal(dva_scan_assign(&q, names, N(names), ranges, &err), -1);
    assert_int_equal(err.code, DVA_ERR_DECODE);
    assert_non_null(strstr(err.message, needle));
}

static void test_assign_refuses_what_could_be_misattributed(void **state)
{
    (void)state;
    const char *stranger[] = {"a@x", "mallory@x"};
    expect_refused(stranger, N(stranger), "\"mallory@x\"");
    const char *backwards[] = {"b@x", "a@x"};
    expect_refused(backwards, N(backwards), "Row 2");
    const char *split[] = {"a@x", "b@x", "a@x"};
    expect_refused(split, N(split), "Row 3");
    const char *prefix[] = {"a@"};
    expect_refused(prefix, N(prefix), "Row 1");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names_that_fit_a_line),
        cmocka_unit_test(test_command),
        cmocka_unit_test(test_file_is_private_and_complete),
        cmocka_unit_test(test_assign_in_file_order),
        cmocka_unit_test(test_assign_refuses_what_could_be_misattributed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
