/* SPDX-License-Identifier: MIT */
/* libdoveadm: a non-blocking client for Dovecot's doveadm protocol. */
#ifndef DOVEADM_DOVEADM_H
#define DOVEADM_DOVEADM_H

#include "doveadm/error.h"
#include "doveadm/escape.h"
#include "doveadm/clock.h"
#include "doveadm/reply.h"
#include "doveadm/transport.h"
#include "doveadm/socket_transport.h"
#include "doveadm/tls_transport.h"
#include "doveadm/request.h"
#include "doveadm/client.h"
#include "doveadm/command.h"
#include "doveadm/commands.h"
#include "doveadm/stats.h"
#include "doveadm/who.h"
#include "doveadm/quota.h"
#include "doveadm/mailbox.h"
#include "doveadm/userlist.h"
#include "doveadm/generation.h"
#include "doveadm/oldstats.h"

#endif
