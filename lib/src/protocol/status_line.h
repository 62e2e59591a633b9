/* SPDX-License-Identifier: MIT */
/* Reading the status line of a failed reply ("-" and what follows); the
 * parser (parser.c) collects the line and reads a "+" itself. */
#ifndef DVA_STATUS_LINE_H
#define DVA_STATUS_LINE_H

#include <stddef.h>

#include "doveadm/reply.h"

/* Fills r's status, exit_code and status_text from text, the len bytes
 * after the '-' of the status line (without its LF). */
void dva_status_line_failure(dva_reply *r, const char *text, size_t len);

#endif
