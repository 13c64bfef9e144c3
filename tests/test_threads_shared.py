"""What threads share, checked the way free-threaded CPython would stress it.

The extension declares itself free-threading compatible (no GIL needed).
That claim rests on the audit in _rsync.pyx's header: a loaded Signature is
read-only, the BLAKE2b build is chosen at import, error details are kept per
thread, and a job's busy flag is tested and set in a critical section.  This
machine has no free-threaded build, so these tests run with the GIL, which
the driver releases for all C work: the C code runs truly in parallel here,
as it would without a GIL.  The tests are deterministic: where two threads
must meet inside one call, an Event holds one of them there.
"""

from __future__ import annotations

import concurrent.futures
import pickle
import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest

import librsync

from conftest import make_data, mutate

N_THREADS = 8
OLD = make_data(1 << 20, seed=11)
SRC = Path(__file__).resolve().parent.parent / "librsync"


def _in_threads(work, n: int = N_THREADS) -> list:
    """Run work(i) in n threads released together; return results by index."""
    barrier = threading.Barrier(n)

    def start(i: int):
        barrier.wait()
        return work(i)

    with concurrent.futures.ThreadPoolExecutor(n) as pool:
        return list(pool.map(start, range(n)))


@pytest.mark.parametrize("magic", [librsync.RS_RK_BLAKE2_SIG_MAGIC, librsync.RS_MD4_SIG_MAGIC])
def test_eight_threads_over_one_shared_signature_agree_with_one(magic):
    raw = librsync.signature(OLD, magic=magic, block_size=1024).read()
    sig = librsync.load_signature(raw)
    news = [mutate(OLD, edits=20, seed=100 + i) for i in range(N_THREADS)]
    # The expected results come from a signature no thread touches.
    alone = librsync.load_signature(raw)
    expected = [librsync.delta(n, alone).read() for n in news]

    def work(i: int):
        out = []
        for round_ in range(4):
            # Every thread uses the shared object in every way it can be used:
            # one-shot, streamed in uneven pieces, and serialised.
            d = librsync.delta(news[i], sig).read()
            job = librsync.DeltaJob(sig)
            step = 4096 + 977 * i + round_
            streamed = b"".join(job.update(news[i][k:k + step])
                                for k in range(0, len(news[i]), step)) + job.finish()
            out.append((d, streamed, sig.to_bytes(), hash(sig),
                        pickle.loads(pickle.dumps(sig)) == sig,
                        librsync.patch(OLD, d).read() == news[i]))
        return out

    for i, rounds in enumerate(_in_threads(work)):
        for d, streamed, again, h, equal, patched in rounds:
            assert d == streamed == expected[i]
            assert again == raw and h == hash(alone) and equal and patched
    assert sig == alone  # nothing written into the shared signature


def test_eight_threads_computing_signatures_agree_with_one():
    # The BLAKE2b build was chosen once at import; every thread uses it.
    datas = [make_data(300_000 + i, seed=i) for i in range(N_THREADS)]
    expected = [librsync.signature(d).read() for d in datas]
    got = _in_threads(lambda i: [librsync.signature(datas[i]).read() for _ in range(3)])
    for i, sigs in enumerate(got):
        assert sigs == [expected[i]] * 3


def test_each_thread_gets_its_own_error_detail():
    # librsync reports the failing byte through its log hook; the detail is
    # collected per thread, so eight failures at once keep their own text.
    def work(i: int):
        bad = b"rs\x026" + bytes([0x80 + i])  # 0x80.. : commands that do not exist
        try:
            librsync.patch(OLD, bad)
        except librsync.LibrsyncError as e:
            return type(e), str(e)
        return None, ""

    for i, (kind, text) in enumerate(_in_threads(work)):
        assert kind is librsync.CorruptDataError
        assert re.search(rf"0x{0x80 + i:x}\b", text), text


def _hold_inside(job, method: str):
    """Start ``job.<method>`` in a thread that stops inside the call (in its
    output callback) until released; returns (release, thread, failures)."""
    inside, release = threading.Event(), threading.Event()
    failures: list[BaseException] = []

    def write(data) -> None:
        inside.set()
        release.wait(30)

    def run() -> None:
        try:
            if method == "run":
                job.run(OLD, write)
            else:
                write(job.finish(OLD))
        except BaseException as e:  # checked by the caller
            failures.append(e)

    t = threading.Thread(target=run)
    t.start()
    assert inside.wait(30), "the first call never produced output"
    return release, t, failures


def _jobs():
    sig = librsync.load_signature(librsync.signature(OLD).read())
    return {
        "SignatureJob": librsync.SignatureJob(),
        "SignatureJob(threads=2)": librsync.SignatureJob(threads=2),
        "DeltaJob": librsync.DeltaJob(sig),
    }


@pytest.mark.parametrize("name", list(_jobs()))
def test_a_job_used_from_a_second_thread_is_refused_not_corrupted(name):
    job = _jobs()[name]
    release, t, failures = _hold_inside(job, "run")
    try:
        for call in (lambda: job.update(b"more"), lambda: job.finish(), job.close,
                     lambda: job.run(b"x", lambda d: None)):
            with pytest.raises(RuntimeError, match="another thread"):
                call()
    finally:
        release.set()
        t.join(30)
    assert not failures, failures
    # The refused calls changed nothing: the first one completed normally.
    assert job.finished
    with pytest.raises(ValueError, match="finished"):
        job.update(b"x")


def test_eight_threads_racing_for_one_job_exactly_one_wins():
    # Each thread tries to enter the same job while the winner is held
    # inside it; the others must all be refused, never let in alongside.
    sig = librsync.load_signature(librsync.signature(OLD).read())
    job = librsync.DeltaJob(sig)
    inside, release = threading.Event(), threading.Event()
    barrier = threading.Barrier(N_THREADS)

    def write(data) -> None:
        inside.set()
        release.wait(30)

    def work(i: int) -> str:
        barrier.wait()
        try:
            job.run(mutate(OLD, 3, seed=i), write)
            return "ran"
        except RuntimeError:
            return "refused"
        except ValueError:  # arrived after the winner had finished
            return "late"

    with concurrent.futures.ThreadPoolExecutor(N_THREADS) as pool:
        futures = [pool.submit(work, i) for i in range(N_THREADS)]
        assert inside.wait(30)
        # Everyone but the winner has been turned away (or will find the job
        # finished): none can be inside while the winner is.
        pending = set(futures)
        while len(pending) > 1:
            done, pending = concurrent.futures.wait(
                pending, timeout=30, return_when=concurrent.futures.FIRST_COMPLETED)
            assert done, "a thread neither entered the job nor was refused"
            assert all(f.result() != "ran" for f in done)
        release.set()
        outcomes = [f.result(30) for f in futures]
    assert outcomes.count("ran") == 1
    assert set(outcomes) <= {"ran", "refused", "late"}


@pytest.mark.skipif(not (SRC / "_rsync.pyx").exists(), reason="needs the checkout's .pyx")
def test_the_module_declares_it_does_not_need_the_gil(tmp_path):
    # The declaration is Cython's directive, which sets the module's
    # Py_mod_gil slot.  Compile the driver and read what the slot gets when
    # the C compiler is given no override: the last of the generated
    # definitions (Py_MOD_GIL_USED there without the directive).
    out = tmp_path / "_rsync.c"
    subprocess.run([sys.executable, "-m", "cython", "-3", "-I", str(SRC.parent),
                    str(SRC / "_rsync.pyx"), "-o", str(out)],
                   check=True, capture_output=True, cwd=SRC.parent)
    c = out.read_text(encoding="utf-8")
    assert "{Py_mod_gil, __Pyx_FREETHREADING_COMPATIBLE}" in c
    values = re.findall(r"#define __Pyx_FREETHREADING_COMPATIBLE (\w+)", c)
    assert values and values[-1] == "Py_MOD_GIL_NOT_USED", values
    # And no build flag turns it back to "uses the GIL".
    setup = (SRC.parent / "setup.py").read_text(encoding="utf-8")
    assert "CYTHON_FREETHREADING_COMPATIBLE" not in setup
