/* Checks on a loaded signature before librsync builds its hash table.
 *
 * Our glue, not upstream code.  librsync's hash table chains every block
 * whose weak (rolling) sum is the same, and rs_build_hash_table() searches
 * the chain before each insert, so a signature in which many blocks share one
 * weak sum but differ in strong sum costs time quadratic in that number.
 * Honest data almost never does that: identical blocks have identical strong
 * sums and are stored once, and true weak-sum collisions are rare.  A peer
 * that sends such a signature on purpose can make a 4 MB signature take
 * minutes to load, so we count the worst chain first and refuse it.  (The
 * table probes from the weak sum's low bits, so "one chain" means one
 * probe start, not only one weak sum: see lrs_worst_weak_collision.)
 */
#ifndef LIBRSYNC_PY_GUARDS_H
#define LIBRSYNC_PY_GUARDS_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sumset.h"

static int lrs_cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* Same layout rule as sumset.c: a strong sum is padded to a multiple of the
   weak sum's size so that the next block's weak sum is aligned. */
static const rs_block_sig_t *lrs_block(const rs_signature_t *sig, int i)
{
    const size_t mask = sizeof(rs_weak_sum_t) - 1;
    const size_t stride = offsetof(rs_block_sig_t, strong_sum)
        + (((size_t)sig->strong_sum_len + mask) & ~mask);
    return (const rs_block_sig_t *)((const char *)sig->block_sigs
                                    + (size_t)i * stride);
}

/* hashtable.h's key for a stored weak sum: 0 is made ~0 (nozero). */
static inline uint32_t lrs_guard_key(uint32_t weak)
{
    return weak ? weak : ~(uint32_t)0;
}

/* The slot mask of the table rs_build_hash_table makes for count blocks
 * (hashtable.c: at most 0.7 full, a power of 2, at least 2). */
static uint32_t lrs_guard_table_mask(size_t count)
{
    unsigned long long want = 1 + (unsigned long long)count * 10 / 7;
    unsigned long long size = 2;
    while (size < want && size < ((unsigned long long)1 << 31))
        size <<= 1;
    return (uint32_t)(size - 1);
}

/* A block's table key and strong sum, as one record to sort. */
#define LRS_GUARD_REC (4 + RS_MAX_STRONG_SUM_LENGTH)

static int lrs_cmp_rec(const void *a, const void *b)
{
    return memcmp(a, b, LRS_GUARD_REC);
}

/* Distinct (key, strong sum) pairs among the blocks keys[0..n) (all of one
 * probe start), counting no further than limit + 1: the entries
 * rs_build_hash_table keeps for them.  -1 if out of memory. */
static long lrs_distinct_entries(const rs_signature_t *sig,
                                 const uint64_t *keys, size_t n, long limit)
{
    const size_t len = (size_t)sig->strong_sum_len;
    const rs_block_sig_t *first = lrs_block(sig, (int)(uint32_t)keys[0]);
    size_t i, differ = 0;
    unsigned char *recs;
    long distinct;

    /* Runs of identical blocks (zero-filled regions) are the common case:
       settle them without sorting. */
    for (i = 1; i < n; i++) {
        const rs_block_sig_t *b = lrs_block(sig, (int)(uint32_t)keys[i]);
        if (lrs_guard_key(b->weak_sum) != lrs_guard_key(first->weak_sum)
            || memcmp(b->strong_sum, first->strong_sum, len) != 0)
            differ++;
    }
    if ((long)differ <= limit - 1)
        return (long)differ + 1;

    recs = (unsigned char *)calloc(n, LRS_GUARD_REC);
    if (recs == NULL)
        return -1;
    for (i = 0; i < n; i++) {
        const rs_block_sig_t *b = lrs_block(sig, (int)(uint32_t)keys[i]);
        uint32_t key = lrs_guard_key(b->weak_sum);
        memcpy(recs + i * LRS_GUARD_REC, &key, 4);
        memcpy(recs + i * LRS_GUARD_REC + 4, b->strong_sum, len);
    }
    qsort(recs, n, LRS_GUARD_REC, lrs_cmp_rec);
    distinct = 1;
    for (i = 1; i < n && distinct <= limit; i++)
        if (memcmp(recs + (i - 1) * LRS_GUARD_REC, recs + i * LRS_GUARD_REC,
                   LRS_GUARD_REC) != 0)
            distinct++;
    free(recs);
    return distinct;
}

/* More than limit if the hash table rs_build_hash_table would build has
 * more than limit entries starting their probe at one slot (*weak_out is
 * then the weak sum of one of them), else at most limit.  -1 if out of
 * memory.
 *
 * Blocks of one weak sum start at one slot, but so do blocks whose weak
 * sums differ only in the bits above the table's mask: librsync's table
 * probes them all along one sequence, so building it is quadratic in their
 * number, and every lookup of such a sum walks them.  A forged signature
 * can choose its weak sums that way as easily as equal ones (500,000
 * blocks: minutes to load); honest weak sums spread over the slots, a few
 * per slot. */
static long lrs_worst_weak_collision(const rs_signature_t *sig, long limit,
                                     uint32_t *weak_out)
{
    const size_t count = (size_t)(sig->count > 0 ? sig->count : 0);
    const uint32_t mask = lrs_guard_table_mask(count);
    uint64_t *keys;
    size_t start, end;
    long worst = count ? 1 : 0, distinct;

    *weak_out = 0;
    if (count <= (size_t)limit)
        return (long)count;
    keys = (uint64_t *)malloc(count * sizeof *keys);
    if (keys == NULL)
        return -1;
    /* The probe start in the high half, block index in the low: sorting
       groups blocks by where their probes start. */
    for (start = 0; start < count; start++)
        keys[start] = ((uint64_t)(lrs_guard_key(lrs_block(sig, (int)start)->weak_sum)
                                  & mask) << 32)
            | (uint64_t)start;
    qsort(keys, count, sizeof *keys, lrs_cmp_u64);
    for (start = 0; start < count; start = end) {
        for (end = start + 1;
             end < count && (keys[end] >> 32) == (keys[start] >> 32); end++)
            ;
        if (end - start <= (size_t)limit)
            continue;
        distinct = lrs_distinct_entries(sig, keys + start, end - start, limit);
        if (distinct < 0) {
            free(keys);
            return -1;
        }
        if (distinct > worst) {
            worst = distinct;
            *weak_out = lrs_block(sig, (int)(uint32_t)keys[start])->weak_sum;
            if (worst > limit)
                break;
        }
    }
    free(keys);
    return worst;
}

#endif /* LIBRSYNC_PY_GUARDS_H */
