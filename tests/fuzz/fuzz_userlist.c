/* SPDX-License-Identifier: MIT */
/* The `user <mask>` JSON parser (userlist.h).
 * Input: max-users byte (0: no practical limit), mode byte (odd: the rest is
 * a reply to decode with dva_userlist_decode; even: the rest is JSON text for
 * dva_userlist_parse). */
#include <string.h>

#include "doveadm/userlist.h"
#include "fuzz_support.h"

static void check_list(const dva_userlist *list, size_t max_users, size_t text_len)
{
    fuzz_check(list->nusers <= max_users, "at most max_users names");
    for (size_t i = 0; i < list->nusers; i++) {
        size_t len = strlen(list->users[i]);
        fuzz_check(len > 0, "no empty name");
        fuzz_check(len <= text_len, "a name is never longer than its text");
        fuzz_check(fuzz_utf8_valid(list->users[i], len), "names are valid UTF-8");
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_input in = {data, size};
    uint8_t max = fuzz_take_byte(&in);
    size_t max_users = max == 0 ? (size_t)1 << 20 : (size_t)(max % 16);
    bool as_reply = (fuzz_take_byte(&in) & 1) != 0;
    dva_userlist list;
    dva_error err;

    if (as_reply) {
        dva_reply reply;
        if (fuzz_parse_reply(&in, 1, &reply)) {
            if (dva_userlist_decode(&reply, max_users, &list, &err) == 0) {
                check_list(&list, max_users, reply.data_len);
                dva_userlist_free(&list);
            }
        }
        dva_reply_free(&reply);
        return 0;
    }
    /* libFuzzer's buffer has exactly the input's size: ASan sees overreads. */
    if (dva_userlist_parse((const char *)in.p, in.n, max_users, &list, &err) == 0) {
        check_list(&list, max_users, in.n);
        dva_userlist_free(&list);
    } else {
        fuzz_check(list.users == NULL && list.nusers == 0, "a failure leaves no list");
        fuzz_check(err.code != DVA_OK && err.message[0] != '\0',
                   "a failure explains itself");
    }
    return 0;
}
