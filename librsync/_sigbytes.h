/* A loaded signature written back out in librsync's signature format.
 *
 * Our glue, not upstream code.  librsync reads signatures but has no call to
 * write a loaded one again; pickling a Signature (to ship it to another
 * process or machine) needs exactly those bytes, so that the other side loads
 * it with the same checks as any signature from a peer.  The layout is
 * readsums.c's input: a 12-byte header (magic, block length, strong length)
 * and, per block, its 4-byte weak sum and its strong sum, all big-endian.
 * Blocks are kept in file order (rs_build_hash_table indexes them in place),
 * so the bytes equal what `rdiff signature` wrote for the same file, once
 * one transformation is undone: rs_signature_add_block() stores a rollsum
 * (the MD4 and BLAKE2 magics without "RK") through hashtable.h's mix32(),
 * while the file holds it raw.  mix32() is MurmurHash3's finaliser, a
 * bijection, so lrs_unmix32() recovers the raw sum exactly.
 */
#ifndef LIBRSYNC_PY_SIGBYTES_H
#define LIBRSYNC_PY_SIGBYTES_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "_guards.h" /* lrs_block(): sumset.c's packed block layout */

static void lrs_put_be32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

/* The inverse of mix32(): each xor-shift undone by itself (or, for the
   13-bit one, by shifting twice), each multiplication by the modular inverse
   of its constant (0xa5cb9243 * 0x85ebca6b == 1 and 0x7ed1b41d * 0xc2b2ae35
   == 1, mod 2^32).  tests/test_pickle.py compares with rdiff's bytes. */
static uint32_t lrs_unmix32(uint32_t h)
{
    h ^= h >> 16;
    h *= 0x7ed1b41dU;
    h ^= (h >> 13) ^ (h >> 26);
    h *= 0xa5cb9243U;
    h ^= h >> 16;
    return h;
}

/* Bytes lrs_signature_write() writes for sig. */
static size_t lrs_signature_size(const rs_signature_t *sig)
{
    return 12 + (size_t)sig->count * (4 + (size_t)sig->strong_sum_len);
}

/* Writes lrs_signature_size(sig) bytes to out. */
static void lrs_signature_write(const rs_signature_t *sig, unsigned char *out)
{
    const size_t len = (size_t)sig->strong_sum_len;
    const int mixed = rs_signature_weaksum_kind(sig) == RS_ROLLSUM;
    int i;

    lrs_put_be32(out, (uint32_t)sig->magic);
    lrs_put_be32(out + 4, (uint32_t)sig->block_len);
    lrs_put_be32(out + 8, (uint32_t)sig->strong_sum_len);
    out += 12;
    for (i = 0; i < sig->count; i++) {
        const rs_block_sig_t *b = lrs_block(sig, i);
        lrs_put_be32(out, mixed ? lrs_unmix32(b->weak_sum) : b->weak_sum);
        memcpy(out + 4, b->strong_sum, len);
        out += 4 + len;
    }
}

#endif /* LIBRSYNC_PY_SIGBYTES_H */
