/* SPDX-License-Identifier: MIT */
/* Names in collectd identifiers: sanitising and joining. Every byte outside
 * [A-Za-z0-9@._+=-] becomes '_' ("User quota" -> "User_quota"), so a name
 * from the server can never inject '/' or whitespace into an identifier. */
#ifndef DVP_PLUGIN_NAMES_H
#define DVP_PLUGIN_NAMES_H

#include <stdbool.h>
#include <stddef.h>

/* True for the bytes kept as they are. */
bool dvp_name_byte_ok(unsigned char c);

/* True when every byte of name is kept as it is (and name is not empty). */
bool dvp_name_clean(const char *name);

/* Appends part, sanitised, at dst + *pos (dst holds size bytes with the
 * NUL; *pos < size) and NUL-terminates it; *pos moves past it. Returns
 * false, with dst holding a cut version, when it does not fit. */
bool dvp_name_append(char *dst, size_t size, size_t *pos, const char *part);

/* Writes the nparts parts, each sanitised, joined with '-', into dst
 * (size bytes with the NUL). Returns false, with dst holding a cut
 * version, when the result does not fit. No parts gives "". */
bool dvp_name_join(char *dst, size_t size, const char *const *parts, size_t nparts);

#endif
