/* Patch COPY commands done by the kernel, file to file.
 *
 * Our glue, not upstream code.  Patching from a basis file to an output
 * file spends most of its time in two kernel copies per byte
 * (bench/RESULTS.md: the basis pread into user memory, then the write out
 * of it).  When both are files, Linux's copy_file_range(2) moves the bytes
 * from the basis's page cache to the output's in one copy (or shares the
 * blocks, on file systems that can).  librsync's patch job still parses the
 * delta and asks its copy callback for each COPY's bytes; the callback
 * (_rsync.pyx's _copy_cb) first writes out what the job has produced since
 * the driver last wrote, then has the kernel copy the COPY's bytes to the
 * output, and tells the driver that the output buffer up to there is
 * already written.
 *
 * Where the kernel cannot (another system, an output opened for append,
 * a pipe, the same file on both sides, an old kernel), the first attempt
 * says so and the caller goes back to pread for the rest of the job.
 */
#ifndef LIBRSYNC_PY_DIRECTCOPY_H
#define LIBRSYNC_PY_DIRECTCOPY_H

#include <errno.h>
#include <stddef.h>

#if defined(__linux__)
#  include <sys/syscall.h>
#  include <unistd.h>
#endif

/* The syscall, not glibc's wrapper: manylinux2014's glibc 2.17 has none,
 * while the kernels the wheels run on do. */
#if defined(__linux__) && defined(SYS_copy_file_range)
#  define LRS_HAVE_COPY_FILE_RANGE 1
#else
#  define LRS_HAVE_COPY_FILE_RANGE 0
#endif

enum {
    LRS_DC_UNSUPPORTED = 0,     /* nothing copied: use pread from now on */
    LRS_DC_COPIED = 1,          /* *len bytes copied (0 < *len <= asked) */
    LRS_DC_PAST_END = 2,        /* the basis ends at pos */
    LRS_DC_WRITE_FAILED = -1    /* writing the pending bytes failed: *err */
};

#if LRS_HAVE_COPY_FILE_RANGE
/* Write all of p[0..n) to fd.  0, or -1 with errno set. */
static int lrs_write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (w == 0) {
            errno = EIO;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}
#endif

/* Write pending[0..pending_len) to out_fd, then copy up to *len bytes of
 * in_fd from offset pos to out_fd at its current offset.  For builds with
 * LRS_HAVE_COPY_FILE_RANGE only (the driver never asks otherwise): the
 * pending bytes are written whatever the outcome but LRS_DC_WRITE_FAILED. */
static int lrs_direct_copy(int in_fd, long long pos, size_t *len, int out_fd,
                           const char *pending, size_t pending_len, int *err)
{
#if LRS_HAVE_COPY_FILE_RANGE
    long long off = pos;
    long n;
    if (lrs_write_all(out_fd, pending, pending_len) != 0) {
        *err = errno;
        return LRS_DC_WRITE_FAILED;
    }
    do {
        n = syscall(SYS_copy_file_range, in_fd, &off, out_fd, NULL, *len, 0u);
    } while (n < 0 && errno == EINTR);
    if (n > 0) {
        *len = (size_t)n;
        return LRS_DC_COPIED;
    }
    if (n == 0)
        return LRS_DC_PAST_END;
    /* ENOSYS, EXDEV, EINVAL (a pipe, overlapping ranges of one file),
     * EBADF (an output opened for append), EOPNOTSUPP, and real errors
     * alike: pread and write will do it, and report a real error as such. */
    return LRS_DC_UNSUPPORTED;
#else
    (void)in_fd;
    (void)pos;
    (void)len;
    (void)out_fd;
    (void)pending;
    (void)pending_len;
    (void)err;
    return LRS_DC_UNSUPPORTED;
#endif
}

#endif
