/* SPDX-License-Identifier: MIT */
/* The `who` and `who -1` decoders (who.h) and the per-service summary, on
 * a reply parsed from the input.
 * Input: form byte (even: who, odd: who -1), shape byte (fuzz_take_ncols),
 * then the reply bytes. */
#include <string.h>

#include "doveadm/who.h"
#include "fuzz_support.h"

static void check_summary(const dva_who *who)
{
    dva_who_summary sum;
    dva_error err;
    if (dva_who_summarize(who, &sum, &err) < 0) {
        fuzz_check(err.code == DVA_ERR_DECODE, "a summary fails only on overflow");
        return;
    }
    uint64_t sessions = 0, users = 0;
    for (size_t i = 0; i < sum.nservices; i++) {
        const dva_who_service *s = &sum.services[i];
        fuzz_check(s->users >= 1, "a listed service has a user");
        if (i > 0)
            fuzz_check(strcmp(sum.services[i - 1].service, s->service) < 0,
                       "services are sorted and distinct");
        sessions += s->sessions;
        users += s->users;
    }
    fuzz_check(sessions == sum.sessions, "sessions add up over services");
    fuzz_check(sum.users <= users && sum.users <= who->nrows,
               "distinct users are at most the per-service users and the rows");
    fuzz_check(sum.nservices <= who->nrows, "at most one service per row");
    dva_who_summary_free(&sum);
}

static void decode_who(const dva_reply *reply)
{
    dva_who who;
    dva_error err;
    if (dva_who_decode(reply, &who, &err) < 0) {
        fuzz_check(err.code != DVA_OK, "a failed decode has a code");
        return;
    }
    fuzz_check(who.nrows == dva_reply_rows(reply), "one row per reply row");
    for (size_t i = 0; i < who.nrows; i++)
        fuzz_check(who.rows[i].user != NULL && who.rows[i].service != NULL &&
                       who.rows[i].pids != NULL && who.rows[i].ips != NULL,
                   "every column is set");
    check_summary(&who);
    dva_who_free(&who);
}

static void decode_sessions(const dva_reply *reply)
{
    dva_who_sessions s;
    dva_error err;
    if (dva_who_sessions_decode(reply, &s, &err) < 0) {
        fuzz_check(err.code != DVA_OK, "a failed decode has a code");
        return;
    }
    fuzz_check(s.nrows == dva_reply_rows(reply), "one row per reply row");
    for (size_t i = 0; i < s.nrows; i++)
        fuzz_check(s.rows[i].user != NULL && s.rows[i].service != NULL &&
                       s.rows[i].pid != NULL && s.rows[i].ip != NULL,
                   "every column is set");
    dva_who_sessions_free(&s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_input in = {data, size};
    bool sessions = (fuzz_take_byte(&in) & 1) != 0;
    size_t ncols =
        fuzz_take_ncols(&in, sessions ? DVA_WHO_SESSIONS_NCOLS : DVA_WHO_NCOLS);
    dva_reply reply;
    if (fuzz_parse_reply(&in, ncols, &reply)) {
        if (sessions)
            decode_sessions(&reply);
        else
            decode_who(&reply);
    }
    dva_reply_free(&reply);
    return 0;
}
