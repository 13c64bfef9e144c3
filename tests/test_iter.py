"""iter_signature / iter_delta, and iterables of chunks as inputs: the two
ends of a transfer over HTTP or a socket."""

from __future__ import annotations

import gc
import hashlib
import http.client
import http.server
import io
import random
import threading
import tracemalloc

import pytest

import librsync

from conftest import make_data, mutate

MIB = 1 << 20
OLD = make_data(700_000, seed=41)
NEW = mutate(OLD, 30, seed=42)
SIG = librsync.signature(OLD).read()
DELTA = librsync.delta(NEW, SIG).read()


def pieces(data: bytes, size: int):
    return (data[i:i + size] for i in range(0, len(data), size))


class CountingReader:
    """A binary reader over ``data`` that counts what it was asked for."""

    def __init__(self, data: bytes):
        self._f = io.BytesIO(data)
        self.calls = 0
        self.bytes_read = 0

    def readinto(self, buf):
        self.calls += 1
        n = self._f.readinto(buf)
        self.bytes_read += n
        return n


def check_chunks(chunks: list, bound: int) -> bytes:
    assert chunks, "no output at all"
    for c in chunks:
        assert type(c) is bytes
        assert 0 < len(c) <= bound, len(c)
    return b"".join(chunks)


# --- same bytes as the one-shot functions ------------------------------------------

@pytest.mark.parametrize("chunk_size", [1, 1000, 64 * 1024, 3 * MIB])
def test_iter_signature_is_signature_in_bounded_chunks(chunk_size):
    data = OLD if chunk_size > 1 else OLD[:20_000]
    out = check_chunks(list(librsync.iter_signature(data, chunk_size=chunk_size)), chunk_size)
    assert out == librsync.signature(data).read()


@pytest.mark.parametrize("chunk_size", [1, 1000, 64 * 1024, 3 * MIB])
def test_iter_delta_is_delta_in_bounded_chunks(chunk_size):
    new = NEW if chunk_size > 1 else NEW[:20_000]
    out = check_chunks(list(librsync.iter_delta(new, SIG, chunk_size=chunk_size)),
                       chunk_size)
    assert out == librsync.delta(new, SIG).read()


@pytest.mark.parametrize("options", [
    {}, {"block_size": 256}, {"strong_len": 8, "magic": librsync.RS_MD4_SIG_MAGIC},
    {"strong_len": -1, "magic": librsync.RS_BLAKE2_SIG_MAGIC},
    {"block_size": 1000, "magic": librsync.RS_RK_MD4_SIG_MAGIC}])
def test_iter_signature_options_match_signature(options):
    assert b"".join(librsync.iter_signature(OLD, **options)) == \
        librsync.signature(OLD, **options).read()


INPUT_KINDS = ["bytes", "bytearray", "memoryview", "path", "str-path", "file",
               "raw-file", "reader", "chunk-list", "chunk-generator"]
# Their size is unknown in advance, so the signature uses block length 2048
# (as rdiff does on a pipe).
UNSIZED = {"reader", "chunk-list", "chunk-generator"}


def as_kind(kind, data, tmp_path, name, closers):
    path = tmp_path / name
    path.write_bytes(data)
    if kind == "bytes":
        return data
    if kind == "bytearray":
        return bytearray(data)
    if kind == "memoryview":
        return memoryview(data)
    if kind == "path":
        return path
    if kind == "str-path":
        return str(path)
    if kind == "reader":
        return CountingReader(data)
    if kind == "chunk-list":
        return list(pieces(data, 10_007))
    if kind == "chunk-generator":
        return (bytearray(p) for p in pieces(data, 3333))
    f = open(path, "rb", buffering=0 if kind == "raw-file" else -1)
    closers.append(f)
    return f


@pytest.mark.parametrize("kind", INPUT_KINDS)
def test_every_input_kind(kind, tmp_path):
    closers: list = []
    try:
        expected_sig = librsync.signature(OLD, block_size=2048 if kind in UNSIZED else 0).read()
        got = b"".join(librsync.iter_signature(as_kind(kind, OLD, tmp_path, "old", closers)))
        assert got == expected_sig
        got = b"".join(librsync.iter_delta(as_kind(kind, NEW, tmp_path, "new", closers),
                                           as_kind(kind, SIG, tmp_path, "sig", closers)))
        assert got == DELTA
        # And every one-shot function reads the same kinds, iterables included.
        assert librsync.patch(OLD, as_kind(kind, DELTA, tmp_path, "d", closers)).read() == NEW
        assert librsync.delta(as_kind(kind, NEW, tmp_path, "n2", closers),
                              as_kind(kind, SIG, tmp_path, "s2", closers)).read() == DELTA
        sig = librsync.load_signature(as_kind(kind, SIG, tmp_path, "s3", closers))
        assert (sig.block_len, len(sig)) == (librsync.load_signature(SIG).block_len,
                                             len(librsync.load_signature(SIG)))
    finally:
        for f in closers:
            f.close()


def test_the_whole_exchange_chains_iterators():
    # Each side's output is the other's input, chunk by chunk.
    delta_chunks = librsync.iter_delta(NEW, librsync.iter_signature(OLD, chunk_size=5000),
                                       chunk_size=7000)
    assert librsync.patch(OLD, delta_chunks).read() == NEW


def test_rdiff_reads_what_the_iterators_write(tmp_path, run_rdiff):
    old, new = tmp_path / "old", tmp_path / "new"
    old.write_bytes(OLD)
    new.write_bytes(NEW)
    ref = tmp_path / "ref.sig"
    run_rdiff("-f", "signature", str(old), str(ref))
    assert b"".join(librsync.iter_signature(old, chunk_size=4096)) == ref.read_bytes()
    d = tmp_path / "ours.delta"
    d.write_bytes(b"".join(librsync.iter_delta(new, ref, chunk_size=4096)))
    out = tmp_path / "out"
    run_rdiff("-f", "patch", str(old), str(d), str(out))
    assert out.read_bytes() == NEW
    # and rdiff's delta, as a list of chunks, patches here
    rd = tmp_path / "rdiff.delta"
    run_rdiff("-f", "delta", str(ref), str(new), str(rd))
    assert librsync.patch(old, list(pieces(rd.read_bytes(), 999))).read() == NEW


# --- iterables of chunks as inputs ---------------------------------------------------

def test_chunks_of_any_size_and_type_including_empty_ones():
    parts = [b"", DELTA[:1], bytearray(DELTA[1:5000]), b"", memoryview(DELTA[5000:7000]),
             DELTA[7000:]]
    assert librsync.patch(OLD, parts).read() == NEW
    assert librsync.patch(OLD, iter(parts)).read() == NEW
    assert librsync.patch(OLD, tuple(parts)).read() == NEW


def test_a_producer_may_reuse_one_buffer_for_every_chunk():
    def refilled():
        buf = bytearray(1000)
        for p in pieces(DELTA, 1000):
            buf[:] = p  # resizes for the last piece: no view of it may remain
            yield buf

    assert librsync.patch(OLD, refilled()).read() == NEW


@pytest.mark.parametrize("bad", [["text"], [1, 2, 3], [b"ok", None], {"a": b"b"},
                                 (x for x in [b"x", 1.5])])
def test_chunks_that_are_not_bytes_like_are_typeerror(bad):
    with pytest.raises(TypeError, match="not a bytes-like chunk"):
        librsync.patch(OLD, bad)


def test_bytes_and_str_are_never_iterables_of_chunks(tmp_path):
    # bytes iterate as ints and str as characters: they stay data and a path.
    assert librsync.signature(bytes(OLD)).read() == SIG
    with pytest.raises(FileNotFoundError):
        librsync.signature(str(tmp_path / "no such file"))


def test_an_exception_from_the_iterable_propagates_unchanged():
    class Broken(Exception):
        pass

    def chunks():
        yield DELTA[:100]
        raise Broken("connection lost")

    with pytest.raises(Broken, match="connection lost"):
        librsync.patch(OLD, chunks())
    with pytest.raises(Broken):
        list(librsync.iter_delta(chunks(), SIG))


def test_chunk_errors_are_librsync_errors():
    with pytest.raises(librsync.InputEndedError):
        librsync.patch(OLD, pieces(DELTA[:-1], 1000))
    with pytest.raises(librsync.BadMagicError, match="expected a delta but got a signature"):
        librsync.patch(OLD, pieces(SIG, 1000))
    with pytest.raises(librsync.BadMagicError, match="expected a signature but got a delta"):
        librsync.load_signature(pieces(DELTA, 1000))


def test_async_sources_get_a_hint_to_use_aio():
    import asyncio

    async def chunks():
        yield b""

    gen = chunks()
    with pytest.raises(TypeError, match="librsync.aio"):
        librsync.patch(OLD, gen)
    with pytest.raises(TypeError, match="librsync.aio"):
        librsync.iter_signature(gen)

    async def with_stream():
        with pytest.raises(TypeError, match="librsync.aio"):
            librsync.signature(asyncio.StreamReader())

    asyncio.run(with_stream())


# --- laziness, bounds, memory --------------------------------------------------------

class GeneratedReader:
    """``size`` bytes made as they are read, so a 64 MiB input needs no 64 MiB
    of memory: even MiBs repeat BASE (COPY commands against its signature),
    odd MiBs are fresh random data (literals, output as large as input)."""

    BASE = make_data(MIB, seed=43)

    def __init__(self, size: int):
        self.size = size
        self.pos = 0
        self.calls = 0
        self._block, self._data = -1, b""

    def _mib(self, block: int) -> bytes:
        if block % 2 == 0:
            return self.BASE
        if block != self._block:
            self._block, self._data = block, random.Random(block).randbytes(MIB)
        return self._data

    def readinto(self, buf) -> int:
        self.calls += 1
        n = min(len(buf), self.size - self.pos)
        done = 0
        while done < n:
            block, offset = divmod(self.pos, MIB)
            k = min(n - done, MIB - offset)
            buf[done:done + k] = self._mib(block)[offset:offset + k]
            done += k
            self.pos += k
        return n


def test_64mib_stream_is_lazy_bounded_and_identical_to_delta():
    size, chunk = 64 * MIB + 12345, 64 * 1024
    sig = librsync.load_signature(librsync.signature(GeneratedReader.BASE))
    reader = GeneratedReader(size)
    gen = librsync.iter_delta(reader, sig, chunk_size=chunk)
    assert reader.calls == 0  # nothing read before the first next()
    first = next(gen)
    # The first chunk needs one delta window (2 * (block_len + 64 KiB)),
    # not the input: a few reads of chunk_size.
    assert reader.pos <= 4 * chunk and reader.calls <= 4, (reader.pos, reader.calls)

    digest, count, largest = hashlib.sha256(first), 1, len(first)
    tracemalloc.start()
    try:
        for c in gen:
            assert type(c) is bytes and 0 < len(c) <= chunk
            digest.update(c)
            count += 1
            largest = max(largest, len(c))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert reader.pos == size
    assert largest == chunk and count > size // 2 // chunk  # half the input is literal
    # One step's buffers, not the input (tracemalloc sees the Python-side
    # buffers; librsync's own are fixed-size).
    assert peak < 8 * MIB, peak

    expected = hashlib.sha256()
    spool = librsync.delta(GeneratedReader(size), sig)
    while block := spool.read(MIB):
        expected.update(block)
    assert digest.hexdigest() == expected.hexdigest()


def test_iter_signature_reads_as_it_is_consumed():
    reader = CountingReader(OLD)
    gen = librsync.iter_signature(reader, block_size=1024, chunk_size=2000)
    first = next(gen)
    assert reader.bytes_read <= 2000
    assert len(first) <= 2000
    rest = b"".join(gen)
    assert first + rest == librsync.signature(OLD, block_size=1024).read()


def _generator_state(gen):
    """The job and the opened input of a started iterator (white box: the
    public promise is that closing frees them, which needs looking in)."""
    inner = gen.gi_yieldfrom  # _chunks(job, source, size)
    return inner.gi_frame.f_locals["job"], inner.gi_frame.f_locals["source"]


@pytest.mark.parametrize("make", [
    lambda p: librsync.iter_signature(p, chunk_size=1000),
    lambda p: librsync.iter_delta(p, SIG, chunk_size=1000),
])
def test_closing_early_releases_the_job_and_the_file(make, tmp_path):
    p = tmp_path / "input"
    p.write_bytes(NEW)
    gen = make(p)
    for _ in range(3):
        next(gen)
    job, source = _generator_state(gen)
    assert not source.closed
    gen.close()
    assert source.closed
    with pytest.raises(ValueError, match="closed"):
        job.update(b"x")
    # And when the consumer just drops it (a `for` loop left with break).
    gen = make(p)
    for _ in gen:
        break
    job, source = _generator_state(gen)
    del gen
    gc.collect()
    assert source.closed
    with pytest.raises(ValueError, match="closed"):
        job.update(b"x")


def test_a_generator_never_started_opens_nothing(tmp_path):
    p = tmp_path / "input"
    p.write_bytes(NEW)
    gen = librsync.iter_delta(p, SIG)
    p.unlink()  # not opened yet, so its absence shows at the first next()
    with pytest.raises(FileNotFoundError):
        next(gen)


# --- argument errors: at call time, like the one-shot functions ------------------------

@pytest.mark.parametrize("chunk_size,exc", [(0, ValueError), (-5, ValueError),
                                            (1.5, TypeError), ("64", TypeError),
                                            (True, TypeError), (None, TypeError)])
def test_bad_chunk_size(chunk_size, exc):
    with pytest.raises(exc, match="chunk_size"):
        librsync.iter_signature(OLD, chunk_size=chunk_size)
    with pytest.raises(exc, match="chunk_size"):
        librsync.iter_delta(NEW, SIG, chunk_size=chunk_size)


@pytest.mark.parametrize("bad", [123, None, 4.5, object()])
def test_bad_input_kind_is_typeerror_at_call_time(bad):
    with pytest.raises(TypeError):
        librsync.iter_signature(bad)
    with pytest.raises(TypeError):
        librsync.iter_delta(bad, SIG)
    with pytest.raises(TypeError):
        librsync.iter_delta(NEW, bad)


def test_bad_signature_options_and_signatures_fail_at_call_time():
    with pytest.raises(ValueError):
        librsync.iter_signature(OLD, block_size=-1)
    with pytest.raises(ValueError):
        librsync.iter_signature(OLD, magic=librsync.RS_DELTA_MAGIC)
    with pytest.raises(librsync.BadMagicError, match="expected a signature but got a delta"):
        librsync.iter_delta(NEW, DELTA)
    with pytest.raises(librsync.InputEndedError):
        librsync.iter_delta(NEW, SIG[:-3])
    with pytest.raises(ValueError, match="not loaded"):
        librsync.iter_delta(NEW, librsync.Signature.__new__(librsync.Signature))


def test_text_mode_input_is_typeerror(tmp_path):
    p = tmp_path / "t"
    p.write_text("text")
    with open(p) as f:
        with pytest.raises(TypeError, match="binary mode"):
            librsync.iter_signature(f)
        with pytest.raises(TypeError, match="binary mode"):
            librsync.patch(OLD, f)


# --- over real HTTP (loopback) ---------------------------------------------------------

class _DeltaServer(http.server.BaseHTTPRequestHandler):
    """POST a signature (chunked), get the delta of NEW back (chunked)."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def _chunked_body(self):
        while True:
            size = int(self.rfile.readline().split(b";")[0], 16)
            if size == 0:
                self.rfile.readline()
                return
            yield self.rfile.read(size)
            self.rfile.readline()

    def do_POST(self):
        assert self.headers["Transfer-Encoding"] == "chunked"
        sig = librsync.load_signature(self._chunked_body())
        self.send_response(200)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for chunk in librsync.iter_delta(NEW, sig, chunk_size=16 * 1024):
            self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        self.wfile.write(b"0\r\n\r\n")


def test_signature_up_and_delta_down_as_chunked_http_bodies():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _DeltaServer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        conn = http.client.HTTPConnection(*server.server_address, timeout=60)
        # A generator body: http.client sends each chunk as an HTTP chunk, so
        # an empty one would end the body early; the iterators never yield one.
        conn.request("POST", "/sync", body=librsync.iter_signature(OLD, chunk_size=8192),
                     encode_chunked=True)
        resp = conn.getresponse()
        assert resp.status == 200
        body = iter(lambda: resp.read1(65536), b"")
        assert librsync.patch(OLD, body).read() == NEW
        conn.close()
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)
