/* SPDX-License-Identifier: MIT */
/* The generation from read to read, logged: see plugin_versions.h. */
#include "plugin_versions.h"

void dvp_versions_init(dvp_versions *v, dva_generation configured, dvp_logger *log)
{
    dva_read_memory_init(&v->memory, configured);
    v->log = log;
}

dva_generation dvp_versions_after_read(dvp_versions *v, const dva_scrape_result *r)
{
    return dva_read_memory_after(&v->memory, r, dvp_lib_notice, v->log);
}
