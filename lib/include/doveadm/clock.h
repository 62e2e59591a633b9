/* SPDX-License-Identifier: MIT */
/* Monotonic time in milliseconds, for deadlines. */
#ifndef DOVEADM_CLOCK_H
#define DOVEADM_CLOCK_H

#if defined(DVA_LAYER_BUILD) && !defined(DVA_SEES_UTIL)
#error "doveadm/clock.h belongs to the util layer (doc/ARCHITECTURE.md)"
#endif

#include <stdint.h>

/* Milliseconds on CLOCK_MONOTONIC. */
uint64_t dva_now_ms(void);

#endif
