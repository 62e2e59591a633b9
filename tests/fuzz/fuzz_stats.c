/* SPDX-License-Identifier: MIT */
/* The `stats dump` decoder (stats.h) on a reply parsed from the input.
 * Input: shape byte (fuzz_take_ncols), then the reply bytes. */
#include <math.h>
#include <string.h>

#include "doveadm/stats.h"
#include "fuzz_support.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_input in = {data, size};
    size_t ncols = fuzz_take_ncols(&in, DVA_STATS_NCOLS);
    dva_reply reply;
    if (fuzz_parse_reply(&in, ncols, &reply)) {
        dva_stats stats;
        dva_error err;
        if (dva_stats_decode(&reply, &stats, &err) == 0) {
            fuzz_check(reply.status == DVA_STATUS_OK, "only a success decodes");
            fuzz_check(stats.nrows == dva_reply_rows(&reply), "one row per reply row");
            for (size_t i = 0; i < stats.nrows; i++) {
                const dva_stats_row *r = &stats.rows[i];
                fuzz_check(r->metric != NULL && r->metric[0] != '\0' &&
                               r->field != NULL && r->field[0] != '\0',
                           "metric and field are non-empty strings");
                const double d[] = {r->min,    r->max,    r->avg,
                                    r->median, r->stddev, r->p95};
                for (size_t k = 0; k < sizeof(d) / sizeof(d[0]); k++)
                    fuzz_check(!isinf(d[k]), "no infinite figure");
            }
            dva_stats_free(&stats);
        } else {
            fuzz_check(err.code != DVA_OK && err.message[0] != '\0',
                       "a failed decode explains itself");
        }
    }
    dva_reply_free(&reply);
    return 0;
}
