/* SPDX-License-Identifier: MIT */
/* The private directory of a server-side quota scan: see
 * doveadm/quota_scan.h. */
#include "doveadm/quota_scan.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "scan_file.h"

char *dva_quota_scan_dir_create(const char *parent, const char *name, dva_error *err)
{
    size_t size = strlen(parent) + 1 + strlen(name) + sizeof(".XXXXXX");
    char *dir = malloc(size);
    if (dir == NULL) {
        dva_fail(err, DVA_ERR_NOMEM, "%s", strerror(ENOMEM));
        return NULL;
    }
    snprintf(dir, size, "%s/%s.XXXXXX", parent, name);
    if (mkdtemp(dir) == NULL) {
        dva_fail(err, DVA_ERR_IO, "%s", strerror(errno));
        free(dir);
        return NULL;
    }
    return dir;
}

void dva_quota_scan_dir_remove(char *dir)
{
    if (dir == NULL)
        return;
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    DIR *d = fd < 0 ? NULL : fdopendir(fd);
    if (d != NULL) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL)
            if (strncmp(e->d_name, DVA_SCAN_FILE_PREFIX,
                        sizeof(DVA_SCAN_FILE_PREFIX) - 1) == 0)
                unlinkat(fd, e->d_name, 0);
        closedir(d);
    } else if (fd >= 0) {
        close(fd);
    }
    rmdir(dir);
    free(dir);
}
