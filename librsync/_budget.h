/* The work budget of a delta search: what a forged signature can cost.
 *
 * Our glue, not upstream code.  A delta search rolls a weak sum over the
 * new file and, at every position whose weak sum a block of the signature
 * has, computes the window's strong sum (a hash of a whole block) and
 * compares it with each block of that weak sum.  An honest signature makes
 * that rare except where the block really matches, and a match moves the
 * search a whole block on.  A forged one need not: one block whose weak sum
 * is that of an all-zero window makes every position of a zero run hash a
 * block (16 MiB at MAX_BLOCK_LEN) and find nothing; hundreds of blocks
 * sharing one weak sum add hundreds of comparisons to each; a peer that
 * knows the new file can forge a block for every window of it.  librsync
 * bounds none of that: 17,650 s of CPU per MiB of zeros from a 48-byte
 * signature.
 *
 * So every lookup goes through lrs_budget_find, which counts the work spent
 * on lookups that find nothing -- bytes hashed, hash-table slots probed,
 * strong sums compared -- and allows at most
 *
 *     LRS_BUDGET_BASE + LRS_BUDGET_BASE_BLOCKS * block_len
 *         + LRS_BUDGET_PER_BYTE * (bytes of new file scanned)
 *
 * units (a unit is about one byte hashed; a strong-sum comparison counts
 * LRS_BUDGET_COMPARE).  A lookup the budget cannot pay for is not made: the
 * window is a miss, as it would be after a failed check, so the delta stays
 * valid and only misses a match it could have found.  And a weak sum whose
 * strong sums failed LRS_KEY_FAILS times running (no match between), at a
 * cost of LRS_KEY_WORK units or more, is checked no more in this search:
 * forged sums of one value stop costing anything, and the budget is left
 * for the rest.  (The work floor keeps tiny honest blocks, whose short
 * windows repeat and collide often but cheaply, from ever being dropped.)
 *
 * Honest searches stay far below the budget: a failed check needs a chance
 * collision of 32-bit weak sums (about count / 2**32 per position, a
 * little more for rollsum), so the work per byte is about (old file size /
 * 4 GiB) units, against LRS_BUDGET_PER_BYTE = 32.  The lookup itself is
 * librsync's rs_signature_find_match, called only when the budget allows:
 * below the bound the search returns exactly what librsync's would.
 * tests/test_forged_signatures.py checks both sides.
 *
 * Both delta engines use it: the fast one (_deltajob.h) calls it in place
 * of rs_signature_find_match, and librsync's own delta job (delta.c) is
 * compiled through vendor/config/delta_budgeted.c, which renames its one
 * call of rs_signature_find_match to lrs_budget_rs_find_match below.
 * librsync's job passes only the signature, so its budget travels with a
 * per-job copy of the signature's header (lrs_budgeted_sig): the block sums
 * and hash table stay shared and read-only.
 */
#ifndef LIBRSYNC_PY_BUDGET_H
#define LIBRSYNC_PY_BUDGET_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "librsync.h"
#include "sumset.h"             /* rs_signature_t, hashtable_t */

/* Work units allowed per byte of new file scanned. */
#define LRS_BUDGET_PER_BYTE 32u
/* Units one strong-sum comparison costs (a probe of the table costs 1, a
 * byte hashed 1). */
#define LRS_BUDGET_COMPARE 8u
/* Units allowed before anything is scanned: 1 MiB plus four blocks'
 * worth, so that an honest search can check a few windows at once. */
#define LRS_BUDGET_BASE ((uint64_t)1 << 20)
#define LRS_BUDGET_BASE_BLOCKS 4u
/* Failed checks in a row, and their work, after which a weak sum is not
 * checked again. */
#define LRS_KEY_FAILS 16u
#define LRS_KEY_WORK ((uint64_t)4 << 20)
/* Weak sums whose failures are remembered (direct-mapped). */
#define LRS_KEY_SLOTS_LOG2 10
#define LRS_KEY_SLOTS (1u << LRS_KEY_SLOTS_LOG2)

typedef struct {
    uint32_t key;               /* a table key (never 0), 0: empty */
    uint32_t fails;             /* failed checks in a row */
    uint64_t work;              /* and what they cost */
} lrs_key_fails;

typedef struct {
    uint64_t scanned;           /* bytes of new file the search has passed */
    uint64_t base;              /* units allowed before that */
    uint64_t spent;             /* units spent on lookups that found nothing */
    /* What tests and users see (DeltaJob.false_checks / skipped_checks): */
    uint64_t false_checks;      /* strong sums computed that matched no block */
    uint64_t skipped;           /* lookups not made: budget spent, or key given up */
    lrs_key_fails keys[LRS_KEY_SLOTS];
} lrs_budget;

static inline void lrs_budget_init(lrs_budget *b, size_t block_len)
{
    memset(b, 0, sizeof *b);
    b->base = LRS_BUDGET_BASE + (uint64_t)LRS_BUDGET_BASE_BLOCKS * block_len;
}

/* Units the search may still spend. */
static inline uint64_t lrs_budget_credit(const lrs_budget *b)
{
    uint64_t allowed = b->base + LRS_BUDGET_PER_BYTE * b->scanned;
    return allowed > b->spent ? allowed - b->spent : 0;
}

/* Work that found nothing, outside a lookup (the fast engine's batches). */
static inline void lrs_budget_charge(lrs_budget *b, uint64_t units)
{
    b->spent += units;
}

/* librsync's lookup (rs_signature_find_match: the block at whose offset the
 * window of len bytes at buf matches, or -1), within the budget.  weak is
 * the window's weak sum as the signature stores it (rollsums mixed). */
static rs_long_t lrs_budget_find(lrs_budget *b, rs_signature_t *sig, rs_weak_sum_t weak,
                                 const void *buf, size_t len)
{
    hashtable_t *t = sig->hashtable;
    /* hashtable.h's key: the weak sum, 0 made ~0 (nozero). */
    const unsigned key = weak ? (unsigned)weak : ~0u;
    lrs_key_fails *slot = &b->keys[(uint32_t)(key * 0x9E3779B1u) >> (32 - LRS_KEY_SLOTS_LOG2)];
    uint64_t credit = lrs_budget_credit(b), probes = 0, same = 0, cost;
    rs_long_t match;

    if (t == NULL)
        return -1;
#ifndef HASHTABLE_NBLOOM
    if (!hashtable_getbloom(t, key))
        return -1;
#endif
    if (slot->key == key && slot->fails >= LRS_KEY_FAILS && slot->work >= LRS_KEY_WORK) {
        b->skipped++;
        return -1;
    }
    /* hashtable_find's probe sequence (_for_probe), to its empty bucket:
     * how many entries librsync would compare.  Long sequences are what a
     * forged signature makes, so the walk is paid for as it goes. */
    {
        const unsigned tmask = t->tmask;
        unsigned i = key & tmask, s = 0, h;
        for (; (h = t->ktable[i]) != 0; i = (i + ++s) & tmask) {
            if (++probes > credit) {
                b->spent += probes;
                b->skipped++;
                return -1;
            }
            same += h == key;
        }
    }
    if (same == 0) {
        /* librsync would hash nothing and find nothing. */
        b->spent += probes;
        return -1;
    }
    cost = probes + same * LRS_BUDGET_COMPARE + len;
    if (cost > credit) {
        b->spent += probes;
        b->skipped++;
        return -1;
    }
    match = rs_signature_find_match(sig, weak, buf, len);
    if (match >= 0) {
        if (slot->key == key) {
            slot->fails = 0;
            slot->work = 0;
        }
        /* At most same - 1 entries were compared in vain first. */
        b->spent += probes + (same - 1) * LRS_BUDGET_COMPARE;
        return match;
    }
    b->spent += cost;
    b->false_checks++;
    if (slot->key != key) {
        slot->key = key;
        slot->fails = 0;
        slot->work = 0;
    }
    slot->fails++;
    slot->work += cost;
    return -1;
}

/* A signature as librsync's delta job sees it, with the job's budget: a
 * copy of the shared signature's header, whose block sums and hash table
 * stay the shared ones. */
typedef struct {
    rs_signature_t sig;         /* first: the pointer librsync's job holds */
    lrs_budget budget;
} lrs_budgeted_sig;

#endif /* LIBRSYNC_PY_BUDGET_H */
