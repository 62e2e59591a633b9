/* SPDX-License-Identifier: MIT */
/* The requests of one read: queued as jobs, tagged with their index, and
 * sent on a connection of their own (server-wide, PROTOCOL.md 6.1) or
 * pipelined on a mail connection (per-user). */
#include <stdint.h>

#include "read.h"

void *dva_read_job_tag(size_t index)
{
    return (void *)(uintptr_t)(index + 1);
}

size_t dva_read_tag_job(void *tag)
{
    return (size_t)(uintptr_t)tag - 1;
}

static long add_job(dva_read *r, dva_read_job j)
{
    dva_read_job *jobs =
        dva_read_grow(r->jobs, &r->jobs_cap, r->njobs + 1, sizeof(*jobs));
    if (jobs == NULL)
        return -1;
    r->jobs = jobs;
    r->jobs[r->njobs] = j;
    return (long)r->njobs++;
}

static void fail_job(dva_read *r, const dva_job *j, const dva_error *err)
{
    j->collector->fail(r, j, err);
}

/* Builds the job's command now (its form may depend on what the probe
 * told) and sends it; -1 when it could not go (the job failed). */
static int send_job(dva_read *r, dva_read_conn *cn, size_t index)
{
    dva_job job = r->jobs[index].pub; /* a copy: failing may add jobs */
    dva_command cmd;
    const char *user = NULL;
    dva_error err;
    if (job.collector->request(r, &job, &cmd, &user, &err) < 0) {
        fail_job(r, &job, &err);
        return -1;
    }
    r->jobs[index].signal = dva_generation_signal(&cmd);
    r->jobs[index].server_wide = user == NULL;
    dva_request req = dva_command_request(&cmd, user, dva_read_job_tag(index));
    req.stream = job.collector->rows != NULL && r->plan->on_user_quota != NULL;
    if (dva_client_send(cn->client, &req, &err) < 0) {
        fail_job(r, &job, &err);
        return -1;
    }
    return 0;
}

static bool start_solo(dva_read *r, const dva_collector *c, size_t arg, bool source)
{
    dva_read_job job = {.pub = {.collector = c, .arg = arg}, .source = source};
    long index = add_job(r, job);
    dva_read_conn *cn = index < 0 ? NULL : dva_read_open_conn(r, false);
    if (cn != NULL) {
        if (send_job(r, cn, (size_t)index) < 0)
            return false;
        if (source)
            r->sources_pending++;
        return true;
    }
    dva_error err = r->result->down_reason;
    if (err.code == DVA_OK)
        dva_fail(&err, DVA_ERR_NOMEM, "could not open a connection");
    fail_job(r, &job.pub, &err);
    return false;
}

bool dva_read_solo(dva_read *r, const dva_collector *c, size_t arg)
{
    return start_solo(r, c, arg, false);
}

bool dva_read_source(dva_read *r, const dva_collector *c, size_t arg)
{
    return start_solo(r, c, arg, true);
}

void dva_read_queue_mail(dva_read *r, size_t index)
{
    dva_read_conn *cn = dva_read_next_mail_conn(r);
    if (cn == NULL) {
        dva_error err = r->result->down_reason;
        if (err.code == DVA_OK)
            dva_fail(&err, DVA_ERR_LIMIT, "no connection left for this read");
        dva_job job = r->jobs[index].pub;
        fail_job(r, &job, &err);
        return;
    }
    send_job(r, cn, index);
}

void dva_read_mail(dva_read *r, const dva_collector *c, size_t user, size_t arg)
{
    long i =
        add_job(r, (dva_read_job){.pub = {.collector = c, .user = user, .arg = arg},
                                  .mail = true});
    if (i >= 0)
        dva_read_queue_mail(r, (size_t)i);
}
