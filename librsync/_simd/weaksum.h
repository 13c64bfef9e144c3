/* Weak sums of whole signature blocks, computed faster than librsync's
 * rolling updates and equal to them bit for bit (see weaksum_avx2.c).
 * Our code, used by the batched signature job (../_sigjob.h). */
#ifndef LIBRSYNC_PY_WEAKSUM_H
#define LIBRSYNC_PY_WEAKSUM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* rs_calc_weak_sum(RS_RABINKARP, p, n) and rs_calc_weak_sum(RS_ROLLSUM, p, n). */
uint32_t lrs_rabinkarp_avx2(const unsigned char *p, size_t n);
uint32_t lrs_rollsum_avx2(const unsigned char *p, size_t n);

#ifdef __cplusplus
}
#endif

#endif
