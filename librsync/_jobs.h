/* One interface over librsync's jobs and the job engines of our own.
 *
 * Our glue, not upstream code.  The driver (_rsync.pyx) runs every job
 * through lrs_job_iter, whether it is one of librsync's rs_job_t state
 * machines or an engine of ours (the batched signature job, _sigjob.h), so
 * buffering, statistics, error mapping and the GIL rules live in one place.
 * An engine of ours follows rs_job_iter's contract exactly: consume from
 * next_in/avail_in, produce into next_out/avail_out, return RS_DONE when
 * finished, RS_BLOCKED when it needs more input or more output space, and
 * never return RS_BLOCKED having neither consumed nor produced unless one
 * side is empty.
 */
#ifndef LIBRSYNC_PY_JOBS_H
#define LIBRSYNC_PY_JOBS_H

#include <stdlib.h>

#include "librsync.h"

typedef struct lrs_job lrs_job;
struct lrs_job {
    rs_result (*iter)(lrs_job *job, rs_buffers_t *buffers);
    const rs_stats_t *(*statistics)(lrs_job *job);
    void (*free)(lrs_job *job);
};

static inline rs_result lrs_job_iter(lrs_job *job, rs_buffers_t *buffers)
{
    return job->iter(job, buffers);
}

static inline const rs_stats_t *lrs_job_statistics(lrs_job *job)
{
    return job->statistics(job);
}

static inline void lrs_job_free(lrs_job *job)
{
    job->free(job);
}

/* A librsync job behind the interface. */
typedef struct {
    lrs_job base;
    rs_job_t *rs;
} lrs_rsjob;

static inline rs_result lrs_rsjob_iter(lrs_job *job, rs_buffers_t *buffers)
{
    return rs_job_iter(((lrs_rsjob *)job)->rs, buffers);
}

static inline const rs_stats_t *lrs_rsjob_statistics(lrs_job *job)
{
    return rs_job_statistics(((lrs_rsjob *)job)->rs);
}

static inline void lrs_rsjob_free(lrs_job *job)
{
    rs_job_free(((lrs_rsjob *)job)->rs);
    free(job);
}

/* Takes ownership of rs; NULL (with rs freed) if memory ran out. */
static inline lrs_job *lrs_wrap_rs_job(rs_job_t *rs)
{
    lrs_rsjob *job;
    if (rs == NULL)
        return NULL;
    job = (lrs_rsjob *)malloc(sizeof *job);
    if (job == NULL) {
        rs_job_free(rs);
        return NULL;
    }
    job->base.iter = lrs_rsjob_iter;
    job->base.statistics = lrs_rsjob_statistics;
    job->base.free = lrs_rsjob_free;
    job->rs = rs;
    return &job->base;
}

#endif
