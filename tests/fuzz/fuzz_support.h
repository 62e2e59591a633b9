/* SPDX-License-Identifier: MIT */
/* Helpers shared by the libFuzzer targets (tests/fuzz/fuzz_*.c).
 *
 * Most targets read a few argument bytes from the front of the input
 * (fuzz_take_*) and treat the rest as bytes a server sent (fuzz_parse_reply).
 * A broken invariant aborts with a message, which libFuzzer reports as a
 * crash and saves the input for. */
#ifndef DVA_FUZZ_SUPPORT_H
#define DVA_FUZZ_SUPPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "doveadm/reply.h"

typedef struct {
    const uint8_t *p;
    size_t n;
} fuzz_input;

/* The next byte, or 0 when the input is used up. */
uint8_t fuzz_take_byte(fuzz_input *in);

/* A user-name argument: one length byte L, then L bytes (fewer if the input
 * ends; cut at a NUL byte). L == 0xff gives NULL ("any user"). Returns buf
 * or NULL; buf must hold 256 bytes. */
const char *fuzz_take_user(fuzz_input *in, char buf[256]);

/* The row width for a decoder: the command's own width, unless the shape
 * byte's top bit asks for a fuzz-chosen (usually wrong) one. */
size_t fuzz_take_ncols(fuzz_input *in, size_t command_ncols);

/* Parses the remaining input as one reply cut into ncols columns, fed in a
 * single call. Returns true when the reply is complete (bytes after it are
 * ignored); out is initialised either way and must be freed. Checks the
 * reply's structure with fuzz_check_reply(). */
bool fuzz_parse_reply(const fuzz_input *in, size_t ncols, dva_reply *out);

/* Aborts naming what broke when cond is false. */
void fuzz_check(bool cond, const char *what);

/* Structural invariants of a complete reply: offsets increase, every value
 * is NUL-terminated, rows are whole, the accessors agree with the offsets. */
void fuzz_check_reply(const dva_reply *reply);

/* True when s[0..len) is well-formed UTF-8 (no overlongs or surrogates). */
bool fuzz_utf8_valid(const char *s, size_t len);

#endif
