/* SPDX-License-Identifier: MIT */
/* What the check tool prints and the status it exits with.
 *
 * Status (Nagios plugin convention): OK 0, WARNING 1, CRITICAL 2,
 * UNKNOWN 3. UNKNOWN when the server did not answer (cannot connect, or
 * authentication failed); otherwise CRITICAL when a quota is at or above
 * QuotaFailure, else UNKNOWN when a step failed (stats, who, the user
 * listing, a user's quota or mailboxes: something could not be checked),
 * else WARNING when a quota is at or above QuotaWarning, else OK. The
 * levels are the plugin's (dvp_quota_level, Dovecot's unclamped percent). */
#ifndef CHK_OUTPUT_H
#define CHK_OUTPUT_H

#include <stdio.h>

#include "check_host.h"
#include "doveadm/scrape.h"

typedef enum {
    CHK_OK = 0,
    CHK_WARNING = 1,
    CHK_CRITICAL = 2,
    CHK_UNKNOWN = 3
} chk_status;

typedef struct {
    chk_status status;
    char summary[1024]; /* one line, after "DOVECOT <STATUS> - " */
} chk_verdict;

const char *chk_status_name(chk_status status);

/* The verdict on one read; where names the server ("/run/...", "host port N"). */
void chk_verdict_of(const dva_scrape_result *result, double quota_warning,
                    double quota_failure, const char *where, chk_verdict *out);

/* "DOVECOT WARNING - summary" and a newline. */
void chk_print_status(FILE *out, const chk_verdict *verdict);

/* For people: the values (type-type_instance and value, in the plugin's
 * order), then the notifications the plugin would send on this first read. */
void chk_print_table(FILE *out, const chk_capture *capture);

/* For scripts: one collectd PUTVAL line per value, as the exec and
 * unixsock plugins take them:
 *   PUTVAL "host/dovecot-local/bool-up" interval=10.000 1700000000.000:1 */
void chk_print_putval(FILE *out, const chk_capture *capture);

/* The value of v as collectd prints it (gauge %.15g, integers whole). */
void chk_format_value(const chk_value *v, char *buf, size_t size);

#endif
