/*
 * Bytes as lower-case hexadecimal text: git object ids, SHA-256 digests,
 * API key ids, mirror ids.
 */
#ifndef REDRESS_HEX_H
#define REDRESS_HEX_H

#include <stddef.h>

/* The 2 * len hex digits of bytes and a NUL into out (2 * len + 1 bytes). */
void rd_hex_encode(char *out, const void *bytes, size_t len);

#endif
