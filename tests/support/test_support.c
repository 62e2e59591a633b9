#include "test_support.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

char *dva_test_read_data(const char *relpath, size_t *len)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", DVA_TEST_DATA_DIR, relpath);
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        fail_msg("cannot open test data %s", path);
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap + 1);
    assert_non_null(buf);
    size_t got;
    while ((got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            cap *= 2;
            buf = realloc(buf, cap + 1);
            assert_non_null(buf);
        }
    }
    fclose(f);
    buf[n] = '\0';
    if (len != NULL)
        *len = n;
    return buf;
}
