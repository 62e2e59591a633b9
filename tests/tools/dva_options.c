/* SPDX-License-Identifier: MIT */
/* Prints the option schema of libdoveadm (doveadm/settings.h), one option
 * a line: name TAB expected value TAB example TAB repeatable (0 or 1).
 * doc/gen_docs.py --schema compares it with doc/reference.json. */
#include <stdio.h>

#include "doveadm/settings.h"

int main(void)
{
    dva_option_info o;
    for (size_t i = 0; dva_config_option(i, &o); i++)
        printf("%s\t%s\t%s\t%d\n", o.name, o.expected, o.example, o.repeatable ? 1 : 0);
    return ferror(stdout) ? 1 : 0;
}
