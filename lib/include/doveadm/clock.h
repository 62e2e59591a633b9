/* Monotonic time in milliseconds, for deadlines. */
#ifndef DOVEADM_CLOCK_H
#define DOVEADM_CLOCK_H

#include <stdint.h>

/* Milliseconds on CLOCK_MONOTONIC. */
uint64_t dva_now_ms(void);

#endif
