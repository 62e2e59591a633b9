/* SPDX-License-Identifier: MIT */
/* The identifier layouts (IdentifierLayout; doc/metrics.md, "Identifier
 * layouts").
 *
 * classic (the default): plugin_instance is the instance name and the type
 * instance holds everything else, as in the table of plugin_submit.h.
 *
 * labels: a value that names a user (quota, mailbox status) or an
 * old-statistics key (a user, domain or IP) has that name ALONE as its type
 * instance; the rest of the classic type instance moves to the plugin
 * instance, after the instance name and a '-':
 *
 *   type         classic                        labels
 *                plugin_instance/type_instance   plugin_instance/type_instance
 *   bytes        local/alice-User_quota-used     local-User_quota-used/alice
 *   percent      local/alice-User_quota-storage  local-User_quota-storage/alice
 *   email_size   local/alice-INBOX               local-INBOX/alice
 *   derive       local/old_user-alice-num_cmds   local-old_user-num_cmds/alice
 *
 * Every other value is the same in both. Quota notifications are named as
 * their percent value (plugin_notify.c). The parts and their order are the
 * classic ones, so two values have the same identifier in one layout
 * exactly when they do in the other. collectd's write_prometheus makes the
 * plugin instance the label named after the plugin ("dovecot") and the type
 * instance the label "type" (collectd src/write_prometheus.c), so in the
 * labels layout the user is a label of its own. */
#ifndef DVP_PLUGIN_LAYOUT_H
#define DVP_PLUGIN_LAYOUT_H

#include <stdbool.h>
#include <stddef.h>

/* Where the name (user or key) is in a classic type instance: len bytes
 * from off (off 0, or just after a '-'); len 0: the value names none. */
typedef struct {
    size_t off, len;
} dvp_layout_key;

/* The labels layout of one value: from instance and the classic type
 * instance ti (with its key), writes the plugin instance into pi and the
 * type instance into ti_out (each size bytes with the NUL). Returns false,
 * writing nothing, when the key is not inside ti or pi would not fit. */
bool dvp_layout_labels(const char *instance, const char *ti, dvp_layout_key key,
                       char *pi, char *ti_out, size_t size);

#endif
