/* The scan directory: see plugin_scan.h. */
#include "plugin_scan.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "plugin_collectd.h"

char *dvp_scan_dir_create(const char *parent, dvp_logger *log)
{
    size_t size = strlen(parent) + sizeof("/collectd-dovecot.XXXXXX");
    char *dir = malloc(size);
    if (dir == NULL)
        return NULL;
    snprintf(dir, size, "%s/collectd-dovecot.XXXXXX", parent);
    if (mkdtemp(dir) == NULL) {
        dvp_log(log, LOG_WARNING,
                "QuotaScanDir \"%s\": cannot create a private directory there (%s); "
                "quota is read one request per user, which is slower. Give a "
                "directory collectd can write and the doveadm server can read.",
                parent, strerror(errno));
        free(dir);
        return NULL;
    }
    return dir;
}

void dvp_scan_dir_remove(char *dir)
{
    if (dir == NULL)
        return;
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    DIR *d = fd < 0 ? NULL : fdopendir(fd);
    if (d != NULL) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL)
            if (strncmp(e->d_name, "users.", 6) == 0)
                unlinkat(fd, e->d_name, 0);
        closedir(d);
    } else if (fd >= 0) {
        close(fd);
    }
    rmdir(dir);
    free(dir);
}
