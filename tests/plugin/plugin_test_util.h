/* SPDX-License-Identifier: MIT */
/* Helpers of the plugin tests: collectd configuration trees, scrape
 * results built from captured Dovecot replies, and a fake doveadm server
 * that answers with those captures. */
#ifndef DVP_PLUGIN_TEST_UTIL_H
#define DVP_PLUGIN_TEST_UTIL_H

#include <stdbool.h>
#include <stddef.h>

#include "plugin_collectd.h"
#include "plugin_log.h"
#include "plugin_submit.h"

#include "doveadm/scrape.h"

/* ---- oconfig trees (what collectd's parser hands to the plugin) ---- */

/* A new item (a block when it gets children). Free the root with
 * tu_ci_free(). Children are appended in place (room for 64). */
oconfig_item_t *tu_ci_new(const char *key);
oconfig_item_t *tu_ci_child(oconfig_item_t *parent, const char *key);
oconfig_item_t *tu_ci_str(oconfig_item_t *item, const char *value);
oconfig_item_t *tu_ci_num(oconfig_item_t *item, double value);
oconfig_item_t *tu_ci_bool(oconfig_item_t *item, bool value);
/* Shorthand: a child line `key "value"`. */
oconfig_item_t *tu_ci_opt(oconfig_item_t *parent, const char *key, const char *value);
void tu_ci_free(oconfig_item_t *root);

/* ---- results from captures (tests/data/captures) ---- */

/* Parses a capture file as one reply cut into ncols. */
void tu_parse_capture(const char *name, size_t ncols, dva_reply *out);

/* An up result with no step attempted. Free with dva_scrape_result_free. */
void tu_result_init(dva_scrape_result *r);
void tu_result_stats(dva_scrape_result *r, const char *capture);
void tu_result_who(dva_scrape_result *r, const char *capture);
dva_scrape_user *tu_result_user(dva_scrape_result *r, const char *name);
/* The user's quota step, decoded from capture (NULL: an empty success). */
void tu_user_quota(dva_scrape_user *u, const char *capture);
/* A failed step. */
void tu_fail_step(dva_scrape_step *step, dva_errcode code, const char *message);
/* The same for a user's step. */
void tu_fail_user_step(dva_user_step *step, dva_errcode code, const char *message);
/* Adds the user's mailbox status for one more mask, from capture
 * (fields messages unseen vsize). */
void tu_user_mailbox(dva_scrape_user *u, const char *capture);
/* One quota row set by hand (replaces the user's quota). Strings must
 * outlive the result (use literals). */
void tu_user_quota_row(dva_scrape_user *u, const char *root, dva_quota_type type,
                       uint64_t value, uint64_t limit, uint64_t percent);

/* ---- a fake doveadm server ---- */

/* What a good Dovecot 2.3.19 sends for one request line (flags TAB user
 * TAB command ...), from the captures: stats dump -> stats_dump.bin,
 * who -> who.bin, quota get for <user> -> quota_<local part>.bin, mailbox
 * status for alice -> mailbox_status_alice.bin, anything else "\n-\n".
 * NULL for a line with fewer than 3 fields. Free with free(). */
char *tu_good_reply(const char *line, size_t *len);
/* "PLAIN" TAB base64("\0doveadm\0" password): the client's auth line. */
void tu_plain_line(char *out, size_t size, const char *password);

typedef struct tu_server tu_server;
/* Listens on a UNIX socket (path NULL) or on 127.0.0.1 (tcp true) and
 * answers every connection in a thread: "+" to VERSION (or "-" then
 * "+"/"-" to PLAIN when password is set), then per request line
 * tu_good_reply(). */
tu_server *tu_server_start(bool tcp, const char *password);
const char *tu_server_path(const tu_server *s);
unsigned tu_server_port(const tu_server *s);
/* Number of connections accepted so far. */
unsigned tu_server_connections(const tu_server *s);
void tu_server_stop(tu_server *s);

/* ---- a submitter with its logger and a scrape result ---- */

typedef struct {
    dvp_logger log;
    dvp_submit submit;
    dva_scrape_result result;
} tu_submit_fixture;

/* cmocka setup: the collectd stubs reset, then a tu_submit_fixture for
 * instance "local" (report host host, or NULL) with the given interval and
 * an empty result, in *state. */
int tu_submit_setup(void **state, const char *host, cdtime_t interval);
/* cmocka teardown of tu_submit_setup; resets the stubs again. */
int tu_submit_teardown(void **state);

#endif
