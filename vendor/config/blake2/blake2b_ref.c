/* Our glue, not libb2's: libb2's portable C BLAKE2b, for every target; on x86 it is one of the
 * candidates librsync/_blake2.h times at import.
 * The suffix keeps each build's symbols apart (blake2b_init_ref, ...), the
 * mechanism libb2's own blake2-impl.h provides for its dispatcher. */
#define SUFFIX _ref
#include "blake2b-ref.c"
