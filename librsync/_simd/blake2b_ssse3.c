/* blake2b_ssse3.c -- the 2-lane SSE2 kernel with pshufb (SSSE3) for the
 * 24- and 16-bit rotations.  Our code.  Build with -mssse3; see
 * blake2b_sse2.c. */
#define LRS_B2B_SSSE3 1
#include "blake2b_sse2.c"
