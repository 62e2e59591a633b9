/* SPDX-License-Identifier: MIT */
/* The `mailbox status` decoder (mailbox.h) on a reply parsed from the input.
 * Input: field-count byte (% 10, so 0 and 9 test the refusals), expected
 * user (fuzz_take_user), shape byte (fuzz_take_ncols), then the reply. */
#include <strings.h>

#include "doveadm/mailbox.h"
#include "fuzz_support.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_input in = {data, size};
    size_t nfields = fuzz_take_byte(&in) % (DVA_MAILBOX_MAX_FIELDS + 2);
    char user_buf[256];
    const char *user = fuzz_take_user(&in, user_buf);
    size_t ncols = fuzz_take_ncols(&in, 2 + nfields);
    dva_reply reply;
    if (fuzz_parse_reply(&in, ncols, &reply)) {
        dva_mailbox_status st;
        dva_error err;
        if (dva_mailbox_decode(&reply, nfields, user, &st, &err) == 0) {
            fuzz_check(nfields >= 1 && nfields <= DVA_MAILBOX_MAX_FIELDS,
                       "only a valid field count decodes");
            fuzz_check(st.nfields == nfields, "nfields as asked");
            fuzz_check(st.nrows == dva_reply_rows(&reply), "one row per reply row");
            for (size_t i = 0; i < st.nrows; i++) {
                fuzz_check(user == NULL || strcasecmp(st.rows[i].user, user) == 0,
                           "every row names the expected user");
                fuzz_check(st.rows[i].mailbox != NULL && st.rows[i].mailbox[0] != '\0',
                           "a mailbox name is non-empty");
            }
            dva_mailbox_free(&st);
        } else {
            fuzz_check(err.code != DVA_OK && err.message[0] != '\0',
                       "a failed decode explains itself");
        }
    }
    dva_reply_free(&reply);
    return 0;
}
