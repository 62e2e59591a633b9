/* SPDX-License-Identifier: MIT */
/* The plugin's bounded hash map (plugin_map.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plugin_map.h"

static void test_touch_find_remove(void **state)
{
    (void)state;
    dvp_map m;
    dvp_map_init(&m, 100);
    assert_null(dvp_map_find(&m, "a", 1));
    bool added = false;
    dvp_map_entry *e = dvp_map_touch(&m, "a", 1, &added);
    assert_non_null(e);
    assert_true(added);
    assert_int_equal(e->value, 0);
    e->value = 7;
    e = dvp_map_touch(&m, "a", 1, &added);
    assert_false(added);
    assert_int_equal(e->value, 7);
    /* Keys are bytes: an embedded NUL makes a different key. */
    assert_non_null(dvp_map_touch(&m, "a\0b", 3, &added));
    assert_true(added);
    assert_int_equal(m.count, 2);
    dvp_map_remove(&m, "a", 1);
    assert_null(dvp_map_find(&m, "a", 1));
    assert_non_null(dvp_map_find(&m, "a\0b", 3));
    dvp_map_remove(&m, "nothing", 7);
    assert_int_equal(m.count, 1);
    dvp_map_free(&m);
}

static void test_grows_and_bounds(void **state)
{
    (void)state;
    dvp_map m;
    dvp_map_init(&m, 5000);
    char key[32];
    for (int i = 0; i < 6000; i++) {
        snprintf(key, sizeof(key), "user%d@example.com", i);
        dvp_map_entry *e = dvp_map_touch(&m, key, strlen(key), NULL);
        if (i < 5000) {
            assert_non_null(e);
            e->value = i;
        } else {
            assert_null(e); /* full */
        }
    }
    assert_int_equal(m.count, 5000);
    for (int i = 0; i < 5000; i++) {
        snprintf(key, sizeof(key), "user%d@example.com", i);
        dvp_map_entry *e = dvp_map_find(&m, key, strlen(key));
        assert_non_null(e);
        assert_int_equal(e->value, i);
    }
    dvp_map_clear(&m);
    assert_int_equal(m.count, 0);
    assert_non_null(dvp_map_touch(&m, "x", 1, NULL));
    dvp_map_free(&m);
}

static void test_age_drops_unseen(void **state)
{
    (void)state;
    dvp_map m;
    dvp_map_init(&m, 10);
    dvp_map_touch(&m, "old", 3, NULL);
    dvp_map_touch(&m, "kept", 4, NULL);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(dvp_map_age(&m, 3), 0);
        dvp_map_touch(&m, "kept", 4, NULL);
    }
    assert_int_equal(dvp_map_age(&m, 3), 1); /* "old": 4 generations */
    assert_null(dvp_map_find(&m, "old", 3));
    assert_non_null(dvp_map_find(&m, "kept", 4));
    dvp_map_free(&m);
}

static void test_key_join(void **state)
{
    (void)state;
    char buf[8];
    size_t len;
    const char *parts[] = {"ab", "c"};
    char *k = dvp_key_join(buf, sizeof(buf), &len, parts, 2);
    assert_ptr_equal(k, buf);
    assert_int_equal(len, 4);
    assert_memory_equal(k, "ab\0c", 4);
    dvp_key_free(k, buf);
    const char *longer[] = {"alice@example.com", "User quota", "storage"};
    k = dvp_key_join(buf, sizeof(buf), &len, longer, 3);
    assert_true(k != buf);
    assert_int_equal(len, strlen("alice@example.com") + 1 + 10 + 1 + 7);
    assert_memory_equal(k, "alice@example.com\0User quota\0storage", len);
    dvp_key_free(k, buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_touch_find_remove),
        cmocka_unit_test(test_grows_and_bounds),
        cmocka_unit_test(test_age_drops_unseen),
        cmocka_unit_test(test_key_join),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
