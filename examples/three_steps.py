"""The three steps of an rsync-style update, end to end.

Makes an "old" and a "new" version of a file in a temporary folder, then:
1. signature of the old file, 2. delta of the new file against it,
3. patch of the old file with the delta -- and checks the result.
"""

import os
import random
import tempfile

import librsync


def main() -> None:
    rnd = random.Random(2026)
    with tempfile.TemporaryDirectory() as folder:
        old_path = os.path.join(folder, "report-v1.bin")
        new_path = os.path.join(folder, "report-v2.bin")
        out_path = os.path.join(folder, "report-v2.synced")

        old = rnd.randbytes(4 << 20)
        new = bytearray(old)
        new[1_000_000:1_000_000] = b"a paragraph inserted in the middle" * 50
        new[3_000_000:3_000_100] = rnd.randbytes(100)
        with open(old_path, "wb") as f:
            f.write(old)
        with open(new_path, "wb") as f:
            f.write(new)

        # 1. Signature of the old file (a SpooledTemporaryFile, rewound).
        sig = librsync.signature(old_path)
        sig_size = len(sig.read())
        sig.seek(0)

        # 2. Delta of the new file against that signature.
        stats = []
        delta = librsync.delta(new_path, sig, stats=stats.append)
        delta_size = len(delta.read())
        delta.seek(0)

        # 3. Patch the old file with the delta, into a new path (atomically).
        librsync.patch(old_path, delta, out_path)

        with open(out_path, "rb") as f:
            ok = f.read() == bytes(new)
        st = stats[0]
        print(f"librsync {librsync.__version__} (C library {librsync.LIBRSYNC_VERSION})")
        print(f"old file:  {len(old):>9} bytes")
        print(f"new file:  {len(new):>9} bytes")
        print(f"signature: {sig_size:>9} bytes")
        print(f"delta:     {delta_size:>9} bytes "
              f"({st.lit_bytes} literal, {st.copy_bytes} copied from the old file)")
        print("patched file equals the new file:", ok)
        if not ok:
            raise SystemExit(1)


if __name__ == "__main__":
    main()
