/* Sanitising and joining identifier names: see plugin_names.h. */
#include "plugin_names.h"

#include <pthread.h>

bool dvp_name_byte_ok(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '@' || c == '.' || c == '_' || c == '+' || c == '=' || c == '-';
}

bool dvp_name_clean(const char *name)
{
    if (name == NULL || name[0] == '\0')
        return false;
    for (const unsigned char *p = (const unsigned char *)name; *p != '\0'; p++)
        if (!dvp_name_byte_ok(*p))
            return false;
    return true;
}

/* SANITISED[b]: b itself when allowed, '_' otherwise; 0 for NUL. Built
 * once from dvp_name_byte_ok() (a join runs for every dispatched value). */
static unsigned char sanitised[256];
static void build_table(void)
{
    for (unsigned c = 1; c < 256; c++)
        sanitised[c] = dvp_name_byte_ok((unsigned char)c) ? (unsigned char)c : '_';
    sanitised[0] = 0;
}

bool dvp_name_join(char *dst, size_t size, const char *const *parts, size_t nparts)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, build_table);
    size_t pos = 0;
    if (size == 0)
        return false;
    for (size_t i = 0; i < nparts; i++) {
        if (i > 0) {
            if (pos + 1 >= size)
                goto overflow;
            dst[pos++] = '-';
        }
        for (const unsigned char *p = (const unsigned char *)parts[i];; p++) {
            unsigned char c = sanitised[*p];
            if (c == 0)
                break;
            if (pos + 1 >= size)
                goto overflow;
            dst[pos++] = (char)c;
        }
    }
    dst[pos] = '\0';
    return true;
overflow:
    dst[pos] = '\0';
    return false;
}
