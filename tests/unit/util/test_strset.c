/* SPDX-License-Identifier: MIT */
/* The string set (util/strset.h) and its hash (util/hash.h): distinct
 * strings in linear time, whatever their number. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "hash.h"
#include "strset.h"

static void test_add_and_has(void **state)
{
    (void)state;
    dva_strset set = {0};
    assert_false(dva_strset_has(&set, "alice@example.com"));
    assert_int_equal(dva_strset_add(&set, "alice@example.com"), 1);
    assert_int_equal(dva_strset_add(&set, "alice@example.com"), 0);
    assert_true(dva_strset_has(&set, "alice@example.com"));
    assert_false(dva_strset_has(&set, "Alice@example.com")); /* exact bytes */
    dva_strset_free(&set);
    assert_false(dva_strset_has(&set, "alice@example.com"));
}

/* Growing past many doublings keeps every string. */
static void test_many(void **state)
{
    (void)state;
    enum { N = 5000 };
    static char names[N][24];
    dva_strset set = {0};
    for (int i = 0; i < N; i++) {
        snprintf(names[i], sizeof(names[i]), "user%04d@example.com", i);
        assert_int_equal(dva_strset_add(&set, names[i]), 1);
    }
    assert_int_equal(set.len, N);
    for (int i = 0; i < N; i++)
        assert_true(dva_strset_has(&set, names[i]));
    assert_false(dva_strset_has(&set, "user5000@example.com"));
    dva_strset_free(&set);
}

/* The values the users' slices are made of stay what they were (a user
 * must not change slice when the library changes). */
static void test_hash(void **state)
{
    (void)state;
    assert_true(dva_hash_str("") == 0x14650fb0739d0383ULL);
    assert_true(dva_hash_str("a") == 0x44bd8ad473cd9906ULL);
    assert_true(dva_hash_str("foobar") == 0x88fad7c0a8ff07f2ULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_add_and_has),
        cmocka_unit_test(test_many),
        cmocka_unit_test(test_hash),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
