# XXH3-128 (vendor/xxhash): the whole-file checksum of librsync.sync.
# Included from _rsync.pyx.

cdef extern from "_xxh3.h" nogil:
    ctypedef struct XXH3_state_t:
        pass
    ctypedef struct XXH128_hash_t:
        unsigned long long low64
        unsigned long long high64
    ctypedef struct XXH128_canonical_t:
        unsigned char digest[16]
    XXH3_state_t *XXH3_createState()
    int XXH3_freeState(XXH3_state_t *state)
    int XXH3_128bits_reset(XXH3_state_t *state)
    int XXH3_128bits_update(XXH3_state_t *state, const void *data, size_t length)
    XXH128_hash_t XXH3_128bits_digest(const XXH3_state_t *state)
    void XXH128_canonicalFromHash(XXH128_canonical_t *dst, XXH128_hash_t hash)


cdef enum:
    # Below this many bytes an update is quicker than releasing the GIL.
    _XXH3_NOGIL_AT = 16384


cdef class XXH3_128:
    """XXH3-128 of the bytes fed to ``update`` in order; ``digest()`` gives
    its 16-byte canonical (big-endian) form, as ``xxh128sum`` prints it.

    A non-cryptographic checksum (rsync 3.2+ checks transfers with it): for
    catching transmission and implementation errors, not for authenticating
    data.  Updates of 16 KiB and more release the GIL.  One object must not
    be updated from two threads at once."""

    cdef XXH3_state_t *_state

    def __cinit__(self):
        self._state = XXH3_createState()
        if self._state == NULL:
            raise MemoryError("XXH3_createState")
        XXH3_128bits_reset(self._state)

    def __dealloc__(self):
        if self._state != NULL:
            XXH3_freeState(self._state)
            self._state = NULL

    def update(self, data):
        """Feed ``data`` (any bytes-like object)."""
        cdef const unsigned char[::1] view
        cdef Py_ssize_t n
        if isinstance(data, memoryview) and data.ndim == 1 and data.itemsize == 1 \
                and data.c_contiguous:
            view = data
        else:
            view = memoryview(data).cast("B")
        n = view.shape[0]
        if n == 0:
            return
        if n >= _XXH3_NOGIL_AT:
            with nogil:
                XXH3_128bits_update(self._state, &view[0], <size_t>n)
        else:
            XXH3_128bits_update(self._state, &view[0], <size_t>n)

    def digest(self):
        """The 16-byte digest of everything fed so far."""
        cdef XXH128_canonical_t out
        XXH128_canonicalFromHash(&out, XXH3_128bits_digest(self._state))
        return (<char *>out.digest)[:16]
