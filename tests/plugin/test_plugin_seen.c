/* SPDX-License-Identifier: MIT */
/* The per-read set of dispatched identifiers (plugin_seen.c): duplicates
 * are found across table growth, a reset forgets everything but keeps the
 * memory, and the bound holds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "plugin_seen.h"

static void test_add_find_grow(void **state)
{
    (void)state;
    dvp_seen s;
    dvp_seen_init(&s, 100000);
    char key[64];
    for (int i = 0; i < 5000; i++) {
        int n = snprintf(key, sizeof(key), "bytes%cuser%d@example.com-User_quota-used",
                         0, i);
        assert_int_equal(dvp_seen_add(&s, key, (size_t)n), 1);
    }
    for (int i = 0; i < 5000; i++) {
        int n = snprintf(key, sizeof(key), "bytes%cuser%d@example.com-User_quota-used",
                         0, i);
        assert_int_equal(dvp_seen_add(&s, key, (size_t)n), 0);
    }
    /* Keys that differ only after a NUL, or by length, are different. */
    assert_int_equal(dvp_seen_add(&s, "a\0b", 3), 1);
    assert_int_equal(dvp_seen_add(&s, "a\0c", 3), 1);
    assert_int_equal(dvp_seen_add(&s, "a", 1), 1);
    assert_int_equal(dvp_seen_add(&s, "", 0), 1);
    assert_int_equal(dvp_seen_add(&s, "", 0), 0);
    dvp_seen_free(&s);
}

/* Hash, prefetch, then add: the same set as dvp_seen_add() builds. */
static void test_add_hashed_is_add(void **state)
{
    (void)state;
    dvp_seen s;
    dvp_seen_init(&s, 100000);
    dvp_seen_prefetch(&s, 42); /* an empty set has no slot to fetch */
    char key[32];
    for (int i = 0; i < 1000; i++) {
        size_t n = (size_t)snprintf(key, sizeof(key), "k%d", i);
        uint64_t h = dvp_seen_hash(key, n);
        assert_int_equal(h, dvp_seen_hash(key, n));
        dvp_seen_prefetch(&s, h);
        assert_int_equal(
            i % 2 ? dvp_seen_add(&s, key, n) : dvp_seen_add_hashed(&s, key, n, h), 1);
    }
    for (int i = 0; i < 1000; i++) {
        size_t n = (size_t)snprintf(key, sizeof(key), "k%d", i);
        assert_int_equal(i % 2 ? dvp_seen_add_hashed(&s, key, n, dvp_seen_hash(key, n))
                               : dvp_seen_add(&s, key, n),
                         0);
    }
    dvp_seen_free(&s);
}

/* Keys of every length up to 40 that differ only in their last byte (the
 * hash reads a key's tail as one word) are all different. */
static void test_keys_differing_in_last_byte(void **state)
{
    (void)state;
    dvp_seen s;
    dvp_seen_init(&s, 100000);
    char key[41];
    memset(key, 'k', sizeof(key));
    for (int round = 0; round < 2; round++)
        for (size_t len = 1; len <= 40; len++)
            for (int last = 0; last < 4; last++) {
                key[len - 1] = (char)('a' + last);
                assert_int_equal(dvp_seen_add(&s, key, len), round == 0 ? 1 : 0);
                key[len - 1] = 'k';
            }
    assert_int_equal(s.count, 40 * 4);
    dvp_seen_free(&s);
}

static void test_reset_forgets_and_keeps_memory(void **state)
{
    (void)state;
    dvp_seen s;
    dvp_seen_init(&s, 100000);
    char key[32];
    for (int i = 0; i < 1000; i++)
        dvp_seen_add(&s, key, (size_t)snprintf(key, sizeof(key), "k%d", i));
    void *slots = s.slots, *arena = s.arena;
    for (int read = 0; read < 3; read++) {
        dvp_seen_reset(&s);
        for (int i = 0; i < 1000; i++)
            assert_int_equal(
                dvp_seen_add(&s, key, (size_t)snprintf(key, sizeof(key), "k%d", i)), 1);
        assert_ptr_equal(s.slots, slots);
        assert_ptr_equal(s.arena, arena);
    }
    /* The generation stamp wrapping around clears the table. */
    s.generation = UINT32_MAX;
    dvp_seen_reset(&s);
    assert_int_equal(s.generation, 1);
    assert_int_equal(dvp_seen_add(&s, "k1", 2), 1);
    dvp_seen_free(&s);
}

static void test_bound(void **state)
{
    (void)state;
    dvp_seen s;
    dvp_seen_init(&s, 3);
    assert_int_equal(dvp_seen_add(&s, "a", 1), 1);
    assert_int_equal(dvp_seen_add(&s, "b", 1), 1);
    assert_int_equal(dvp_seen_add(&s, "c", 1), 1);
    assert_int_equal(dvp_seen_add(&s, "d", 1), -1);
    assert_int_equal(dvp_seen_add(&s, "a", 1), 0);
    dvp_seen_free(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_add_find_grow),
        cmocka_unit_test(test_keys_differing_in_last_byte),
        cmocka_unit_test(test_add_hashed_is_add),
        cmocka_unit_test(test_reset_forgets_and_keeps_memory),
        cmocka_unit_test(test_bound),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
