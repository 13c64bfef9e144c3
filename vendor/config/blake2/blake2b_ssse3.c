/* Our glue, not libb2's: libb2's SIMD BLAKE2b built for one instruction set (setup.py compiles this
 * file with the matching -m flags, on x86 targets only); librsync/_blake2.h
 * uses it only where the CPU has the instructions and it times faster.
 * The suffix keeps each build's symbols apart (blake2b_init_ssse3, ...), the
 * mechanism libb2's own blake2-impl.h provides for its dispatcher. */
#define SUFFIX _ssse3
#include "blake2b.c"
