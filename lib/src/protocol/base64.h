/* SPDX-License-Identifier: MIT */
/* Standard base64 (RFC 4648) on one line, for PLAIN authentication. */
#ifndef DVA_BASE64_H
#define DVA_BASE64_H

#include <stddef.h>

/* Bytes dva_base64_encode() writes for len input bytes (no NUL). */
size_t dva_base64_len(size_t len);
/* Encodes without line breaks; out must hold dva_base64_len(len) bytes. */
size_t dva_base64_encode(char *out, const void *in, size_t len);

#endif
