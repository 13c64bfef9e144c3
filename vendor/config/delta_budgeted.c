/* Our glue, not librsync's: librsync's delta job (src/delta.c, unmodified)
 * with its one lookup, rs_signature_find_match, made within a work budget.
 *
 * delta.c looks up every position of the new file and, on a weak-sum hit,
 * hashes a whole block; a forged signature can make that happen at every
 * byte (librsync/_budget.h says how much that costs, and the bound).  The
 * rename below sends delta.c's call to lrs_budget_rs_find_match, which
 * applies the budget of the job's signature copy (lrs_budgeted_sig, made by
 * lrs_rsdelta_begin in librsync/_deltajob.h for every librsync delta job
 * this extension starts) and calls the real rs_signature_find_match only
 * when the budget allows.  setup.py compiles this file instead of delta.c
 * (LIBRSYNC_WRAPPED); nothing of upstream's text changes.
 */
#include "config.h"
#include "sumset.h"             /* the real rs_signature_find_match, declared */
#include "../../librsync/_budget.h"

static rs_long_t lrs_budget_rs_find_match(rs_signature_t *sig, rs_weak_sum_t weak,
                                          void const *buf, size_t len)
{
    /* Every librsync delta job of this extension is begun on a copy made
     * by lrs_rsdelta_begin (rs_delta_begin is called nowhere else; whole.c's
     * rs_delta_file, which would pass a plain signature, is never used). */
    lrs_budgeted_sig *c = (lrs_budgeted_sig *)sig;
    rs_long_t match = lrs_budget_find(&c->budget, sig, weak, buf, len);
    /* delta.c moves one byte on after a miss, the window after a match. */
    c->budget.scanned += match >= 0 ? len : 1;
    return match;
}

#define rs_signature_find_match lrs_budget_rs_find_match
#include "delta.c"
