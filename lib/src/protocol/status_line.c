/* SPDX-License-Identifier: MIT */
/* The status line of a failed doveadm reply (PROTOCOL.md section 4),
 * read into the reply's status, exit_code and status_text.
 *
 * - exit_code follows Dovecot's doveadm-protocol.h / doveadm-util.c table:
 *   OK 0, USAGE 64 (EX_USAGE), DATAERR 65, NOUSER 67, NOTFOUND 68
 *   (EX_NOHOST), TEMPFAIL 75, PROTOCOL 76, NOPERM 77, CHANGED 2,
 *   NOREPLICATE 1001, REFERRAL 1002, EXPIRED 1003, UNKNOWN -1
 *   (DOVEADM_EX_UNKNOWN). A bare "-" is FAILED with exit_code 1 (a generic
 *   failure: Dovecot sends it for unknown commands). An unknown code is OTHER
 *   with exit_code -1, as Dovecot's doveadm_str_to_exit_code() gives -1 for
 *   names it does not know.
 * - A named code may be followed by " text" (as Dovecot 2.4's client splits
 *   the code at the first space); REFERRAL's text is the target and becomes
 *   status_text; for the other codes status_text is the whole text after '-'.
 * - 2.2 numeric codes ("-75") that Dovecot names map to the named status
 *   (status_text keeps the digits); other numbers up to INT_MAX give NUMERIC;
 *   a longer number is OTHER.
 * - status_text is copied as sent when it is printable (no byte below 0x20,
 *   no 0x7f) and fits DVA_STATUS_TEXT_MAX; otherwise it holds the
 *   dva_quote() rendering (control bytes as \xNN, cut with "...").
 */
#include "status_line.h"

#include <limits.h>
#include <stdbool.h>
#include <string.h>

/* status_text: the bytes as sent when printable and short enough, else
 * their dva_quote() rendering. */
static void set_status_text(dva_reply *r, const char *text, size_t len)
{
    bool plain = len < sizeof(r->status_text);
    for (size_t i = 0; plain && i < len; i++) {
        unsigned char c = (unsigned char)text[i];
        plain = c >= 0x20 && c != 0x7f;
    }
    if (plain) {
        memcpy(r->status_text, text, len);
        r->status_text[len] = '\0';
    } else {
        dva_quote(r->status_text, sizeof(r->status_text), text, len);
    }
}

static const struct {
    const char *name;
    dva_status status;
    int exit_code;
} CODES[] = {
    {"UNKNOWN", DVA_STATUS_UNKNOWN, -1},
    {"TEMPFAIL", DVA_STATUS_TEMPFAIL, 75},
    {"USAGE", DVA_STATUS_USAGE, 64},
    {"NOUSER", DVA_STATUS_NOUSER, 67},
    {"NOPERM", DVA_STATUS_NOPERM, 77},
    {"PROTOCOL", DVA_STATUS_PROTOCOL, 76},
    {"DATAERR", DVA_STATUS_DATAERR, 65},
    {"NOREPLICATE", DVA_STATUS_NOREPLICATE, 1001},
    {"NOTFOUND", DVA_STATUS_NOTFOUND, 68},
    {"CHANGED", DVA_STATUS_CHANGED, 2},
    {"EXPIRED", DVA_STATUS_EXPIRED, 1003},
    {"REFERRAL", DVA_STATUS_REFERRAL, 1002},
};
#define N_CODES (sizeof(CODES) / sizeof(CODES[0]))

void dva_status_line_failure(dva_reply *r, const char *text, size_t len)
{
    if (len == 0) {
        r->status = DVA_STATUS_FAILED;
        r->exit_code = 1;
        r->status_text[0] = '\0';
        return;
    }

    const char *space = memchr(text, ' ', len);
    size_t word = space != NULL ? (size_t)(space - text) : len;
    for (size_t i = 0; i < N_CODES; i++) {
        if (strlen(CODES[i].name) != word || memcmp(CODES[i].name, text, word) != 0)
            continue;
        r->status = CODES[i].status;
        r->exit_code = CODES[i].exit_code;
        if (CODES[i].status == DVA_STATUS_REFERRAL)
            set_status_text(r, text + word + (space != NULL),
                            len - word - (space != NULL));
        else
            set_status_text(r, text, len);
        return;
    }

    /* Dovecot 2.2: "-<number>" */
    int number = 0;
    bool numeric = true;
    for (size_t i = 0; numeric && i < len; i++) {
        int d = text[i] - '0';
        if (d < 0 || d > 9 || number > (INT_MAX - d) / 10)
            numeric = false;
        else
            number = number * 10 + d;
    }
    set_status_text(r, text, len);
    if (!numeric) {
        r->status = DVA_STATUS_OTHER;
        r->exit_code = -1;
        return;
    }
    r->status = DVA_STATUS_NUMERIC;
    r->exit_code = number;
    for (size_t i = 0; i < N_CODES; i++) {
        /* -1 (UNKNOWN) cannot be written as digits; 1002 (REFERRAL) would
         * lack its target, so it stays NUMERIC */
        if (CODES[i].exit_code == number && CODES[i].status != DVA_STATUS_REFERRAL) {
            r->status = CODES[i].status;
            break;
        }
    }
}
