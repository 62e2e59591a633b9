/* SPDX-License-Identifier: MIT */
/* The client state machine (client.h) over the memory transport: the input
 * is what the server sends, the client must answer every request it
 * accepted exactly once, in order, and stop.
 *
 * Input: options byte (bit 0: a password; bits 1-3: read chunk, 0 is
 * unlimited; bits 4-6: write chunk; bit 7: connect takes two calls), plan
 * byte (bits 0-1: 0 `who`, 1 `stats dump`, 2 or 3 `quota get -A` for N
 * users, N = bits 4-5 plus 1; bit 2: the last quota request is sent after
 * the first result; bit 3: then a server-wide command is tried too, which
 * must be refused), then
 * the server's bytes (handshake answer included), followed by EOF. */
#include <string.h>

#include "doveadm/client.h"
#include "doveadm/memory_transport.h"
#include "doveadm/quota.h"
#include "doveadm/stats.h"
#include "doveadm/who.h"
#include "fuzz_support.h"

#define MAX_REQUESTS 4

static const char *const users[MAX_REQUESTS] = {
    "alice@example.com", "bob@example.com", "carol@example.com", "dave@example.com"};

typedef struct {
    dva_client *client;
    size_t sent, returned;
} run;

static void send_request(run *r, const dva_command *cmd, const char *user)
{
    /* Tags count from 1: the n-th accepted request has tag n. */
    dva_request req = dva_command_request(cmd, user, (void *)(r->sent + 1));
    dva_error err;
    if (dva_client_send(r->client, &req, &err) == 0)
        r->sent++;
    else
        fuzz_check(err.code != DVA_OK, "a refused request has an error");
}

static void check_result(run *r, const dva_result *res)
{
    r->returned++;
    fuzz_check(r->returned <= r->sent, "no more results than requests");
    fuzz_check(res->tag == (void *)r->returned, "results come back in order");
    if (res->error.code == DVA_OK) {
        fuzz_check(res->reply.status == DVA_STATUS_OK, "a success has status OK");
        fuzz_check_reply(&res->reply);
    } else if (res->error.code == DVA_ERR_COMMAND) {
        fuzz_check(res->reply.status != DVA_STATUS_OK, "a failure has its status");
    } else {
        fuzz_check(res->reply.nvalues == 0, "a connection failure has no values");
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_input in = {data, size};
    uint8_t opts = fuzz_take_byte(&in);
    uint8_t plan = fuzz_take_byte(&in);

    dva_transport *t = dva_memory_transport_new();
    fuzz_check(t != NULL, "transport");
    dva_memory_transport_set_read_chunk(t, (opts >> 1) & 7);
    dva_memory_transport_set_write_chunk(t, (opts >> 4) & 7);
    if ((opts & 0x80) != 0)
        dva_memory_transport_set_connect_delay(t, 1);
    dva_memory_transport_push(t, in.p, in.n);
    dva_memory_transport_eof(t);

    dva_client_options options = {.password = (opts & 1) != 0 ? "secret" : NULL};
    run r = {.client = dva_client_new(t, &options)};
    fuzz_check(r.client != NULL, "client");

    dva_command cmd;
    size_t nquota = 0;
    bool late = false;
    switch (plan & 3) {
    case 0:
        dva_who_command(&cmd);
        send_request(&r, &cmd, NULL);
        break;
    case 1:
        dva_stats_command(&cmd);
        send_request(&r, &cmd, NULL);
        break;
    default:
        dva_quota_command(&cmd, DVA_ROWS_NAMED);
        nquota = ((plan >> 4) & 3) + 1;
        late = (plan & 4) != 0 && nquota > 1;
        for (size_t i = 0; i < nquota - late; i++)
            send_request(&r, &cmd, users[i]);
    }

    dva_result res;
    memset(&res, 0, sizeof(res));
    /* Every call reads or writes something or finishes; the bound only
     * turns a livelock into a reported crash. */
    size_t budget = 4 * (size + 64);
    for (;;) {
        fuzz_check(budget-- > 0, "the client stops once the input is used up");
        dva_recv got = dva_client_receive(r.client, &res);
        if (got == DVA_RECV_IDLE)
            break;
        if (got == DVA_RECV_AGAIN)
            continue;
        check_result(&r, &res);
        dva_result_clear(&res);
        if (late) {
            late = false;
            send_request(&r, &cmd, users[nquota - 1]);
            if ((plan & 8) != 0) {
                dva_command who;
                dva_who_command(&who);
                size_t before = r.sent;
                send_request(&r, &who, NULL);
                fuzz_check(r.sent == before, "a server-wide command after mail ones "
                                             "is refused");
            }
        }
    }
    fuzz_check(r.returned == r.sent, "every accepted request gets one result");
    fuzz_check(dva_client_pending(r.client) == 0, "nothing pending when idle");
    dva_state st = dva_client_state(r.client);
    fuzz_check(st == DVA_STATE_CLOSED || st == DVA_STATE_READY ||
                   (r.sent == 0 && st == DVA_STATE_CONNECTING),
               "idle means closed, ready or never started");
    fuzz_check(st != DVA_STATE_CLOSED || dva_client_error(r.client)->code != DVA_OK,
               "a closed client says why");
    dva_result_clear(&res);
    dva_client_free(r.client);
    dva_transport_destroy(t);
    return 0;
}
