/* SPDX-License-Identifier: MIT */
/* bench_plugin: the plugin's read callback, end to end (scrape, decode,
 * submit), driven the way collectd drives it but with collectd's API
 * stubbed (tests/plugin/collectd_stubs.c), so a benchmark can time reads
 * and watch memory without a collectd daemon.
 *
 *   bench_plugin [--reads N] [--quiet] [--sink] Option=Value...
 *
 * Each Option=Value becomes a line of one <Instance "bench"> block. Prints
 * one line per read ("read I SECONDS VALUES QUOTA_USERS") unless --quiet,
 * then "summary" lines: best/median/worst read seconds, values of the last
 * read, resident memory (KiB) after the first read, after 10% of the reads
 * and after the last read; the process's peak resident memory (VmHWM) and
 * CPU (user, system seconds). --sink counts the values instead of keeping
 * them, so that the peak is the plugin's own (plus the program's start).
 * "summary heap PEAK CALLS": the allocations of the plugin's own code
 * during the reads (malloc, calloc, realloc, strdup linked with --wrap,
 * tests/bench/CMakeLists.txt): the peak of the bytes they held at once
 * (malloc_usable_size, from the first read's start) and their number.
 * Exit status 1 when a read failed to configure. */
#include <malloc.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "collectd_stubs.h"
#include "plugin_test_util.h"

void module_register(void);

/* ---- the plugin's own allocations (see the header) ---- */

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);
void __real_free(void *p);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t n);
void __wrap_free(void *p);
char *__wrap_strdup(const char *s);

static bool counting;
static long long heap_live, heap_peak, heap_calls;

static void heap_add(long long bytes)
{
    long long live = __atomic_add_fetch(&heap_live, bytes, __ATOMIC_RELAXED);
    if (live > __atomic_load_n(&heap_peak, __ATOMIC_RELAXED))
        __atomic_store_n(&heap_peak, live, __ATOMIC_RELAXED); /* one thread reads */
}

static void *counted(void *p)
{
    if (p != NULL && counting) {
        __atomic_add_fetch(&heap_calls, 1, __ATOMIC_RELAXED);
        heap_add((long long)malloc_usable_size(p));
    }
    return p;
}

void *__wrap_malloc(size_t n)
{
    return counted(__real_malloc(n));
}

void *__wrap_calloc(size_t n, size_t size)
{
    return counted(__real_calloc(n, size));
}

void *__wrap_realloc(void *p, size_t n)
{
    long long old = p != NULL && counting ? (long long)malloc_usable_size(p) : 0;
    void *q = __real_realloc(p, n);
    if (q != NULL && counting) {
        __atomic_add_fetch(&heap_calls, 1, __ATOMIC_RELAXED);
        heap_add((long long)malloc_usable_size(q) - old);
    }
    return q;
}

void __wrap_free(void *p)
{
    if (p != NULL && counting)
        heap_add(-(long long)malloc_usable_size(p));
    __real_free(p);
}

char *__wrap_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = __wrap_malloc(n);
    if (p != NULL)
        memcpy(p, s, n);
    return p;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long rss_kib(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long pages = 0, resident = 0;
    if (f == NULL)
        return -1;
    if (fscanf(f, "%ld %ld", &pages, &resident) != 2)
        resident = -1;
    fclose(f);
    return resident < 0 ? -1 : resident * (sysconf(_SC_PAGESIZE) / 1024);
}

/* VmHWM or VmRSS of /proc/self/status, KiB. */
static long status_kib(const char *field)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long v = -1;
    size_t n = strlen(field);
    if (f == NULL)
        return -1;
    while (fgets(line, sizeof(line), f) != NULL)
        if (strncmp(line, field, n) == 0 && line[n] == ':')
            v = atol(line + n + 1);
    fclose(f);
    return v;
}

static size_t sunk_used;

static void sink(const value_list_t *vl)
{
    size_t len = strlen(vl->type_instance);
    if (strcmp(vl->type, "bytes") == 0 && len > 5 &&
        strcmp(vl->type_instance + len - 5, "-used") == 0)
        sunk_used++;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Values whose type instance has a user part: "bytes-<user>-...-used". */
static size_t quota_used_values(void)
{
    size_t n = 0;
    for (size_t i = 0; i < stub_nvalues; i++) {
        const value_list_t *vl = &stub_values[i].vl;
        size_t len = strlen(vl->type_instance);
        if (strcmp(vl->type, "bytes") == 0 && len > 5 &&
            strcmp(vl->type_instance + len - 5, "-used") == 0)
            n++;
    }
    return n;
}

int main(int argc, char **argv)
{
    long reads = 1;
    bool quiet = false;
    int i = 1;
    for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
        if (strcmp(argv[i], "--reads") == 0 && i + 1 < argc)
            reads = atol(argv[++i]);
        else if (strcmp(argv[i], "--quiet") == 0)
            quiet = true;
        else if (strcmp(argv[i], "--sink") == 0)
            stub_value_sink = sink;
        else {
            fprintf(stderr,
                    "usage: bench_plugin [--reads N] [--quiet] Option=Value...\n");
            return 64;
        }
    }
    if (reads < 1)
        reads = 1;

    stub_reset();
    stub_echo_logs = true;
    module_register();
    oconfig_item_t *root = tu_ci_new("Plugin");
    oconfig_item_t *inst = tu_ci_str(tu_ci_child(root, "Instance"), "bench");
    for (; i < argc; i++) {
        char *eq = strchr(argv[i], '=');
        if (eq == NULL) {
            fprintf(stderr, "bench_plugin: \"%s\" is not Option=Value\n", argv[i]);
            return 64;
        }
        *eq = '\0';
        tu_ci_opt(inst, argv[i], eq + 1);
    }
    int rc = stub_config_cb(root);
    tu_ci_free(root);
    if (rc != 0 || stub_init_cb() != 0 || stub_nreads != 1) {
        fprintf(stderr, "bench_plugin: the configuration was refused\n");
        return 1;
    }

    double *took = calloc((size_t)reads, sizeof(double));
    if (took == NULL)
        return 1;
    long rss_first = 0, rss_early = 0, rss_start = status_kib("VmRSS");
    size_t values = 0, quota_users = 0;
    for (long r = 0; r < reads; r++) {
        stub_clear_captures();
        sunk_used = 0;
        double t0 = now_s();
        counting = true;
        stub_reads[0].callback(&stub_reads[0].user_data);
        counting = false;
        took[r] = now_s() - t0;
        values = stub_nvalues;
        quota_users = stub_value_sink != NULL ? sunk_used : quota_used_values();
        if (!quiet)
            printf("read\t%ld\t%.4f\t%zu\t%zu\n", r + 1, took[r], values, quota_users);
        if (r == 0)
            rss_first = rss_kib();
        if (r == reads / 10)
            rss_early = rss_kib();
    }
    long rss_last = rss_kib();
    double best = 0, median = 0, worst = 0;
    qsort(took, (size_t)reads, sizeof(double), cmp_double);
    best = took[0];
    median = took[reads / 2];
    worst = took[reads - 1];
    printf("summary\treads\t%ld\n", reads);
    printf("summary\tseconds\t%.4f\t%.4f\t%.4f\n", best, median, worst);
    printf("summary\tvalues\t%zu\n", values);
    printf("summary\tquota_users\t%zu\n", quota_users);
    printf("summary\trss_kib\t%ld\t%ld\t%ld\n", rss_first, rss_early, rss_last);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("summary\tpeak_kib\t%ld\t%ld\n", status_kib("VmHWM"), rss_start);
    printf("summary\theap\t%lld\t%lld\n", heap_peak, heap_calls);
    printf("summary\tcpu_s\t%.3f\t%.3f\n",
           (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6,
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6);
    free(took);
    if (stub_shutdown_cb != NULL)
        stub_shutdown_cb();
    stub_reset();
    return 0;
}
