/* The batched signature job: librsync's signature format, computed several
 * blocks at a time.
 *
 * Our code, not upstream's.  librsync's own signature job (mksum.c) hashes
 * one block, writes its sums, then scoops the next block, so its speed is
 * that of one BLAKE2b (or MD4) stream.  But a signature's blocks are
 * independent, and all but the last have the same length: the multi-buffer
 * kernels of _simd/ hash 2 to 16 of them at once, one per SIMD lane.  This
 * job feeds them: whole blocks straight from the caller's input buffer (no
 * copy), a partial block carried between calls, and the records staged in a
 * small buffer until the output has room.  The bytes written are exactly
 * rs_sig_begin's: the same header, and per block the weak sum (librsync's
 * rs_calc_weak_sum) big-endian, then the first strong_len bytes of the
 * strong sum (BLAKE2b-256 or MD4, as rs_calc_strong_sum computes them).
 *
 * The engines ("portable" hashes one block at a time, with librsync's own
 * code; the others are the kernels the build and CPU have) are listed in
 * lrs_sig_engines; which one a new job uses is chosen at import by
 * _rsync.pyx.  A job keeps the engine it started with.
 */
#ifndef LIBRSYNC_PY_SIGJOB_H
#define LIBRSYNC_PY_SIGJOB_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "_jobs.h"
#include "sumset.h"             /* weak/strong sum kinds, rs_calc_*_sum */
#include "_simd/mbhash.h"
#include "_simd/weaksum.h"

typedef void (*lrs_mb_fn)(const unsigned char *const *in, size_t len, unsigned char *out);
typedef uint32_t (*lrs_weak_fn)(const unsigned char *p, size_t len);

typedef struct {
    const char *name;
    int (*supported)(void);
    int blake2b_lanes;          /* 1: one block at a time, by rs_calc_strong_sum */
    lrs_mb_fn blake2b;
    int md4_lanes;
    lrs_mb_fn md4;
    /* NULL: librsync's rs_calc_weak_sum. */
    lrs_weak_fn rabinkarp;
    lrs_weak_fn rollsum;
} lrs_sig_engine;

static inline int lrs_always(void)
{
    return 1;
}

#if defined(LRS_SIMD_X86)
/* gcc and clang only (setup.py defines LRS_SIMD_X86 for them): cpuid and the
 * OS's saving of the wide registers, as libgcc's cpu model checks them. */
static inline int lrs_cpu_sse2(void)
{
    __builtin_cpu_init();
    return __builtin_cpu_supports("sse2");
}

static inline int lrs_cpu_avx2(void)
{
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2");
}

static inline int lrs_cpu_avx512(void)
{
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f");
}
#endif

/* The kernels' signatures name their lane count; these casts only forget it. */
#define LRS_MB(fn) ((lrs_mb_fn)(fn))

static const lrs_sig_engine lrs_sig_engines[] = {
    {"portable", lrs_always, 1, NULL, 1, NULL, NULL, NULL},
#if defined(LRS_SIMD_X86)
    /* MD4 with two interleaved register groups (twice the lanes) where that
     * hides the latency of its serial steps: 1.2-1.5x the single group
     * with SSE2 and AVX2; with AVX-512 one group already fills the units
     * (_simd/README.md). */
    {"sse2", lrs_cpu_sse2, 2, LRS_MB(lrs_blake2b_x2_sse2), 8, LRS_MB(lrs_md4_x8_sse2),
     NULL, NULL},
    {"avx2", lrs_cpu_avx2, 4, LRS_MB(lrs_blake2b_x4_avx2), 16, LRS_MB(lrs_md4_x16_avx2),
     lrs_rabinkarp_avx2, lrs_rollsum_avx2},
    /* AVX-512F CPUs all have AVX2: its weak sums already run far ahead of
     * the strong sums. */
    {"avx512", lrs_cpu_avx512, 8, LRS_MB(lrs_blake2b_x8_avx512), 16,
     LRS_MB(lrs_md4_x16_avx512), lrs_rabinkarp_avx2, lrs_rollsum_avx2},
#endif
#if defined(LRS_SIMD_NEON)
    {"neon", lrs_always, 2, LRS_MB(lrs_blake2b_x2_neon), 8, LRS_MB(lrs_md4_x8_neon),
     NULL, NULL},
#endif
};

#define LRS_SIG_ENGINE_COUNT ((int)(sizeof(lrs_sig_engines) / sizeof(lrs_sig_engines[0])))
#define LRS_MAX_LANES 16

static inline int lrs_sig_engine_count(void)
{
    return LRS_SIG_ENGINE_COUNT;
}

static inline const char *lrs_sig_engine_name(int i)
{
    return (i >= 0 && i < LRS_SIG_ENGINE_COUNT) ? lrs_sig_engines[i].name : NULL;
}

static inline int lrs_sig_engine_supported(int i)
{
    return i >= 0 && i < LRS_SIG_ENGINE_COUNT && lrs_sig_engines[i].supported();
}

static inline int lrs_sig_engine_lanes(int i, int md4)
{
    return md4 ? lrs_sig_engines[i].md4_lanes : lrs_sig_engines[i].blake2b_lanes;
}

/* Blocks hashed per batch: enough for every lane count, small enough that
 * the staged records (36 bytes each at most) stay in L1. */
#define LRS_SIG_BATCH 64
#define LRS_SIG_MAX_RECORD (4 + RS_MAX_STRONG_SUM_LENGTH)

static inline void lrs_store_be32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

typedef struct {
    lrs_job base;
    rs_stats_t stats;
    const lrs_sig_engine *engine;
    strongsum_kind_t strong_kind;
    weaksum_kind_t weak_kind;
    size_t block_len, strong_len;
    int lanes;
    lrs_mb_fn hash;
    lrs_weak_fn weak;           /* NULL: rs_calc_weak_sum(weak_kind, ...) */
    /* A block split across input buffers; allocated when first needed. */
    unsigned char *carry;
    size_t carry_len;
    /* Records (and at first the header) not yet written out. */
    unsigned char staged[12 + LRS_SIG_BATCH * LRS_SIG_MAX_RECORD];
    size_t staged_pos, staged_len;
    int ended;
} lrs_sigjob;

static inline void lrs_sig_record(lrs_sigjob *job, const unsigned char *block, size_t len,
                           const unsigned char *strong)
{
    unsigned char *p = job->staged + job->staged_len;
    lrs_store_be32(p, job->weak ? job->weak(block, len)
                              : rs_calc_weak_sum(job->weak_kind, block, len));
    memcpy(p + 4, strong, job->strong_len);
    job->staged_len += 4 + job->strong_len;
    job->stats.sig_blocks++;
}

static inline void lrs_sig_one(lrs_sigjob *job, const unsigned char *block, size_t len)
{
    rs_strong_sum_t strong;
    rs_calc_strong_sum(job->strong_kind, block, len, &strong);
    lrs_sig_record(job, block, len, (const unsigned char *)strong);
}

/* n (<= LRS_SIG_BATCH) whole blocks starting at p. */
static inline void lrs_sig_blocks(lrs_sigjob *job, const unsigned char *p, size_t n)
{
    const size_t bl = job->block_len;
    const size_t digest = job->strong_kind == RS_MD4 ? 16 : 32;
    const unsigned char *in[LRS_MAX_LANES];
    unsigned char out[LRS_MAX_LANES * 32];
    size_t i = 0;
    int k;
    if (job->lanes > 1) {
        for (; i + (size_t)job->lanes <= n; i += (size_t)job->lanes) {
            for (k = 0; k < job->lanes; k++)
                in[k] = p + (i + (size_t)k) * bl;
            job->hash(in, bl, out);
            for (k = 0; k < job->lanes; k++)
                lrs_sig_record(job, in[k], bl, out + (size_t)k * digest);
        }
    }
    /* Fewer blocks than lanes left: one at a time. */
    for (; i < n; i++)
        lrs_sig_one(job, p + i * bl, bl);
}

static inline rs_result lrs_sigjob_iter(lrs_job *base, rs_buffers_t *b)
{
    lrs_sigjob *job = (lrs_sigjob *)base;
    const size_t bl = job->block_len;
    for (;;) {
        if (job->staged_pos < job->staged_len) {
            size_t n = job->staged_len - job->staged_pos;
            if (n > b->avail_out)
                n = b->avail_out;
            memcpy(b->next_out, job->staged + job->staged_pos, n);
            b->next_out += n;
            b->avail_out -= n;
            job->staged_pos += n;
            job->stats.out_bytes += (rs_long_t)n;
            if (job->staged_pos < job->staged_len)
                return RS_BLOCKED;      /* output full */
        }
        job->staged_pos = job->staged_len = 0;
        if (job->ended)
            return RS_DONE;
        if (job->carry_len) {
            size_t take = bl - job->carry_len;
            if (take > b->avail_in)
                take = b->avail_in;
            memcpy(job->carry + job->carry_len, b->next_in, take);
            job->carry_len += take;
            b->next_in += take;
            b->avail_in -= take;
            job->stats.in_bytes += (rs_long_t)take;
            if (job->carry_len == bl || b->eof_in) {
                lrs_sig_one(job, job->carry, job->carry_len);
                job->carry_len = 0;
                continue;
            }
            return RS_BLOCKED;          /* all input taken */
        }
        if (b->avail_in >= bl) {
            size_t n = b->avail_in / bl;
            if (n > LRS_SIG_BATCH)
                n = LRS_SIG_BATCH;
            lrs_sig_blocks(job, (const unsigned char *)b->next_in, n);
            b->next_in += n * bl;
            b->avail_in -= n * bl;
            job->stats.in_bytes += (rs_long_t)(n * bl);
            continue;
        }
        if (b->eof_in) {
            /* The last, short block (librsync's rs_scoop_read_rest). */
            if (b->avail_in) {
                lrs_sig_one(job, (const unsigned char *)b->next_in, b->avail_in);
                job->stats.in_bytes += (rs_long_t)b->avail_in;
                b->next_in += b->avail_in;
                b->avail_in = 0;
            }
            job->ended = 1;
            continue;
        }
        if (b->avail_in) {
            if (job->carry == NULL && (job->carry = (unsigned char *)malloc(bl)) == NULL)
                return RS_MEM_ERROR;
            memcpy(job->carry, b->next_in, b->avail_in);
            job->carry_len = b->avail_in;
            job->stats.in_bytes += (rs_long_t)b->avail_in;
            b->next_in += b->avail_in;
            b->avail_in = 0;
        }
        return RS_BLOCKED;
    }
}

static inline const rs_stats_t *lrs_sigjob_statistics(lrs_job *base)
{
    return &((lrs_sigjob *)base)->stats;
}

static inline void lrs_sigjob_free(lrs_job *base)
{
    lrs_sigjob *job = (lrs_sigjob *)base;
    free(job->carry);
    free(job);
}

/* Arguments already resolved and checked by rs_sig_args (_rsync.pyx); NULL
 * if memory ran out. */
static inline lrs_job *lrs_sigjob_begin(int engine, size_t block_len, size_t strong_len,
                                 rs_magic_number magic)
{
    lrs_sigjob *job = (lrs_sigjob *)calloc(1, sizeof *job);
    if (job == NULL)
        return NULL;
    job->base.iter = lrs_sigjob_iter;
    job->base.statistics = lrs_sigjob_statistics;
    job->base.free = lrs_sigjob_free;
    job->engine = &lrs_sig_engines[engine];
    job->strong_kind = (magic == RS_MD4_SIG_MAGIC || magic == RS_RK_MD4_SIG_MAGIC)
        ? RS_MD4 : RS_BLAKE2;
    job->weak_kind = (magic == RS_RK_BLAKE2_SIG_MAGIC || magic == RS_RK_MD4_SIG_MAGIC)
        ? RS_RABINKARP : RS_ROLLSUM;
    job->block_len = block_len;
    job->strong_len = strong_len;
    job->weak = job->weak_kind == RS_RABINKARP ? job->engine->rabinkarp
                                               : job->engine->rollsum;
    if (job->strong_kind == RS_MD4) {
        job->lanes = job->engine->md4_lanes;
        job->hash = job->engine->md4;
    } else {
        job->lanes = job->engine->blake2b_lanes;
        job->hash = job->engine->blake2b;
    }
    job->stats.op = "signature";
    job->stats.block_len = block_len;
    lrs_store_be32(job->staged, (uint32_t)magic);
    lrs_store_be32(job->staged + 4, (uint32_t)block_len);
    lrs_store_be32(job->staged + 8, (uint32_t)strong_len);
    job->staged_len = 12;
    return &job->base;
}

/* For tests: the named engine's digests of n equal-length messages at in[],
 * written to out (32 or 16 bytes each).  -1 if the engine has no kernel for
 * that many lanes. */
static inline int lrs_sig_engine_hash(int engine, int md4, const unsigned char *const *in,
                               int n, size_t len, unsigned char *out)
{
    const lrs_sig_engine *e = &lrs_sig_engines[engine];
    int lanes = md4 ? e->md4_lanes : e->blake2b_lanes;
    lrs_mb_fn fn = md4 ? e->md4 : e->blake2b;
    if (n != lanes)
        return -1;
    if (lanes == 1) {
        rs_strong_sum_t sum;
        rs_calc_strong_sum(md4 ? RS_MD4 : RS_BLAKE2, in[0], len, &sum);
        memcpy(out, sum, md4 ? 16 : 32);
        return 0;
    }
    fn(in, len, out);
    return 0;
}

#endif
