/* SPDX-License-Identifier: MIT */
/* The `quota get -A` decoder (quota.h) on a reply parsed from the input.
 * Input: expected user (fuzz_take_user), shape byte (fuzz_take_ncols),
 * then the reply bytes. */
#include <string.h>
#include <strings.h>

#include "doveadm/quota.h"
#include "fuzz_support.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_input in = {data, size};
    char user_buf[256];
    const char *user = fuzz_take_user(&in, user_buf);
    size_t ncols = fuzz_take_ncols(&in, DVA_QUOTA_NCOLS);
    dva_reply reply;
    if (fuzz_parse_reply(&in, ncols, &reply)) {
        dva_quota quota;
        dva_error err;
        if (dva_quota_decode(&reply, user, &quota, &err) == 0) {
            fuzz_check(reply.status == DVA_STATUS_OK ||
                           reply.status == DVA_STATUS_TEMPFAIL,
                       "only a success or a TEMPFAIL with rows decodes");
            fuzz_check(quota.nrows == dva_reply_rows(&reply), "one row per reply row");
            bool any_error = false;
            for (size_t i = 0; i < quota.nrows; i++) {
                const dva_quota_row *r = &quota.rows[i];
                /* Never credit a value to another user (PROTOCOL.md 6.3). */
                fuzz_check(user == NULL || strcasecmp(r->user, user) == 0,
                           "every row names the expected user");
                fuzz_check(r->root != NULL && r->type_name != NULL, "strings set");
                fuzz_check(!r->unlimited || r->limit == 0, "unlimited has limit 0");
                any_error = any_error || r->error;
            }
            fuzz_check(reply.status != DVA_STATUS_TEMPFAIL || any_error,
                       "a decoded TEMPFAIL names a failed resource");
            dva_quota_free(&quota);
        } else {
            fuzz_check(err.code != DVA_OK && err.message[0] != '\0',
                       "a failed decode explains itself");
        }
    }
    dva_reply_free(&reply);
    return 0;
}
