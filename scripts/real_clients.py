"""The checks of scripts/check_real_clients.sh, run by the Python of the
throwaway environment where rdiff-backup and duplicity are installed.

    python real_clients.py side-by-side      their C modules beside librsync.compat
    python real_clients.py hooked            both tools resolve _librsync to ours
    python real_clients.py rdiff-backup DIR  back up, change, back up, restore both
    python real_clients.py duplicity DIR     full, change, incremental, restore both

Each prints what it compared and exits non-zero on the first difference.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BLOCK = 65536


def fail(message: str) -> None:
    print(f"real_clients: FAIL: {message}", file=sys.stderr)
    sys.exit(1)


def drive(maker, data: bytes) -> bytes:
    """``maker``'s whole output for ``data``, cycled as the tools' LikeFile
    does (a window of at least 64 KiB, the unconsumed rest passed again,
    ``b""`` at the end), checking the 64 KiB bound of each call."""
    out, inbuf, pos, done = [], b"", 0, 0
    while not done:
        if len(inbuf) < BLOCK and pos < len(data):
            inbuf += data[pos:pos + BLOCK]
            pos += BLOCK
        done, used, chunk = maker.cycle(inbuf)
        if len(chunk) > BLOCK:
            fail(f"{maker!r} returned {len(chunk)} bytes from one cycle")
        inbuf = inbuf[used:]
        out.append(chunk)
    return b"".join(out)


def patch_with(module, old: bytes, delta: bytes) -> bytes:
    with tempfile.TemporaryFile() as f:
        f.write(old)
        f.flush()
        return drive(module.new_patchmaker(f), delta)


def edited(old: bytes, rnd: random.Random) -> bytes:
    new = bytearray(old)
    for _ in range(5):
        pos = rnd.randrange(len(new) + 1)
        new[pos:pos + rnd.randrange(0, 3000)] = rnd.randbytes(rnd.randrange(0, 3000))
    return bytes(new)


def side_by_side() -> None:
    """The tools' own C modules (built from their sdists against the system
    librsync) and librsync.compat on the same inputs, at the block sizes the
    tools would choose for each input."""
    import librsync.compat as ours
    from duplicity import _librsync as dup_c, diffdir
    from rdiff_backup import Rdiff, _librsync as rb_c

    for module in (rb_c, dup_c):
        if not module.__file__.endswith(".so"):
            fail(f"{module.__name__} is not their compiled module: {module.__file__}")
    print(f"theirs: {rb_c.__file__}\n        {dup_c.__file__} ({dup_c.get_version()})")
    print(f"ours:   {ours.__file__} ({ours.get_version()})")
    for name in ("RS_DEFAULT_BLOCK_LEN",):
        if getattr(rb_c, name) != getattr(ours, name) or getattr(dup_c, name) != getattr(ours, name):
            fail(f"{name} differs")
    if rb_c.RSM_JOB_BLOCKSIZE != ours.RSM_JOB_BLOCKSIZE or dup_c.RS_JOB_BLOCKSIZE != ours.RS_JOB_BLOCKSIZE:
        fail("the job block size differs")

    rnd = random.Random(23)
    sizes = [0, 1, 511, 512, 513, 2047, 2048, 2049, 65535, 65536, 65537,
             300_001, (1 << 20) + 7, 4 << 20]
    checked = identical_deltas = 0
    for size in sizes:
        old = rnd.randbytes(size)
        new = edited(old, rnd) if size else b"something new"
        for tool, theirs, block in (
                ("rdiff-backup", rb_c, Rdiff._find_blocksize(size)),
                ("duplicity", dup_c, diffdir.get_block_size(size)),
                ("default", rb_c, ours.RS_DEFAULT_BLOCK_LEN)):
            sig_theirs = drive(theirs.new_sigmaker(block), old)
            sig_ours = drive(ours.new_sigmaker(block), old)
            if sig_theirs != sig_ours:
                fail(f"signatures differ: {tool} rules, size {size}, block {block}")
            delta_theirs = drive(theirs.new_deltamaker(sig_theirs), new)
            delta_ours = drive(ours.new_deltamaker(sig_ours), new)
            identical_deltas += delta_theirs == delta_ours
            if patch_with(ours, old, delta_theirs) != new:
                fail(f"our patch of their delta is wrong: {tool}, size {size}, block {block}")
            if patch_with(theirs, old, delta_ours) != new:
                fail(f"their patch of our delta is wrong: {tool}, size {size}, block {block}")
            checked += 1
    print(f"side by side: {checked} (size, block size) cases, sizes 0 to {max(sizes)} bytes, "
          f"block sizes by rdiff-backup's, duplicity's and the default rule: signatures "
          f"identical; each delta patched by the other module gives the new file; "
          f"{identical_deltas}/{checked} deltas byte-identical too")

    # Broken input: each module should raise its own librsyncError (or the
    # TypeError of a basis without a descriptor).  Each case runs in a child
    # process, so that a module that crashes is reported as such.
    for case in ERROR_CASES:
        outcome = {}
        for which in ("rdiff-backup", "duplicity", "ours"):
            proc = subprocess.run([sys.executable, __file__, "error-case", case, which],
                                  capture_output=True, text=True, timeout=60)
            outcome[which] = (proc.stdout.strip() if proc.returncode == 0
                              else f"crashed (exit status {proc.returncode})")
        print(f"  {case}: " + ", ".join(f"{k}: {v}" for k, v in outcome.items()))
        if outcome["ours"] not in ("librsyncError", "TypeError"):
            fail(f"{case}: librsync.compat gave {outcome['ours']}")
        if outcome["rdiff-backup"] != outcome["ours"]:
            fail(f"{case}: rdiff-backup's module and ours differ")


ERROR_CASES = ("truncated delta", "corrupt delta", "signature as delta",
               "delta as signature", "truncated signature", "basis not a file")


def error_case(case: str, which: str) -> None:
    """Print how module ``which`` fails on broken input ``case``."""
    import librsync.compat as ours

    if which == "rdiff-backup":
        from rdiff_backup import _librsync as module
    elif which == "duplicity":
        from duplicity import _librsync as module
    else:
        module = ours
    rnd = random.Random(5)
    old = rnd.randbytes(200_000)
    sig = drive(ours.new_sigmaker(2048), old)
    delta = drive(ours.new_deltamaker(sig), edited(old, rnd))
    cases = {
        "truncated delta": lambda: patch_with(module, old, delta[:-1]),
        "corrupt delta": lambda: patch_with(module, old, delta[:4] + b"\x99" + delta[5:]),
        "signature as delta": lambda: patch_with(module, old, sig),
        "delta as signature": lambda: module.new_deltamaker(delta),
        "truncated signature": lambda: module.new_deltamaker(sig[:10]),
        "basis not a file": lambda: module.new_patchmaker(object()),
    }
    try:
        cases[case]()
        print("no error")
    except module.librsyncError:
        print("librsyncError")
    except TypeError:
        print("TypeError")


def hooked() -> None:
    """What the .pth installed: both tools' wrappers on librsync.compat."""
    import librsync.compat as ours
    import duplicity.librsync
    import rdiff_backup.librsync

    for wrapper in (rdiff_backup.librsync, duplicity.librsync):
        module = wrapper._librsync
        if module.new_patchmaker is not ours.new_patchmaker:
            fail(f"{wrapper.__name__} uses {module!r}, not librsync.compat")
        print(f"{wrapper.__name__}._librsync -> librsync.compat ({module.__name__})")


# --- trees --------------------------------------------------------------------

def write_tree(root: Path, seed: int) -> None:
    rnd = random.Random(seed)
    (root / "sub" / "deeper").mkdir(parents=True)
    (root / "empty.txt").write_bytes(b"")
    (root / "one").write_bytes(b"x")
    (root / "small.txt").write_bytes(b"hello\n" * 100)
    (root / "sub" / "block.bin").write_bytes(rnd.randbytes(70_000))
    (root / "sub" / "big.bin").write_bytes(rnd.randbytes(3 << 20))
    (root / "sub" / "deeper" / "medium.bin").write_bytes(rnd.randbytes(1 << 20))
    (root / "sub" / "deeper" / "gone.bin").write_bytes(rnd.randbytes(10_000))


def change_tree(root: Path, seed: int) -> None:
    """Edits that make deltas: bytes replaced and inserted inside big files,
    an append, a truncation, a file removed, one added."""
    rnd = random.Random(seed)
    big = bytearray((root / "sub" / "big.bin").read_bytes())
    big[1_000_000:1_004_000] = rnd.randbytes(4000)
    big[2_000_000:2_000_000] = b"inserted" * 500
    (root / "sub" / "big.bin").write_bytes(bytes(big))
    with open(root / "sub" / "deeper" / "medium.bin", "ab") as f:
        f.write(rnd.randbytes(5000))
    block = (root / "sub" / "block.bin").read_bytes()
    (root / "sub" / "block.bin").write_bytes(block[:40_000])
    (root / "small.txt").write_bytes(b"hello\n" * 99 + b"changed\n")
    (root / "sub" / "deeper" / "gone.bin").unlink()
    (root / "new.bin").write_bytes(rnd.randbytes(20_000))


def snapshot(root: Path) -> dict[str, bytes | None]:
    """Relative path -> contents (None for a directory)."""
    out: dict[str, bytes | None] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        rel = os.path.relpath(dirpath, root)
        for d in dirnames:
            out[os.path.normpath(os.path.join(rel, d))] = None
        for f in filenames:
            out[os.path.normpath(os.path.join(rel, f))] = Path(dirpath, f).read_bytes()
    return out


def compare(expected: dict[str, bytes | None], restored: Path, what: str) -> None:
    got = snapshot(restored)
    got = {k: v for k, v in got.items() if not k.startswith("rdiff-backup-data")}
    if got.keys() != expected.keys():
        fail(f"{what}: entries differ: {sorted(got.keys() ^ expected.keys())}")
    for name, data in expected.items():
        if got[name] != data:
            fail(f"{what}: {name} differs")
    files = [d for d in expected.values() if d is not None]
    print(f"  {what}: {len(files)} files ({sum(map(len, files))} bytes) and "
          f"{len(expected) - len(files)} directories identical, byte for byte")


def run(*cmd: str, **kwargs) -> subprocess.CompletedProcess:
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, **kwargs)
    if proc.returncode:
        fail(f"{' '.join(cmd)} exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}")
    return proc


def tool(name: str) -> str:
    return os.path.join(os.path.dirname(sys.executable), name)


def rdiff_backup_run(work: Path) -> None:
    src, repo = work / "src", work / "repo"
    write_tree(src, 1)
    v1 = snapshot(src)
    run(tool("rdiff-backup"), "backup", str(src), str(repo))
    time.sleep(1.1)  # rdiff-backup's increments are named by the second
    change_tree(src, 2)
    v2 = snapshot(src)
    run(tool("rdiff-backup"), "backup", str(src), str(repo))
    diffs = sorted(p.name for p in (repo / "rdiff-backup-data" / "increments").rglob("*.diff.gz"))
    if not diffs:
        fail("the increment holds no reverse delta (.diff.gz)")
    print(f"rdiff-backup: two backups; the increment holds {len(diffs)} reverse deltas "
          f"({', '.join(diffs)})")
    run(tool("rdiff-backup"), "restore", "--at", "now", str(repo), str(work / "now"))
    compare(v2, work / "now", "restore --at now (the current version)")
    run(tool("rdiff-backup"), "restore", "--at", "1B", str(repo), str(work / "before"))
    compare(v1, work / "before", "restore --at 1B (the previous version, through the deltas)")


def duplicity_run(work: Path) -> None:
    src, target = work / "src", f"file://{work / 'target'}"
    env = dict(os.environ, HOME=str(work))
    common = ["--no-encryption", "--archive-dir", str(work / "cache"), "--name", "check"]
    write_tree(src, 3)
    v1 = snapshot(src)
    run(tool("duplicity"), "full", *common, str(src), target, env=env)
    full_time = int(time.time())
    time.sleep(1.1)
    change_tree(src, 4)
    v2 = snapshot(src)
    proc = run(tool("duplicity"), "incremental", *common, str(src), target, env=env)
    stats = dict(line.split(None, 1) for line in proc.stdout.splitlines()
                 if line[:1].isupper() and " " in line)
    changed = int(stats.get("ChangedFiles", "0").split()[0])
    delta_size = int(stats.get("RawDeltaSize", "0").split()[0])
    if not changed or not 0 < delta_size < 500_000:
        fail(f"the incremental did not send deltas: {proc.stdout}")
    print(f"duplicity: full and incremental backups; the incremental sent {changed} changed "
          f"files as {delta_size} bytes of delta (the changed files hold 4+ MiB)")
    run(tool("duplicity"), "restore", *common, target, str(work / "now"), env=env)
    compare(v2, work / "now", "restore (the current version, through the deltas)")
    run(tool("duplicity"), "restore", *common, "-t", str(full_time), target,
        str(work / "before"), env=env)
    compare(v1, work / "before", "restore -t <full> (the previous version)")


def main() -> None:
    if len(sys.argv) < 2:
        fail(__doc__)
    command, args = sys.argv[1], sys.argv[2:]
    if command == "side-by-side":
        side_by_side()
    elif command == "error-case":
        error_case(*args)
    elif command == "hooked":
        hooked()
    elif command == "rdiff-backup":
        rdiff_backup_run(Path(args[0]))
    elif command == "duplicity":
        duplicity_run(Path(args[0]))
    else:
        fail(f"unknown command {command!r}")


if __name__ == "__main__":
    main()
