/* SPDX-License-Identifier: MIT */
/* The configuration mapping (settings.h): option/value pairs fed to
 * dva_config_set(), then dva_config_finish(), the way a front end does.
 *
 * Input: text lines. The first line is the instance name; every other line
 * is "Option=Value" ("Option" alone: a missing value). Like the plugin, the
 * first refused option ends the run. Values of options that name files
 * (PasswordFile, and names with "file", "cert", "key" or a "ca" prefix for
 * options added later) are confined to a scratch directory of prepared files:
 * '/' becomes '_' and the directory is prefixed, so no other file is read. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "doveadm/settings.h"
#include "fuzz_support.h"

#define MAX_LINE 512

static char scratch[256];
static const char *const file_names[] = {
    "pw", "pw-open", "crlf", "empty", "blank-line", "long", "unreadable",
};
#define NFILES (sizeof(file_names) / sizeof(file_names[0]))

static void remove_scratch(void)
{
    char path[512];
    for (size_t i = 0; i < NFILES; i++) {
        snprintf(path, sizeof(path), "%s/%s", scratch, file_names[i]);
        unlink(path);
    }
    rmdir(scratch);
}

static void put_file(size_t i, const char *text, size_t len, mode_t mode)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", scratch, file_names[i]);
    FILE *f = fopen(path, "wb");
    fuzz_check(f != NULL && fwrite(text, 1, len, f) == len && fclose(f) == 0,
               "writing a scratch file");
    fuzz_check(chmod(path, mode) == 0, "chmod of a scratch file");
}

int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    const char *tmp = getenv("TMPDIR");
    snprintf(scratch, sizeof(scratch), "%s/dva-fuzz-config-XXXXXX",
             tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp");
    fuzz_check(mkdtemp(scratch) != NULL, "creating the scratch directory");
    atexit(remove_scratch);
    static char no_newline[5000];
    memset(no_newline, 'x', sizeof(no_newline));
    put_file(0, "secret\n", 7, 0600);
    put_file(1, "secret\n", 7, 0644);
    put_file(2, "secret\r\n", 8, 0600);
    put_file(3, "", 0, 0600);
    put_file(4, "\nsecret\n", 8, 0600);
    put_file(5, no_newline, sizeof(no_newline), 0600);
    put_file(6, "secret\n", 7, 0000);
    return 0;
}

static bool names_file(const char *option)
{
    char lower[MAX_LINE];
    size_t i;
    for (i = 0; option[i] != '\0' && i + 1 < sizeof(lower); i++)
        lower[i] =
            (char)(option[i] >= 'A' && option[i] <= 'Z' ? option[i] + 32 : option[i]);
    lower[i] = '\0';
    return strstr(lower, "file") != NULL || strstr(lower, "cert") != NULL ||
           strstr(lower, "key") != NULL || strncmp(lower, "ca", 2) == 0;
}

static void on_warning(void *ctx, const char *message)
{
    (void)ctx;
    fuzz_check(message != NULL && message[0] != '\0', "a warning has text");
}

static void check_settings(const dva_settings *s)
{
    fuzz_check((s->socket_path != NULL) != (s->host != NULL), "Socket xor Host");
    fuzz_check(s->port >= 1 && s->port <= 65535, "port in range");
    fuzz_check(s->tls == DVA_TLS_NONE || s->host != NULL, "TLS only with Host");
    fuzz_check(s->host == NULL || s->password != NULL, "TCP has a password");
    fuzz_check(s->password == NULL || s->password[0] != '\0', "no empty password");
    fuzz_check(s->password_file == NULL || strpbrk(s->password, "\r\n") == NULL,
               "a password from a file is its first line");
    fuzz_check(s->timeout == 0 || s->interval == 0 || s->timeout < s->interval,
               "Timeout below Interval");
    fuzz_check(s->connections >= 1 && s->connections <= 64, "connections in range");
    fuzz_check(s->nquota_users == 0 || s->quota_users != NULL, "quota users set");
    for (size_t i = 0; i < s->nquota_users; i++)
        fuzz_check(s->quota_users[i] != NULL && s->quota_users[i][0] != '\0',
                   "a quota user is non-empty");
    for (size_t i = 0; i < s->nmailboxes; i++)
        fuzz_check(s->mailboxes[i] != NULL && s->mailboxes[i][0] != '\0',
                   "a mailbox mask is non-empty");
}

/* The next line of in (without its LF) into buf; false at the end. */
static bool take_line(fuzz_input *in, char buf[MAX_LINE])
{
    if (in->n == 0)
        return false;
    const uint8_t *lf = memchr(in->p, '\n', in->n);
    size_t len = lf != NULL ? (size_t)(lf - in->p) : in->n;
    size_t keep = len < MAX_LINE - 1 ? len : MAX_LINE - 1;
    memcpy(buf, in->p, keep);
    buf[keep] = '\0';
    len += lf != NULL;
    in->p += len;
    in->n -= len;
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_input in = {data, size};
    char line[MAX_LINE], value[MAX_LINE + 300];
    dva_error err;

    if (!take_line(&in, line))
        return 0;
    dva_config *config = dva_config_new(line);
    fuzz_check(config != NULL, "dva_config_new");
    while (take_line(&in, line)) {
        char *eq = strchr(line, '=');
        const char *val = NULL;
        if (eq != NULL) {
            *eq = '\0';
            val = eq + 1;
            if (names_file(line)) {
                snprintf(value, sizeof(value), "%s/%s", scratch, val);
                for (char *c = value + strlen(scratch) + 1; *c != '\0'; c++)
                    if (*c == '/')
                        *c = '_';
                val = value;
            }
        }
        (void)dva_config_repeatable(line);
        if (dva_config_set(config, line, val, &err) < 0) {
            fuzz_check(err.code == DVA_ERR_USAGE && err.message[0] != '\0',
                       "a refused option is a usage error with a message");
            dva_config_free(config);
            return 0;
        }
    }
    dva_settings settings;
    if (dva_config_finish(config, &settings, on_warning, NULL, &err) == 0) {
        check_settings(&settings);
        dva_settings_free(&settings);
    } else {
        fuzz_check(err.code != DVA_OK && err.message[0] != '\0',
                   "a refused configuration explains itself");
    }
    dva_config_free(config);
    return 0;
}
