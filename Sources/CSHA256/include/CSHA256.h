#ifndef FEEDSPOOL_CSHA256_H
#define FEEDSPOOL_CSHA256_H

#include <stddef.h>
#include <stdint.h>

/// SHA-256's 64 round constants.
extern const uint32_t feedspool_sha256_round_constants[64];

/// 1 when this CPU has the x86 SHA extensions (with SSSE3 and SSE4.1), else 0.
int feedspool_sha256_accelerated(void);

/// Runs SHA-256's compression over `blocks` 64-byte blocks at `data`, updating
/// `state` (a..h, host order). Only to be called when `feedspool_sha256_accelerated()`
/// said 1.
void feedspool_sha256_blocks(uint32_t state[8], const uint8_t *data, size_t blocks);

#endif
