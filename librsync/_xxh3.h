/* xxHash's XXH3-128, compiled into the extension from the vendored header.
 *
 * Our glue, not upstream code.  XXH_INLINE_ALL makes every xxHash function
 * static to this translation unit: only what the Cython code calls is
 * compiled, and no XXH symbol leaves the extension (a system libxxhash
 * loaded by another extension cannot clash with ours). */
#ifndef LIBRSYNC_PY_XXH3_H
#define LIBRSYNC_PY_XXH3_H

#define XXH_INLINE_ALL
#include "xxhash.h"

#endif /* LIBRSYNC_PY_XXH3_H */
