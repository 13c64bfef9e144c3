/* The fast delta job: librsync's delta search with a scan loop of our own.
 *
 * Our code, not upstream's.  librsync's delta job (delta.c) looks every
 * byte of the new file up in the signature: per byte it rolls the weak sum
 * through a switch on its kind, calls rs_signature_find_match (which hashes
 * the weak sum into its table and tests a Bloom filter), and appends a
 * one-byte miss through the scoop.  On a file that shares nothing with the
 * old one that is ~87 instructions a byte (bench/PROFILE.md section 1) for
 * a search that almost never finds anything.
 *
 * This job makes the same decisions in the same order, so it writes the
 * same bytes as librsync's job (tests/test_delta_engines.py checks that
 * byte for byte, and rdiff patches its output):
 *
 * - the window at offset p of the new file is min(block_len, bytes left);
 * - a window whose weak sum has a block is looked up with librsync's own
 *   rs_signature_find_match, so a match (and which block, among equal
 *   ones) is exactly librsync's;
 * - after a match the scan jumps the window and the weak sum restarts;
 *   after a miss it rolls one byte (at the end of the input the window
 *   shrinks instead);
 * - a match that continues the previous one extends its COPY; a run of
 *   misses becomes a LITERAL when a match follows, at the end, or when it
 *   reaches MAX_MISS_LEN (as delta.c: 64 KiB less 3 command bytes).
 *
 * What is ours is how it gets there: a weak sum rolled inline for the one
 * kind the signature uses, and a filter of our own (one bit per slot, ~32
 * slots per block, indexed by a multiplicative hash, so rollsum's weak low
 * bits spread too) tested before any call into librsync.  The filter holds
 * raw rollsums (librsync keeps them through mix32(), which lrs_unmix32
 * undoes), so the scan loop never mixes; a hit is mixed for the lookup.  The search state
 * lives in a buffer of our own: the input is copied in (memcpy is cheap
 * next to a search), and literal runs are copied out from it.
 *
 * The signature must be loaded with its hash table built, and is only
 * read: many jobs may share it across threads (the build defines
 * HASHTABLE_NSTATS, so rs_signature_find_match writes no counters).
 *
 * Every lookup is made within the job's work budget (_budget.h), which
 * bounds what a forged signature can cost per byte of new file; below the
 * bound a lookup is exactly librsync's.  librsync's own delta job gets the
 * same budget through lrs_rsdelta_begin at the end of this file.
 */
#ifndef LIBRSYNC_PY_DELTAJOB_H
#define LIBRSYNC_PY_DELTAJOB_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "_jobs.h"
#include "_budget.h"
#include "_guards.h"            /* lrs_block */
#include "_sigbytes.h"          /* lrs_unmix32 */
#include "sumset.h"
#include "rabinkarp.h"          /* RABINKARP_MULT, _INVM, _ADJ */
#include "rollsum.h"            /* ROLLSUM_CHAR_OFFSET */
#include "prototab.h"           /* RS_OP_* */
#include "_sigjob.h"            /* lrs_sig_engines: the multi-buffer kernels */

#define LRS_DELTA_MAGIC_BYTES 4
/* delta.c's MAX_MISS_LEN: MAX_DELTA_CMD (1 << 16) less 3 command bytes. */
#define LRS_MAX_MISS ((size_t)(1 << 16) - 3)
/* Room in the output stage for the largest single flush: a LITERAL command
 * (at most 9 bytes) and its data, or a COPY (at most 17), and END. */
#define LRS_FLUSH_ROOM (LRS_MAX_MISS + 32)
/* Input read ahead beyond the window and the pending literal run. */
#define LRS_READ_AHEAD ((size_t)1 << 18)
/* Slots an insert into the table of stored blocks may probe before the
 * batches are given up (lrs_delta_find_stored). */
#define LRS_STORED_PROBES 128

typedef struct {
    lrs_job base;
    const rs_signature_t *sig;
    rs_stats_t stats;
    size_t block_len;
    int rabinkarp;              /* else rollsum */
    uint32_t mult_block;        /* RABINKARP_MULT ** block_len */

    /* The filter: bit (w * 0x9E3779B1) >> filter_shift of filter is set for
     * the weak sum w of every block. */
    uint64_t *filter;
    unsigned filter_shift;

    /* buf[lit .. end) is input not yet written: buf[lit .. pos) a run of
     * misses (empty while a match is pending), buf[pos .. end) unscanned. */
    unsigned char *buf;
    size_t cap, lit, pos, end;
    int eof;
    uint64_t shifted;           /* bytes of input moved out of buf's front */

    /* The weak sum of buf[pos .. pos + weak_len), when have_weak. */
    int have_weak;
    size_t weak_len;
    uint32_t weak;              /* rabinkarp: the hash; rollsum: s2 << 16 | s1 */
    uint32_t mult;              /* rabinkarp: RABINKARP_MULT ** weak_len */

    /* A COPY being extended by matches that continue it. */
    rs_long_t basis_pos, basis_len;

    /* Confirming a run of matches several blocks at a time (see
     * lrs_delta_batch): the engine's kernel and its lanes (1: no batches),
     * its weak sum (NULL: rs_calc_weak_sum), and, built at the first batch,
     * which blocks are the ones librsync's hash table holds. */
    lrs_mb_fn hash;
    int lanes;
    size_t digest_len;
    lrs_weak_fn weak_fn;
    unsigned char *stored;
    int no_batch;               /* the table of stored blocks could not be built */

    /* What lookups that find nothing may still cost (_budget.h). */
    lrs_budget budget;

    /* Bytes written but not yet handed to the caller. */
    unsigned char *out;
    size_t out_cap, out_start, out_len;
    int ended;                  /* END is in the output stage */
} lrs_deltajob;

static inline uint32_t lrs_pow_u32(uint32_t base, size_t exp)
{
    uint32_t r = 1;
    while (exp) {
        if (exp & 1)
            r *= base;
        base *= base;
        exp >>= 1;
    }
    return r;
}

static inline unsigned lrs_filter_index(const lrs_deltajob *job, uint32_t w)
{
    return (unsigned)((uint32_t)(w * 0x9E3779B1u) >> job->filter_shift);
}

static inline int lrs_filter_has(const lrs_deltajob *job, uint32_t w)
{
    unsigned i = lrs_filter_index(job, w);
    return (int)((job->filter[i >> 6] >> (i & 63)) & 1);
}

/* Bytes (1, 2, 4 or 8) of a netint holding v, as the delta format counts
 * them. */
static inline int lrs_netint_len(rs_long_t v)
{
    if ((uint64_t)v <= 0xffu)
        return 1;
    if ((uint64_t)v <= 0xffffu)
        return 2;
    if ((uint64_t)v <= 0xffffffffu)
        return 4;
    return 8;
}

static inline int lrs_netint_code(int len)     /* 1, 2, 4, 8 -> 0..3 */
{
    return len == 1 ? 0 : len == 2 ? 1 : len == 4 ? 2 : 3;
}

static inline void lrs_put_netint(lrs_deltajob *job, uint64_t v, int len)
{
    unsigned char *p = job->out + job->out_len;
    int i;
    for (i = len - 1; i >= 0; i--) {
        p[i] = (unsigned char)v;
        v >>= 8;
    }
    job->out_len += (size_t)len;
}

static inline void lrs_put_byte(lrs_deltajob *job, int b)
{
    job->out[job->out_len++] = (unsigned char)b;
}

static void lrs_emit_copy(lrs_deltajob *job)
{
    int wl = lrs_netint_len(job->basis_pos), ll = lrs_netint_len(job->basis_len);
    lrs_put_byte(job, RS_OP_COPY_N1_N1 + 4 * lrs_netint_code(wl) + lrs_netint_code(ll));
    lrs_put_netint(job, (uint64_t)job->basis_pos, wl);
    lrs_put_netint(job, (uint64_t)job->basis_len, ll);
    job->stats.copy_cmds++;
    job->stats.copy_bytes += job->basis_len;
    job->stats.copy_cmdbytes += 1 + wl + ll;
    job->basis_len = 0;
}

static void lrs_emit_literal(lrs_deltajob *job)
{
    size_t n = job->pos - job->lit;
    int pl = n <= 64 ? 0 : lrs_netint_len((rs_long_t)n);
    if (pl == 0) {
        lrs_put_byte(job, (int)n);              /* RS_OP_LITERAL_1 .. _64 */
    } else {
        lrs_put_byte(job, RS_OP_LITERAL_N1 + lrs_netint_code(pl));
        lrs_put_netint(job, n, pl);
    }
    memcpy(job->out + job->out_len, job->buf + job->lit, n);
    job->out_len += n;
    job->stats.lit_cmds++;
    job->stats.lit_bytes += (rs_long_t)n;
    job->stats.lit_cmdbytes += 1 + pl;
    job->lit = job->pos;
}

/* Write what is pending: the COPY being extended, or the run of misses. */
static void lrs_flush(lrs_deltajob *job)
{
    if (job->basis_len)
        lrs_emit_copy(job);
    else if (job->pos > job->lit)
        lrs_emit_literal(job);
}

/* The weak sum of n bytes at p, unmixed: the engine's (AVX2) code or
 * librsync's, bit for bit the same. */
static inline uint32_t lrs_raw_weak(const lrs_deltajob *job, const unsigned char *p,
                                    size_t n)
{
    return job->weak_fn ? job->weak_fn(p, n)
        : rs_calc_weak_sum(job->rabinkarp ? RS_RABINKARP : RS_ROLLSUM, p, n);
}

static void lrs_weak_from_scratch(lrs_deltajob *job, size_t len)
{
    job->weak_len = len;
    job->weak = lrs_raw_weak(job, job->buf + job->pos, len);
    if (job->rabinkarp)
        job->mult = len == job->block_len ? job->mult_block
                                          : lrs_pow_u32(RABINKARP_MULT, len);
    job->have_weak = 1;
}

/* The window at pos loses its first byte (the end of the input is near). */
static void lrs_weak_rollout(lrs_deltajob *job)
{
    unsigned c = job->buf[job->pos];
    if (job->rabinkarp) {
        job->mult *= RABINKARP_INVM;
        job->weak -= job->mult * (c + RABINKARP_ADJ);
    } else {
        uint32_t s1 = job->weak & 0xffff, s2 = job->weak >> 16;
        s1 -= c + ROLLSUM_CHAR_OFFSET;
        s2 -= (uint32_t)job->weak_len * (c + ROLLSUM_CHAR_OFFSET);
        job->weak = ((s2 & 0xffff) << 16) | (s1 & 0xffff);
    }
    job->weak_len--;
}

/* The run of misses while nothing can interrupt it but a filter hit: every
 * window full, no COPY pending, the run short of MAX_MISS_LEN.  Returns
 * with pos at a window whose weak sum is in the filter, or at the first
 * position the general loop must handle. */
static void lrs_scan_misses(lrs_deltajob *job)
{
    const unsigned char *buf = job->buf;
    const size_t bl = job->block_len;
    size_t pos = job->pos;
    /* Rolling to pos + 1 reads buf[pos + bl]: stop one short of the end. */
    size_t stop = job->end - bl;
    if (stop > job->lit + LRS_MAX_MISS)
        stop = job->lit + LRS_MAX_MISS;
    if (job->rabinkarp) {
        uint32_t h = job->weak;
        const uint32_t mb = job->mult_block;
        for (; pos < stop; pos++) {
            if (lrs_filter_has(job, h))
                break;
            h = h * RABINKARP_MULT + buf[pos + bl] - mb * (buf[pos] + RABINKARP_ADJ);
        }
        job->weak = h;
    } else {
        uint32_t s1 = job->weak & 0xffff, s2 = job->weak >> 16;
        const uint32_t n = (uint32_t)bl;
        for (; pos < stop; pos++) {
            if (lrs_filter_has(job, ((s2 & 0xffff) << 16) | (s1 & 0xffff)))
                break;
            s1 += (uint32_t)buf[pos + bl] - buf[pos];
            s2 += s1 - n * (buf[pos] + ROLLSUM_CHAR_OFFSET);
        }
        job->weak = ((s2 & 0xffff) << 16) | (s1 & 0xffff);
    }
    job->pos = pos;
}

/* hashtable.h's key for a weak sum as librsync stores it: 0 becomes ~0. */
static inline uint32_t lrs_table_key(uint32_t stored)
{
    return stored ? stored : ~(uint32_t)0;
}

/* The weak sum of n bytes at p in the form the signature stores it. */
static inline uint32_t lrs_stored_weak(const lrs_deltajob *job, const unsigned char *p,
                                       size_t n)
{
    uint32_t w = lrs_raw_weak(job, p, n);
    return job->rabinkarp ? w : mix32(w);
}

static inline size_t lrs_strong_hash(const rs_block_sig_t *b, size_t len)
{
    uint32_t h = 0;
    memcpy(&h, b->strong_sum, len < 4 ? len : 4);
    return (size_t)((lrs_table_key(b->weak_sum) ^ h) * 0x9E3779B1u);
}

/* stored[i]: block i is the one rs_build_hash_table kept for its sums (the
 * first block with that key and strong sum; later equal ones are dropped,
 * and a lookup of their sums returns the first).  0 if memory ran out. */
static int lrs_delta_find_stored(lrs_deltajob *job)
{
    const rs_signature_t *sig = job->sig;
    const size_t n = (size_t)sig->count, len = (size_t)sig->strong_sum_len;
    size_t slots = 16, mask, i;
    int32_t *table;
    while (slots < 2 * n)
        slots <<= 1;
    mask = slots - 1;
    job->stored = (unsigned char *)malloc(n);
    table = (int32_t *)malloc(slots * sizeof *table);
    if (job->stored == NULL || table == NULL) {
        free(table);
        free(job->stored);
        job->stored = NULL;
        return 0;
    }
    memset(table, 0xff, slots * sizeof *table);
    for (i = 0; i < n; i++) {
        const rs_block_sig_t *b = lrs_block(sig, (int)i);
        size_t h = lrs_strong_hash(b, len) & mask, probes = 0;
        job->stored[i] = 1;
        for (; table[h] >= 0; h = (h + 1) & mask) {
            const rs_block_sig_t *o = lrs_block(sig, table[h]);
            if (lrs_table_key(o->weak_sum) == lrs_table_key(b->weak_sum)
                && memcmp(o->strong_sum, b->strong_sum, len) == 0) {
                job->stored[i] = 0;
                break;
            }
            /* The hash is not keyed: a forged signature can give many
             * blocks one slot, and this table is only a speed-up. */
            if (++probes > LRS_STORED_PROBES) {
                free(table);
                free(job->stored);
                job->stored = NULL;
                return 0;
            }
        }
        if (job->stored[i])
            table[h] = (int32_t)i;
    }
    free(table);
    return 1;
}

/* Confirm several windows at once where the new file likely goes on
 * matching the old one block after block: with a COPY pending, the windows
 * at pos, pos + block_len, ... are checked against the blocks that would
 * continue it, their strong sums computed in one multi-buffer call instead
 * of one rs_signature_find_match each.  A window is taken as a match only
 * when librsync's lookup would return that very block: same table key,
 * same strong sum, and the block is the one its hash table holds for them.
 * The first window that is not confirmed goes back to the general loop,
 * which looks it up as librsync does.  Returns the windows matched. */
static size_t lrs_delta_batch(lrs_deltajob *job)
{
    const size_t bl = job->block_len;
    const rs_signature_t *sig = job->sig;
    const unsigned char *in[LRS_MAX_LANES];
    unsigned char sums[LRS_MAX_LANES * 32];
    rs_long_t next = job->basis_pos + job->basis_len;
    size_t first, n, j, confirmed;

    if (next % (rs_long_t)bl)
        return 0;
    first = (size_t)(next / (rs_long_t)bl);
    /* The last block may be short: its matches go the general way. */
    if (first + 2 > (size_t)sig->count - 1)
        return 0;
    n = (size_t)sig->count - 1 - first;
    if (n > (size_t)job->lanes)
        n = (size_t)job->lanes;
    /* Every window whole, and (as in the general loop) not the last bytes
     * of the buffer before its end is known. */
    while (n >= 2 && job->pos + n * bl >= job->end)
        n--;
    if (n < 2 || job->no_batch)
        return 0;
    if (job->stored == NULL && !lrs_delta_find_stored(job)) {
        job->no_batch = 1;      /* no memory, or a forged signature: the
                                   general loop still works */
        return 0;
    }
    for (confirmed = 0; confirmed < n; confirmed++) {
        const rs_block_sig_t *b = lrs_block(sig, (int)(first + confirmed));
        const unsigned char *p = job->buf + job->pos + confirmed * bl;
        if (!job->stored[first + confirmed]
            || lrs_table_key(lrs_stored_weak(job, p, bl)) != lrs_table_key(b->weak_sum))
            break;
        in[confirmed] = p;
    }
    if (confirmed < 2)
        return 0;
    /* Windows hashed here in vain are paid for like failed lookups (a
     * forged signature can give the next blocks the weak sums of whatever
     * follows a match). */
    job->budget.scanned = job->shifted + job->pos;
    if (lrs_budget_credit(&job->budget) < (uint64_t)confirmed * bl)
        return 0;
    for (j = confirmed; j < (size_t)job->lanes; j++)
        in[j] = in[0];          /* unused lanes hash something valid */
    job->hash(in, bl, sums);
    for (j = 0; j < confirmed; j++) {
        const rs_block_sig_t *b = lrs_block(sig, (int)(first + j));
        if (memcmp(sums + j * job->digest_len, b->strong_sum,
                   (size_t)sig->strong_sum_len) != 0)
            break;
        job->basis_len += (rs_long_t)bl;
        job->pos += bl;
    }
    if (j < confirmed)
        lrs_budget_charge(&job->budget, (uint64_t)(confirmed - j) * bl);
    job->lit = job->pos;
    job->have_weak = 0;
    return j;
}

/* Scan until the output stage is nearly full or the input runs out.
 * Returns nonzero if anything moved. */
static int lrs_delta_scan(lrs_deltajob *job)
{
    const size_t bl = job->block_len;
    size_t start_pos = job->pos, start_out = job->out_len;

    while (job->out_cap - job->out_len >= LRS_FLUSH_ROOM) {
        size_t avail = job->end - job->pos, len;
        rs_long_t match;

        if (avail == 0 || (!job->eof && avail <= bl))
            break;              /* wants input (or, at the end, is done) */
        len = avail < bl ? avail : bl;
        if (!job->have_weak && job->basis_len && job->lanes > 1
            && lrs_delta_batch(job) > 0)
            continue;
        if (!job->have_weak)
            lrs_weak_from_scratch(job, len);
        else if (job->weak_len == bl && avail > bl && !job->basis_len) {
            /* Then handle where it stopped: a filter hit, the run's limit,
             * or the last full window in the buffer. */
            lrs_scan_misses(job);
            avail = job->end - job->pos;
            if (!job->eof && avail <= bl)
                break;
        }
        match = -1;
        if (lrs_filter_has(job, job->weak)) {
            job->budget.scanned = job->shifted + job->pos;
            match = lrs_budget_find(&job->budget, (rs_signature_t *)job->sig,
                                    job->rabinkarp ? job->weak : mix32(job->weak),
                                    job->buf + job->pos, job->weak_len);
        }
        if (match >= 0) {
            if (!(job->basis_len && job->basis_pos + job->basis_len == match)) {
                lrs_flush(job);
                job->basis_pos = match;
            }
            job->basis_len += (rs_long_t)job->weak_len;
            job->pos += job->weak_len;
            job->lit = job->pos;
            job->have_weak = 0;
            continue;
        }
        if (job->basis_len || job->pos - job->lit >= LRS_MAX_MISS)
            lrs_flush(job);
        if (job->weak_len == bl && avail > bl) {
            unsigned out = job->buf[job->pos], in = job->buf[job->pos + bl];
            if (job->rabinkarp) {
                job->weak = job->weak * RABINKARP_MULT + in
                    - job->mult * (out + RABINKARP_ADJ);
            } else {
                uint32_t s1 = job->weak & 0xffff, s2 = job->weak >> 16;
                s1 += in - out;
                s2 += s1 - (uint32_t)bl * (out + ROLLSUM_CHAR_OFFSET);
                job->weak = ((s2 & 0xffff) << 16) | (s1 & 0xffff);
            }
        } else {
            lrs_weak_rollout(job);
        }
        job->pos++;
    }
    if (job->eof && job->pos == job->end && !job->ended
        && job->out_cap - job->out_len >= LRS_FLUSH_ROOM) {
        lrs_flush(job);
        lrs_put_byte(job, RS_OP_END);
        job->ended = 1;
    }
    return job->pos != start_pos || job->out_len != start_out;
}

/* Take what input fits, first moving the bytes still needed to the front. */
static size_t lrs_delta_take(lrs_deltajob *job, rs_buffers_t *b)
{
    size_t n;
    if (job->lit > 0 && job->cap - job->end < b->avail_in) {
        size_t keep = job->end - job->lit;
        memmove(job->buf, job->buf + job->lit, keep);
        job->shifted += job->lit;
        job->pos -= job->lit;
        job->end = keep;
        job->lit = 0;
    }
    n = job->cap - job->end;
    if (n > b->avail_in)
        n = b->avail_in;
    if (n) {
        memcpy(job->buf + job->end, b->next_in, n);
        job->end += n;
        b->next_in += n;
        b->avail_in -= n;
    }
    if (b->eof_in && b->avail_in == 0)
        job->eof = 1;
    return n;
}

static size_t lrs_delta_give(lrs_deltajob *job, rs_buffers_t *b)
{
    size_t n = job->out_len - job->out_start;
    if (n > b->avail_out)
        n = b->avail_out;
    if (n) {
        memcpy(b->next_out, job->out + job->out_start, n);
        b->next_out += n;
        b->avail_out -= n;
        job->out_start += n;
    }
    if (job->out_start == job->out_len)
        job->out_start = job->out_len = 0;
    else if (job->out_start > job->out_cap / 2) {
        memmove(job->out, job->out + job->out_start, job->out_len - job->out_start);
        job->out_len -= job->out_start;
        job->out_start = 0;
    }
    return n;
}

static rs_result lrs_deltajob_iter(lrs_job *base, rs_buffers_t *b)
{
    lrs_deltajob *job = (lrs_deltajob *)base;
    for (;;) {
        size_t gave = lrs_delta_give(job, b), took;
        int moved;
        if (job->out_len > job->out_start)
            return RS_BLOCKED;  /* the caller's output is full */
        if (job->ended)
            return RS_DONE;
        took = lrs_delta_take(job, b);
        moved = lrs_delta_scan(job);
        if (!moved && !took && !gave && job->out_len == 0)
            return RS_BLOCKED;  /* needs input it has not been given */
    }
}

static const rs_stats_t *lrs_deltajob_statistics(lrs_job *base)
{
    return &((lrs_deltajob *)base)->stats;
}

static void lrs_deltajob_free(lrs_job *base)
{
    lrs_deltajob *job = (lrs_deltajob *)base;
    free(job->filter);
    free(job->stored);
    free(job->buf);
    free(job->out);
    free(job);
}

/* Sets the filter bit of a block's weak sum as it is stored (rollsums
 * through mix32).  librsync's table cannot tell the keys 0 and ~0 apart
 * (nozero), so a block with either is found by windows with both. */
static void lrs_filter_add(lrs_deltajob *job, uint32_t stored)
{
    uint32_t raw[2];
    int i, n = 1;
    raw[0] = job->rabinkarp ? stored : lrs_unmix32(stored);
    if (stored == 0 || stored == ~(uint32_t)0) {
        uint32_t other = ~stored;
        raw[n++] = job->rabinkarp ? other : lrs_unmix32(other);
    }
    for (i = 0; i < n; i++) {
        unsigned k = lrs_filter_index(job, raw[i]);
        job->filter[k >> 6] |= (uint64_t)1 << (k & 63);
    }
}

/* A delta job over sig (loaded, hash table built, at least one block),
 * confirming runs of matches with the kernels of signature engine
 * `engine` (an index into lrs_sig_engines the CPU supports; -1: none).
 * NULL if memory ran out. */
static lrs_job *lrs_deltajob_begin(const rs_signature_t *sig, int engine)
{
    lrs_deltajob *job = (lrs_deltajob *)calloc(1, sizeof *job);
    size_t slots_log2 = 12, i;
    if (job == NULL)
        return NULL;
    job->base.iter = lrs_deltajob_iter;
    job->base.statistics = lrs_deltajob_statistics;
    job->base.free = lrs_deltajob_free;
    job->sig = sig;
    job->block_len = (size_t)sig->block_len;
    job->rabinkarp = rs_signature_weaksum_kind(sig) == RS_RABINKARP;
    job->mult_block = lrs_pow_u32(RABINKARP_MULT, job->block_len);
    lrs_budget_init(&job->budget, job->block_len);
    /* As delta.c: its op name, and no block_len (a signature job's field). */
    job->stats.op = "delta";

    /* ~32 slots a block keeps false hits near 3 %; 2**27 bits (16 MiB) caps
     * the filter for signatures of millions of blocks. */
    while (slots_log2 < 27 && ((size_t)1 << slots_log2) < (size_t)sig->count * 32)
        slots_log2++;
    job->filter_shift = (unsigned)(32 - slots_log2);
    job->filter = (uint64_t *)calloc(((size_t)1 << slots_log2) / 64, sizeof(uint64_t));

    job->cap = job->block_len + LRS_MAX_MISS + LRS_READ_AHEAD;
    job->buf = (unsigned char *)malloc(job->cap);
    job->out_cap = 2 * LRS_FLUSH_ROOM;
    job->out = (unsigned char *)malloc(job->out_cap);
    if (job->filter == NULL || job->buf == NULL || job->out == NULL) {
        lrs_deltajob_free(&job->base);
        return NULL;
    }
    for (i = 0; i < (size_t)sig->count; i++)
        lrs_filter_add(job, lrs_block(sig, (int)i)->weak_sum);
    job->lanes = 1;
    if (engine >= 0 && engine < LRS_SIG_ENGINE_COUNT) {
        const lrs_sig_engine *e = &lrs_sig_engines[engine];
        int md4 = rs_signature_strongsum_kind(sig) == RS_MD4;
        job->lanes = md4 ? e->md4_lanes : e->blake2b_lanes;
        job->hash = md4 ? e->md4 : e->blake2b;
        job->digest_len = md4 ? 16 : 32;
        job->weak_fn = job->rabinkarp ? e->rabinkarp : e->rollsum;
        if (job->hash == NULL)
            job->lanes = 1;
    }
    lrs_put_netint(job, RS_DELTA_MAGIC, LRS_DELTA_MAGIC_BYTES);
    return &job->base;
}

/* librsync's own delta job over sig, its lookups within a budget: the job
 * is begun on a copy of sig's header that carries the budget
 * (lrs_budgeted_sig, vendor/config/delta_budgeted.c).  sig must outlive
 * the job.  NULL if memory ran out. */
typedef struct {
    lrs_job base;
    rs_job_t *rs;
    lrs_budgeted_sig *sig;
} lrs_rsdeltajob;

static rs_result lrs_rsdelta_iter(lrs_job *job, rs_buffers_t *buffers)
{
    return rs_job_iter(((lrs_rsdeltajob *)job)->rs, buffers);
}

static const rs_stats_t *lrs_rsdelta_statistics(lrs_job *job)
{
    return rs_job_statistics(((lrs_rsdeltajob *)job)->rs);
}

static void lrs_rsdelta_free(lrs_job *base)
{
    lrs_rsdeltajob *job = (lrs_rsdeltajob *)base;
    if (job->rs != NULL)
        rs_job_free(job->rs);
    free(job->sig);
    free(job);
}

static lrs_job *lrs_rsdelta_begin(const rs_signature_t *sig)
{
    lrs_rsdeltajob *job = (lrs_rsdeltajob *)calloc(1, sizeof *job);
    if (job == NULL)
        return NULL;
    job->base.iter = lrs_rsdelta_iter;
    job->base.statistics = lrs_rsdelta_statistics;
    job->base.free = lrs_rsdelta_free;
    job->sig = (lrs_budgeted_sig *)malloc(sizeof *job->sig);
    if (job->sig == NULL) {
        lrs_rsdelta_free(&job->base);
        return NULL;
    }
    job->sig->sig = *sig;
    lrs_budget_init(&job->sig->budget, (size_t)(sig->block_len > 0 ? sig->block_len : 0));
    job->rs = rs_delta_begin(&job->sig->sig);
    if (job->rs == NULL) {
        lrs_rsdelta_free(&job->base);
        return NULL;
    }
    return &job->base;
}

/* The budget of a delta job of either kind; NULL for other jobs. */
static const lrs_budget *lrs_delta_budget(lrs_job *job)
{
    if (job->iter == lrs_deltajob_iter)
        return &((lrs_deltajob *)job)->budget;
    if (job->iter == lrs_rsdelta_iter)
        return &((lrs_rsdeltajob *)job)->sig->budget;
    return NULL;
}

#endif
