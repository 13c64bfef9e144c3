/* Correctness test of the multi-buffer MD4 kernels against librsync's own
 * rs_mdfour (vendor/librsync/src/mdfour.c, compiled in), and of both
 * against RFC 1320's test vectors.  Build and run: run_md4_tests.sh.
 *
 * Every kernel built for the target is checked on:
 *   - the RFC 1320 appendix A.5 messages, in every lane;
 *   - every length 0..1100 (all tail cases: len % 64 below and from 56 on,
 *     0..17 whole blocks), random lengths up to 64 KiB, and 1 MiB (+57);
 *   - different content in every lane, each message at its own unaligned
 *     offset in a buffer that ends exactly where the message does (so a
 *     read past the end is an AddressSanitizer error), the digests written
 *     to an odd address between guard bytes that must stay untouched;
 *   - lanes that differ in one byte (a lane mix-up in a transpose shows);
 *   - len 0 with NULL message pointers (nothing may be read).
 * A kernel the CPU cannot run fails the test unless LRS_MD4_ALLOW_MISSING=1
 * is set (for CPUs without AVX-512, say): the test must not pass by
 * checking nothing.
 *
 * Exit status 0 only if every comparison matched.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "librsync.h"
#include "md4_kernels.h"

static unsigned long failures;

static uint64_t rng_state = 0x9E3779B97F4A7C15ULL;

static uint64_t rng(void) /* xorshift64*: reproducible, no libc rand() */
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545F4914F6CDD1DULL;
}

static void hex(char *dst, const unsigned char *d)
{
    int i;

    for (i = 0; i < 16; i++)
        sprintf(dst + 2 * i, "%02x", d[i]);
}

static void fail(const char *what, const char *kernel, size_t len, int lane,
                 const unsigned char *got, const unsigned char *want)
{
    char g[33], w[33];

    hex(g, got);
    hex(w, want);
    if (failures < 20)
        fprintf(stderr, "FAIL %s [%s] len=%lu lane=%d: got %s want %s\n", what, kernel,
                (unsigned long)len, lane, g, w);
    failures++;
}

/* Messages of one length, one per lane, each at the end of its own buffer. */
typedef struct {
    unsigned char *buf[LRS_MD4_MAX_LANES];
    const unsigned char *msg[LRS_MD4_MAX_LANES];
} lanes_t;

static void lanes_alloc(lanes_t *L, size_t len)
{
    int i;

    for (i = 0; i < LRS_MD4_MAX_LANES; i++) {
        size_t pad = (size_t)(7 * i + 1) % 64; /* 1, 8, 15, ...: mostly odd */
        L->buf[i] = (unsigned char *)malloc(pad + len);
        if (!L->buf[i]) {
            perror("malloc");
            exit(2);
        }
        L->msg[i] = L->buf[i] + pad;
    }
}

static void lanes_fill_random(lanes_t *L, size_t len)
{
    int i;
    size_t j;

    for (i = 0; i < LRS_MD4_MAX_LANES; i++) {
        unsigned char *m = (unsigned char *)L->msg[i];
        for (j = 0; j < len; j++)
            m[j] = (unsigned char)(rng() >> 56);
    }
}

static void lanes_free(lanes_t *L)
{
    int i;

    for (i = 0; i < LRS_MD4_MAX_LANES; i++)
        free(L->buf[i]);
}

#define GUARD 7
#define GUARD_BYTE 0xA5

/* Run kernel k on the lanes' messages and compare each digest with want
 * (or, if want is NULL, with rs_mdfour of that lane). */
static void check(const lrs_md4_kernel *k, const lanes_t *L, size_t len, const unsigned char *want,
                  const char *what)
{
    /* GUARD bytes either side, the digests at an odd address. */
    unsigned char outbuf[1 + GUARD + 16 * LRS_MD4_MAX_LANES + GUARD];
    unsigned char *out = outbuf + 1 + GUARD;
    unsigned char ref[16];
    int i;
    size_t j;

    memset(outbuf, GUARD_BYTE, sizeof outbuf);
    k->fn(L->msg, len, out);
    for (i = 0; i < k->lanes; i++) {
        if (want) {
            memcpy(ref, want, 16);
        } else {
            rs_mdfour(ref, L->msg[i], len);
        }
        if (memcmp(out + 16 * i, ref, 16) != 0)
            fail(what, k->name, len, i, out + 16 * i, ref);
    }
    for (j = 0; j < sizeof outbuf; j++) {
        int inside = j >= 1 + GUARD && j < 1 + GUARD + 16 * (size_t)k->lanes;
        if (!inside && outbuf[j] != GUARD_BYTE) {
            fprintf(stderr, "FAIL %s [%s] len=%lu: wrote outside its %d digests\n", what,
                    k->name, (unsigned long)len, k->lanes);
            failures++;
            break;
        }
    }
}

static int unhex(unsigned char *d, const char *s)
{
    int i;

    for (i = 0; i < 16; i++) {
        unsigned v;
        if (sscanf(s + 2 * i, "%2x", &v) != 1)
            return -1;
        d[i] = (unsigned char)v;
    }
    return 0;
}

/* RFC 1320, appendix A.5. */
static const char *const rfc_vectors[][2] = {
    {"", "31d6cfe0d16ae931b73c59d7e0c089c0"},
    {"a", "bde52cb31de33e46245e05fbdbd6fb24"},
    {"abc", "a448017aaf21d8525fc10ae87aa6729d"},
    {"message digest", "d9130a8164549fe818874806e1c7014b"},
    {"abcdefghijklmnopqrstuvwxyz", "d79e1c308aa5bbcdeea8ed63df412da9"},
    {"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
     "043f8582f241db351ce627e153e7f0e4"},
    {"1234567890123456789012345678901234567890123456789012345678901234567890"
     "1234567890",
     "e33b4ddc9c38f2199c3e7b164fcc0536"},
};

static void test_rfc(const lrs_md4_kernel *k)
{
    size_t v;

    for (v = 0; v < sizeof rfc_vectors / sizeof rfc_vectors[0]; v++) {
        const char *m = rfc_vectors[v][0];
        size_t len = strlen(m);
        unsigned char want[16], got[16];
        lanes_t L;
        int i;

        if (unhex(want, rfc_vectors[v][1]) != 0) {
            fprintf(stderr, "bad test vector %lu\n", (unsigned long)v);
            exit(2);
        }
        if (!k) { /* rs_mdfour itself: the reference must be the standard */
            rs_mdfour(got, m, len);
            if (memcmp(got, want, 16) != 0)
                fail("rfc1320", "rs_mdfour", len, 0, got, want);
            continue;
        }
        lanes_alloc(&L, len);
        for (i = 0; i < LRS_MD4_MAX_LANES; i++)
            memcpy((unsigned char *)L.msg[i], m, len);
        check(k, &L, len, want, "rfc1320");
        lanes_free(&L);
    }
}

static void test_len(const lrs_md4_kernel *k, size_t len, const char *what)
{
    lanes_t L;

    lanes_alloc(&L, len);
    lanes_fill_random(&L, len);
    check(k, &L, len, NULL, what);
    lanes_free(&L);
}

/* Lanes that differ in one byte only: each lane's digest must come from its
 * own data (a transpose that mixed up lanes would pass on equal content). */
static void test_one_byte_apart(const lrs_md4_kernel *k)
{
    static const size_t lens[] = {1, 55, 56, 63, 64, 65, 119, 120, 128, 1000};
    size_t n;

    for (n = 0; n < sizeof lens / sizeof lens[0]; n++) {
        size_t len = lens[n], pos;
        lanes_t L;
        int i;

        lanes_alloc(&L, len);
        lanes_fill_random(&L, len);
        for (pos = 0; pos < len; pos += (len > 70 ? 13 : 1)) {
            for (i = 1; i < LRS_MD4_MAX_LANES; i++) {
                memcpy((unsigned char *)L.msg[i], L.msg[0], len);
                ((unsigned char *)L.msg[i])[pos] ^= (unsigned char)i;
            }
            check(k, &L, len, NULL, "one-byte-apart");
        }
        lanes_free(&L);
    }
}

/* len 0: no byte may be read, so NULL message pointers must do. */
static void test_empty_null(const lrs_md4_kernel *k)
{
    lanes_t L;
    unsigned char want[16];
    int i;

    unhex(want, rfc_vectors[0][1]);
    memset(&L, 0, sizeof L);
    for (i = 0; i < LRS_MD4_MAX_LANES; i++)
        L.msg[i] = NULL;
    check(k, &L, 0, want, "empty-null");
}

int main(void)
{
    const lrs_md4_kernel *k;
    int tested = 0, missing = 0;
    const char *allow = getenv("LRS_MD4_ALLOW_MISSING");

    test_rfc(NULL);
    for (k = lrs_md4_kernels; k->name; k++) {
        size_t len;
        unsigned long before = failures;
        int r;

        if (!k->usable()) {
            printf("%-11s NOT RUN: this CPU lacks the instruction set\n", k->name);
            missing++;
            continue;
        }
        test_rfc(k);
        test_empty_null(k);
        test_one_byte_apart(k);
        for (len = 0; len <= 1100; len++)
            test_len(k, len, "every-len");
        for (r = 0; r < 200; r++)
            test_len(k, (size_t)(rng() % (64 * 1024 + 1)), "random-len");
        test_len(k, 64 * 1024, "64KiB");
        test_len(k, 1024 * 1024, "1MiB");
        test_len(k, 1024 * 1024 + 57, "1MiB+57");
        printf("%-11s %s\n", k->name, failures == before ? "ok" : "FAILED");
        tested++;
    }
    if (tested == 0) {
        fprintf(stderr, "FAIL: no kernel was tested\n");
        return 1;
    }
    if (missing && !(allow && strcmp(allow, "1") == 0)) {
        fprintf(stderr, "FAIL: %d kernel(s) not run (LRS_MD4_ALLOW_MISSING=1 to accept)\n",
                missing);
        return 1;
    }
    if (failures) {
        fprintf(stderr, "%lu mismatches\n", failures);
        return 1;
    }
    printf("all %d kernel(s) match rs_mdfour\n", tested);
    return 0;
}
