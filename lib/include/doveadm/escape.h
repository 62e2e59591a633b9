/* SPDX-License-Identifier: MIT */
/* Tab escaping of doveadm fields (both directions), PROTOCOL.md section 5:
 * 0x01 -> 0x01 '1', TAB -> 0x01 't', CR -> 0x01 'r', LF -> 0x01 'n',
 * NUL -> 0x01 '0'. Pure functions on caller memory; no allocation. */
#ifndef DOVEADM_ESCAPE_H
#define DOVEADM_ESCAPE_H

#if defined(DVA_LAYER_BUILD) && !defined(DVA_SEES_PROTOCOL)
#error "doveadm/escape.h belongs to the protocol layer (doc/ARCHITECTURE.md)"
#endif

#include <stddef.h>

/* Number of bytes dva_escape() writes for these len input bytes. */
size_t dva_escaped_len(const char *in, size_t len);

/* Writes the escaped form of in[0..len) to out, which must hold
 * dva_escaped_len(in, len) bytes. Returns the number of bytes written. */
size_t dva_escape(char *out, const char *in, size_t len);

/* Unescapes buf[0..len) in place and returns the new length. 0x01 followed
 * by any byte X other than the five codes gives X; a lone 0x01 at the end is
 * dropped. */
size_t dva_unescape_inplace(char *buf, size_t len);

/* The byte that the escape code c stands for ('1','t','r','n','0' map to
 * their bytes; any other byte stands for itself). */
char dva_unescape_code(char c);

#endif
