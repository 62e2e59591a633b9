/* SPDX-License-Identifier: MIT */
/* The collectd headers the plugin uses, in the order they need. */
#ifndef DVP_PLUGIN_COLLECTD_H
#define DVP_PLUGIN_COLLECTD_H

#include "collectd/core/daemon/collectd.h"
#include "collectd/core/daemon/plugin.h"

#define DVP_PLUGIN_NAME "dovecot"

#endif
