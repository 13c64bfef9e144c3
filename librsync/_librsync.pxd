# cython: language_level=3
"""C declarations of the vendored librsync 2.3.4 API, and nothing else.

Every prototype here is copied from ``vendor/librsync/src/librsync.h`` (never
written from memory: the old ctypes wrapper crashed by calling the 1.x
two-argument ``rs_sig_begin`` on librsync 2.x).  The job logic lives in
``_rsync.pyx``.  The ``FILE*`` helpers (``rs_sig_file``, ``rs_file_open``, ...)
are deliberately not declared: ``rs_file_open`` calls ``exit()`` on error, and
all I/O goes through Python objects instead.
"""

from libc.stdint cimport intmax_t, uint8_t


cdef extern from "librsync.h" nogil:
    const char rs_librsync_version[]

    ctypedef intmax_t rs_long_t

    ctypedef enum rs_magic_number:
        RS_DELTA_MAGIC
        RS_MD4_SIG_MAGIC
        RS_BLAKE2_SIG_MAGIC
        RS_RK_MD4_SIG_MAGIC
        RS_RK_BLAKE2_SIG_MAGIC

    ctypedef enum rs_loglevel:
        RS_LOG_EMERG
        RS_LOG_ALERT
        RS_LOG_CRIT
        RS_LOG_ERR
        RS_LOG_WARNING
        RS_LOG_NOTICE
        RS_LOG_INFO
        RS_LOG_DEBUG

    ctypedef void rs_trace_fn_t(rs_loglevel level, const char *msg)
    void rs_trace_set_level(rs_loglevel level)
    void rs_trace_to(rs_trace_fn_t *)
    int rs_supports_trace()

    ctypedef enum rs_result:
        RS_DONE
        RS_BLOCKED
        RS_RUNNING
        RS_TEST_SKIPPED
        RS_IO_ERROR
        RS_SYNTAX_ERROR
        RS_MEM_ERROR
        RS_INPUT_ENDED
        RS_BAD_MAGIC
        RS_UNIMPLEMENTED
        RS_CORRUPT
        RS_INTERNAL_ERROR
        RS_PARAM_ERROR

    const char *rs_strerror(rs_result r)

    ctypedef struct rs_stats_t:
        const char *op
        int lit_cmds
        rs_long_t lit_bytes
        rs_long_t lit_cmdbytes
        rs_long_t copy_cmds
        rs_long_t copy_bytes
        rs_long_t copy_cmdbytes
        rs_long_t sig_cmds
        rs_long_t sig_bytes
        int false_matches
        rs_long_t sig_blocks
        size_t block_len
        rs_long_t in_bytes
        rs_long_t out_bytes
        long start   # time_t; only read as a number
        long end

    const int RS_MD4_SUM_LENGTH
    const int RS_BLAKE2_SUM_LENGTH
    enum: RS_MAX_STRONG_SUM_LENGTH
    enum: RS_DEFAULT_BLOCK_LEN
    enum: RS_DEFAULT_MIN_STRONG_LEN

    ctypedef struct rs_signature_t:
        pass

    void rs_free_sumset(rs_signature_t *)

    ctypedef struct rs_buffers_t:
        char *next_in
        size_t avail_in
        int eof_in
        char *next_out
        size_t avail_out

    ctypedef struct rs_job_t:
        pass

    rs_result rs_job_iter(rs_job_t *job, rs_buffers_t *buffers)
    const rs_stats_t *rs_job_statistics(rs_job_t *job)
    rs_result rs_job_free(rs_job_t *)

    rs_result rs_sig_args(rs_long_t old_fsize, rs_magic_number *magic,
                          size_t *block_len, size_t *strong_len)
    rs_job_t *rs_sig_begin(size_t block_len, size_t strong_len,
                           rs_magic_number sig_magic)
    rs_job_t *rs_delta_begin(rs_signature_t *)
    rs_job_t *rs_loadsig_begin(rs_signature_t **)
    rs_result rs_build_hash_table(rs_signature_t *sums)

    ctypedef rs_result rs_copy_cb(void *opaque, rs_long_t pos, size_t *len,
                                  void **buf)
    rs_job_t *rs_patch_begin(rs_copy_cb *copy_cb, void *copy_arg)


# The signature's header fields are not exposed by librsync.h; sumset.h (an
# internal but vendored, hence fixed, header) defines the struct.  Only these
# read-only fields are used, to describe a loaded Signature and to refuse
# hostile block lengths before a delta allocates for them.
cdef extern from "sumset.h" nogil:
    struct rs_signature:
        int magic
        int block_len
        int strong_sum_len
        int count
