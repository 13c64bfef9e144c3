/* Checks on a loaded signature before librsync builds its hash table.
 *
 * Our glue, not upstream code.  librsync's hash table chains every block
 * whose weak (rolling) sum is the same, and rs_build_hash_table() searches
 * the chain before each insert, so a signature in which many blocks share one
 * weak sum but differ in strong sum costs time quadratic in that number.
 * Honest data almost never does that: identical blocks have identical strong
 * sums and are stored once, and true weak-sum collisions are rare.  A peer
 * that sends such a signature on purpose can make a 4 MB signature take
 * minutes to load, so we count the worst chain first and refuse it.
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

static int lrs_cmp_strong(const void *a, const void *b)
{
    return memcmp(a, b, RS_MAX_STRONG_SUM_LENGTH);
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

/* Distinct strong sums among the blocks keys[0..n) (all of one weak sum),
   counting no further than limit + 1.  -1 if out of memory. */
static long lrs_distinct_strong(const rs_signature_t *sig,
                                const uint64_t *keys, size_t n, long limit)
{
    const size_t len = (size_t)sig->strong_sum_len;
    const rs_block_sig_t *first = lrs_block(sig, (int)(uint32_t)keys[0]);
    size_t i, differ = 0;
    unsigned char *sums;
    long distinct;

    /* Runs of identical blocks (zero-filled regions) are the common case:
       settle them without sorting. */
    for (i = 1; i < n; i++)
        if (memcmp(lrs_block(sig, (int)(uint32_t)keys[i])->strong_sum,
                   first->strong_sum, len) != 0)
            differ++;
    if ((long)differ <= limit - 1)
        return (long)differ + 1;

    sums = (unsigned char *)calloc(n, RS_MAX_STRONG_SUM_LENGTH);
    if (sums == NULL)
        return -1;
    for (i = 0; i < n; i++)
        memcpy(sums + i * RS_MAX_STRONG_SUM_LENGTH,
               lrs_block(sig, (int)(uint32_t)keys[i])->strong_sum, len);
    qsort(sums, n, RS_MAX_STRONG_SUM_LENGTH, lrs_cmp_strong);
    distinct = 1;
    for (i = 1; i < n && distinct <= limit; i++)
        if (memcmp(sums + (i - 1) * RS_MAX_STRONG_SUM_LENGTH,
                   sums + i * RS_MAX_STRONG_SUM_LENGTH,
                   RS_MAX_STRONG_SUM_LENGTH) != 0)
            distinct++;
    free(sums);
    return distinct;
}

/* More than limit if some weak sum is shared by more than limit distinct
   strong sums (*weak_out is then that weak sum), else at most limit.
   -1 if out of memory. */
static long lrs_worst_weak_collision(const rs_signature_t *sig, long limit,
                                     uint32_t *weak_out)
{
    const size_t count = (size_t)(sig->count > 0 ? sig->count : 0);
    uint64_t *keys;
    size_t start, end;
    long worst = count ? 1 : 0, distinct;

    *weak_out = 0;
    if (count <= (size_t)limit)
        return (long)count;
    keys = (uint64_t *)malloc(count * sizeof *keys);
    if (keys == NULL)
        return -1;
    /* Weak sum in the high half, block index in the low: sorting groups
       blocks by weak sum. */
    for (start = 0; start < count; start++)
        keys[start] = ((uint64_t)lrs_block(sig, (int)start)->weak_sum << 32)
            | (uint64_t)start;
    qsort(keys, count, sizeof *keys, lrs_cmp_u64);
    for (start = 0; start < count; start = end) {
        for (end = start + 1;
             end < count && (keys[end] >> 32) == (keys[start] >> 32); end++)
            ;
        if (end - start <= (size_t)limit)
            continue;
        distinct = lrs_distinct_strong(sig, keys + start, end - start, limit);
        if (distinct < 0) {
            free(keys);
            return -1;
        }
        if (distinct > worst) {
            worst = distinct;
            *weak_out = (uint32_t)(keys[start] >> 32);
            if (worst > limit)
                break;
        }
    }
    free(keys);
    return worst;
}

#endif /* LIBRSYNC_PY_GUARDS_H */
