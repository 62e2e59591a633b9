/* SPDX-License-Identifier: MIT */
/* The old-statistics decoder (oldstats.h) and its top-N selection, on a
 * reply parsed from the input.
 * Input: generation byte (% 4: auto, 2.2, 2.3, 2.4), scope byte (% 4),
 * field-count byte (0: Dovecot's defaults; else % 6 fields, each taken
 * like a user name by fuzz_take_user), keep_top column and count bytes,
 * shape byte (fuzz_take_ncols), then the reply bytes. */
#include <stdbool.h>
#include <string.h>

#include "doveadm/oldstats.h"
#include "fuzz_support.h"

#define MAX_FUZZ_FIELDS 6

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_input in = {data, size};
    dva_generation gen = (dva_generation)(fuzz_take_byte(&in) % 4);
    dva_oldstats_scope scope = (dva_oldstats_scope)(fuzz_take_byte(&in) % 4);
    uint8_t nfields_byte = fuzz_take_byte(&in);
    char field_buf[MAX_FUZZ_FIELDS][256];
    const char *fields[MAX_FUZZ_FIELDS];
    size_t nfields = nfields_byte % (MAX_FUZZ_FIELDS + 1);
    for (size_t i = 0; i < nfields; i++) {
        fields[i] = fuzz_take_user(&in, field_buf[i]);
        if (fields[i] == NULL)
            fields[i] = "";
    }
    uint8_t top_column = fuzz_take_byte(&in);
    size_t top_n = fuzz_take_byte(&in) % 8;
    size_t ncols = fuzz_take_ncols(&in, 0);

    dva_oldstats_layout layout;
    dva_error err;
    if (dva_oldstats_layout_init(&layout, gen, scope, nfields_byte == 0 ? NULL : fields,
                                 nfields, &err) < 0) {
        fuzz_check(err.code == DVA_ERR_USAGE, "a refused layout is a usage error");
        return 0;
    }
    fuzz_check(layout.ncolumns > 0 && layout.ncolumns <= DVA_OLDSTATS_MAX_COLUMNS,
               "a layout has 1 to DVA_OLDSTATS_MAX_COLUMNS columns");
    for (size_t c = 0; c < layout.ncolumns; c++)
        fuzz_check(dva_oldstats_column(&layout, layout.columns[c]) == (long)c,
                   "column names are distinct and found");

    dva_reply reply;
    if (fuzz_parse_reply(&in, ncols, &reply)) {
        dva_oldstats st;
        if (dva_oldstats_decode(&reply, &layout, &st, &err) == 0) {
            bool keyed = scope != DVA_OLDSTATS_GLOBAL;
            fuzz_check(st.nrows == st.server_rows &&
                           st.nrows * layout.ncolumns == reply.nvalues,
                       "one row per ncolumns values");
            for (size_t r = 0; r < st.nrows; r++)
                fuzz_check(keyed ==
                               (st.rows[r].key != NULL && st.rows[r].key[0] != '\0'),
                           "a keyed scope has a non-empty key, global none");
            size_t column = top_column % layout.ncolumns;
            dva_oldstats_keep_top(&st, column, top_n);
            size_t want = top_n == 0 || st.server_rows < top_n ? st.server_rows : top_n;
            fuzz_check(st.nrows == want, "keep_top keeps min(n, rows)");
            /* Rows are only reordered when some are dropped. */
            for (size_t r = 1; top_n > 0 && top_n < st.server_rows && r < st.nrows; r++)
                fuzz_check(st.rows[r - 1].values[column] >= st.rows[r].values[column],
                           "kept rows are the largest first");
            dva_oldstats_free(&st);
        } else {
            fuzz_check(err.code != DVA_OK && err.message[0] != '\0',
                       "a failed decode explains itself");
        }
    }
    dva_reply_free(&reply);
    return 0;
}
