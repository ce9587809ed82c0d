/*
 * Randomness from the operating system (getrandom), for ids, API keys,
 * webhook secrets and leases.
 */
#ifndef REDRESS_RANDOM_H
#define REDRESS_RANDOM_H

#include <stddef.h>
#include <stdint.h>

#include "redress/error.h"

/*
 * Fill buf with len bytes of the system's randomness, waiting for the
 * pool at boot as getrandom does. RD_EIO when the system gives none.
 */
int rd_random_bytes(void *buf, size_t len, rd_error *err);

#endif
