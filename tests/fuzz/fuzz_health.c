/* SPDX-License-Identifier: MIT */
/* The server-health decoders (health.h) on a reply parsed from the input.
 * Input: command byte (low two bits: 0 service status, 1 process status,
 * 2 indexer list, 3 penalty), shape byte (fuzz_take_ncols), then the
 * reply bytes. */
#include <string.h>

#include "doveadm/health.h"
#include "fuzz_support.h"

static void decode_services(const dva_reply *reply)
{
    dva_services s;
    dva_error err;
    if (dva_services_decode(reply, &s, &err) < 0) {
        fuzz_check(err.code != DVA_OK && s.rows == NULL, "a failed decode has a code");
        return;
    }
    fuzz_check(s.nrows == dva_reply_rows(reply), "one row per reply row");
    for (size_t i = 0; i < s.nrows; i++)
        fuzz_check(s.rows[i].name != NULL && s.rows[i].name[0] != '\0',
                   "every service has a name");
    dva_services_free(&s);
}

static void decode_processes(const dva_reply *reply)
{
    dva_processes p;
    dva_error err;
    if (dva_processes_decode(reply, &p, &err) < 0) {
        fuzz_check(err.code != DVA_OK && p.rows == NULL, "a failed decode has a code");
        return;
    }
    fuzz_check(p.nrows == dva_reply_rows(reply), "one row per reply row");
    for (size_t i = 0; i < p.nrows; i++)
        fuzz_check(p.rows[i].name != NULL && p.rows[i].pid > 0,
                   "every process has a service and a pid");
    dva_processes_free(&p);
}

static void decode_indexer(const dva_reply *reply)
{
    dva_indexer x;
    dva_error err;
    if (dva_indexer_decode(reply, &x, &err) < 0) {
        fuzz_check(err.code != DVA_OK && x.rows == NULL, "a failed decode has a code");
        return;
    }
    fuzz_check(x.nrows == dva_reply_rows(reply), "one row per reply row");
    for (size_t i = 0; i < x.nrows; i++)
        fuzz_check(x.rows[i].username != NULL && x.rows[i].status != NULL,
                   "every column is set");
    dva_indexer_free(&x);
}

static void decode_penalty(const dva_reply *reply)
{
    dva_penalties p;
    dva_error err;
    if (dva_penalties_decode(reply, &p, &err) < 0) {
        fuzz_check(err.code != DVA_OK && p.rows == NULL, "a failed decode has a code");
        return;
    }
    uint64_t max = 0;
    for (size_t i = 0; i < p.nrows; i++)
        if (p.rows[i].penalty > max)
            max = p.rows[i].penalty;
    fuzz_check(max == p.max_penalty, "the highest penalty is the rows' maximum");
    dva_penalties_free(&p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const size_t widths[] = {DVA_SERVICE_NCOLS, DVA_PROCESS_NCOLS,
                                    DVA_INDEXER_NCOLS, DVA_PENALTY_NCOLS};
    fuzz_input in = {data, size};
    unsigned which = fuzz_take_byte(&in) & 3;
    size_t ncols = fuzz_take_ncols(&in, widths[which]);
    dva_reply reply;
    if (fuzz_parse_reply(&in, ncols, &reply)) {
        switch (which) {
        case 0:
            decode_services(&reply);
            break;
        case 1:
            decode_processes(&reply);
            break;
        case 2:
            decode_indexer(&reply);
            break;
        default:
            decode_penalty(&reply);
            break;
        }
    }
    dva_reply_free(&reply);
    return 0;
}
