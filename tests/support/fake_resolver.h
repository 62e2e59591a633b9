/* SPDX-License-Identifier: MIT */
/* The lookups of the resolver tests: a fake resolve function (no DNS)
 * that answers with loopback addresses and can be held back to play a
 * slow resolver, and loopback listeners to connect to. Waiting is done on
 * conditions with a deadline, never with sleeps. */
#ifndef DVA_FAKE_RESOLVER_H
#define DVA_FAKE_RESOLVER_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "doveadm/resolver.h"

#define WAIT_MS 10000         /* a generous upper bound: reaching it fails the test */
#define SLACK_MS 500          /* how far past a deadline a call may return */
#define ANSWER_FAIL 0         /* the lookup fails: "Name or service not known" */
#define ANSWER_EMPTY 0x10000u /* the name has no address */

struct fake_dns {
    pthread_mutex_t mu;
    pthread_cond_t changed;
    bool hold;           /* lookups wait until this is false */
    unsigned calls;      /* lookups started */
    unsigned returned;   /* lookups finished */
    unsigned answers[4]; /* per call (the last one repeats): a port on
                          * 127.0.0.1, ANSWER_FAIL or ANSWER_EMPTY */
    size_t nanswers;
    char last_name[64];
};
extern struct fake_dns dns;
/* The clock of a resolver made with a refresh age. */
extern uint64_t fake_now;

/* The next lookups wait while hold, and answer answers[call] (the last
 * one repeats). */
void dns_reset(bool hold, const unsigned *answers, size_t n);
void dns_release(void);
unsigned dns_calls(void);
/* Waits until *counter (dns.calls or dns.returned) reaches n. */
void dns_await(const unsigned *counter, unsigned n);

/* A resolver of host:port with the fake lookups (refresh_ms > 0: and the
 * fake clock). */
dva_resolver *resolver(const char *host, unsigned port, uint64_t refresh_ms);
int listen_loopback(unsigned *port);
/* A loopback port nothing listens on (bound, then released). */
unsigned closed_port(void);
/* Connects t (polling its fd): 1 connected, -1 failed (err set). */
int connect_now(dva_transport *t, dva_error *err);
/* Asserts that t connects to the listener `to` and not to `other`. */
void assert_connects_to(dva_transport *t, int to, int other);
dva_transport *transport(dva_resolver *r, uint64_t deadline);

#endif
