/* test_mbhash.c -- checks every multi-buffer BLAKE2b kernel this target has
 * against libb2's portable reference (vendor/libb2/src/blake2b-ref.c, built
 * through vendor/config/blake2/blake2b_ref.c), used exactly as librsync's
 * checksum.c uses it: blake2b_init(S, 32), update, final(out, 32).
 *
 * Our code.  Built and run by run_tests.sh.  Exit status 0 only if every
 * kernel the CPU can run matched on every case and at least one ran.
 *
 *   test_mbhash         the comparison against the reference
 *   test_mbhash --kat   digests of a fixed input pattern, one line each
 *                       (kernel len lane hex), for run_tests.sh to compare
 *                       with Python's hashlib.blake2b(digest_size=32)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blake2.h"
#include "mbhash.h"

int blake2b_init_ref(blake2b_state *S, size_t outlen);
int blake2b_update_ref(blake2b_state *S, const uint8_t *in, size_t inlen);
int blake2b_final_ref(blake2b_state *S, uint8_t *out, size_t outlen);

#if defined(__x86_64__) || defined(_M_X64) || defined(__i386__) || defined(_M_IX86)
#define TEST_X86 1
#elif (defined(__aarch64__) || defined(_M_ARM64)) && !defined(__AARCH64EB__)
#define TEST_NEON 1
#endif

typedef void (*kernel_fn)(const unsigned char *const *in, size_t len, unsigned char *out);

typedef struct {
    const char *name;
    int lanes;
    kernel_fn fn;
    int (*supported)(void);
} kernel;

#ifdef TEST_X86
#include <cpuid.h>
/* cpuid and xgetbv directly rather than __builtin_cpu_supports, which
 * depends on a runtime-library constructor that not every toolchain links
 * (zig cc's static musl builds report no features at all).  xgetbv says
 * whether the OS saves the ymm (and zmm) state on context switches. */
static int cpu_bits(unsigned leaf, int reg, unsigned bit)
{
    unsigned r[4] = {0, 0, 0, 0};
    if (!__get_cpuid_count(leaf, 0, &r[0], &r[1], &r[2], &r[3]))
        return 0;
    return (r[reg] >> bit) & 1;
}
static int os_saves(unsigned mask)
{
    unsigned lo, hi;
    if (!cpu_bits(1, 2, 27)) /* OSXSAVE: xgetbv is usable */
        return 0;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    (void)hi;
    return (lo & mask) == mask;
}
static int has_sse2(void) { return 1; }
static int has_avx2(void) { return cpu_bits(7, 1, 5) && os_saves(0x6); }
static int has_avx512f(void) { return cpu_bits(7, 1, 16) && os_saves(0xe6); }
#endif
#ifdef TEST_NEON
static int has_neon(void) { return 1; }
#endif

static const kernel kernels[] = {
#ifdef TEST_X86
    {"x2_sse2", 2, lrs_blake2b_x2_sse2, has_sse2},
    {"x4_avx2", 4, lrs_blake2b_x4_avx2, has_avx2},
    {"x8_avx512", 8, lrs_blake2b_x8_avx512, has_avx512f},
#endif
#ifdef TEST_NEON
    {"x2_neon", 2, lrs_blake2b_x2_neon, has_neon},
#endif
};
#define NKERNELS ((int)(sizeof(kernels) / sizeof(kernels[0])))
#define MAXLANES 8

static void ref_digest(const unsigned char *in, size_t len, unsigned char out[32])
{
    blake2b_state S;
    if (blake2b_init_ref(&S, 32) || blake2b_update_ref(&S, in, len) ||
        blake2b_final_ref(&S, out, 32)) {
        fprintf(stderr, "reference BLAKE2b failed\n");
        exit(2);
    }
}

/* xorshift64*: reproducible content and lengths without libc's rand(). */
static uint64_t rng_state = UINT64_C(0x9e3779b97f4a7c15);
static uint64_t rng(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * UINT64_C(0x2545f4914f6cdd1d);
}

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) {
        fprintf(stderr, "out of memory\n");
        exit(2);
    }
    return p;
}

static long failures, cases;

/* One call of kernel k on messages of len bytes, each lane different.  Each
 * message ends exactly at the end of its own allocation (so a sanitizer
 * build catches any read past in[i] + len) and starts at an odd offset
 * (unaligned); out is unaligned too, with guard bytes either side. */
static void check(const kernel *k, size_t len, int null_ptrs)
{
    unsigned char *alloc[MAXLANES];
    const unsigned char *in[MAXLANES];
    unsigned char *outbuf = xmalloc(32 * MAXLANES + 3), *out = outbuf + 1;
    unsigned char want[32];
    int i;

    for (i = 0; i < k->lanes; i++) {
        size_t off = 1 + 2 * (size_t)i, j;
        alloc[i] = xmalloc(off + len);
        for (j = 0; j < len; j++)
            alloc[i][off + j] = (unsigned char)rng();
        in[i] = (null_ptrs && len == 0) ? NULL : alloc[i] + off;
    }
    memset(outbuf, 0xa5, 32 * MAXLANES + 3);
    k->fn(in, len, out);
    cases++;
    for (i = 0; i < k->lanes; i++) {
        ref_digest(alloc[i] + 1 + 2 * i, len, want);
        if (memcmp(out + 32 * i, want, 32) != 0) {
            if (failures++ < 20)
                fprintf(stderr, "FAIL %s len=%zu lane=%d%s\n", k->name, len, i,
                        null_ptrs ? " (NULL in[])" : "");
        }
    }
    if (outbuf[0] != 0xa5 || out[32 * k->lanes] != 0xa5) {
        if (failures++ < 20)
            fprintf(stderr, "FAIL %s len=%zu: wrote outside out[0:%d]\n", k->name, len,
                    32 * k->lanes);
    }
    for (i = 0; i < k->lanes; i++)
        free(alloc[i]);
    free(outbuf);
}

/* Same input for every lane but one: a kernel that mixed lanes up would
 * give the odd lane's digest to the others, or vice versa. */
static void check_lane_isolation(const kernel *k, size_t len)
{
    unsigned char *a = xmalloc(len + 1), *b = xmalloc(len + 1);
    unsigned char out[32 * MAXLANES], wa[32], wb[32];
    const unsigned char *in[MAXLANES];
    size_t j;
    int odd, i;

    for (j = 0; j <= len; j++)
        a[j] = b[j] = (unsigned char)rng();
    b[len / 2] ^= 1;
    ref_digest(a, len, wa);
    ref_digest(b, len, wb);
    for (odd = 0; odd < k->lanes; odd++) {
        for (i = 0; i < k->lanes; i++)
            in[i] = i == odd ? b : a;
        k->fn(in, len, out);
        cases++;
        for (i = 0; i < k->lanes; i++)
            if (memcmp(out + 32 * i, i == odd ? wb : wa, 32) != 0 && failures++ < 20)
                fprintf(stderr, "FAIL %s lane isolation len=%zu odd=%d lane=%d\n",
                        k->name, len, odd, i);
    }
    free(a);
    free(b);
}

static unsigned char kat_byte(size_t j, int lane)
{
    return (unsigned char)((j * 31 + (size_t)lane * 17 + (j >> 8)) & 0xff);
}

static int kat(void)
{
    static const size_t lens[] = {0, 1, 3, 64, 127, 128, 129, 255, 256, 257, 1000, 4096, 65539};
    int n, ki, i;
    for (ki = 0; ki < NKERNELS; ki++) {
        const kernel *k = &kernels[ki];
        if (!k->supported())
            continue;
        for (n = 0; n < (int)(sizeof(lens) / sizeof(lens[0])); n++) {
            size_t len = lens[n], j;
            unsigned char *buf[MAXLANES], out[32 * MAXLANES];
            const unsigned char *in[MAXLANES];
            for (i = 0; i < k->lanes; i++) {
                buf[i] = xmalloc(len);
                for (j = 0; j < len; j++)
                    buf[i][j] = kat_byte(j, i);
                in[i] = buf[i];
            }
            k->fn(in, len, out);
            for (i = 0; i < k->lanes; i++) {
                printf("%s %zu %d ", k->name, len, i);
                for (j = 0; j < 32; j++)
                    printf("%02x", out[32 * i + j]);
                printf("\n");
                free(buf[i]);
            }
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    int ki, ran = 0;
    size_t len;

    if (argc > 1 && strcmp(argv[1], "--kat") == 0)
        return kat();

    for (ki = 0; ki < NKERNELS; ki++) {
        const kernel *k = &kernels[ki];
        long before = failures, cases0 = cases;
        int r;
        if (!k->supported()) {
            printf("%-10s not run: this CPU lacks the instructions\n", k->name);
            continue;
        }
        ran++;
        /* Every length over the first blocks: empty, tails of every size,
         * exact multiples of 128 (no extra empty block). */
        for (len = 0; len <= 1100; len++)
            check(k, len, 0);
        check(k, 0, 1);
        for (r = 0; r < 300; r++)
            check(k, (size_t)(rng() % (64 * 1024 + 1)), 0);
        check(k, 64 * 1024, 0);
        check(k, (size_t)1 << 20, 0);
        check(k, ((size_t)1 << 20) - 1, 0);
        check(k, ((size_t)1 << 20) + 1, 0);
        for (len = 0; len <= 300; len += 37)
            check_lane_isolation(k, len);
        printf("%-10s %s (%ld calls x %d lanes)\n", k->name,
               failures == before ? "ok" : "FAILED", cases - cases0, k->lanes);
    }
    if (!ran) {
        fprintf(stderr, "no kernel could run on this target\n");
        return 1;
    }
    return failures ? 1 : 0;
}
