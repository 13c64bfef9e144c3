"""A stand-in for ssh in the tests: ``localrsh.py [OPTIONS] HOST COMMAND...``
runs COMMAND on this machine with ``sh -c``, as ssh runs it on HOST, so the
real other side (``librsync serve``) runs without an sshd.  HOST is
ignored, options before it too (``-p 22``-style pairs are not needed).

Environment knobs for failure tests:

``LOCALRSH_FAIL=1``
    exit 255 at once, as ssh does when it cannot connect;
``LOCALRSH_KILL_AFTER=N``
    relay stdin to the command and SIGKILL it once N bytes have passed,
    then exit 255 as ssh does when the connection drops: the receiving side
    dies mid-stream;
``LOCALRSH_STALL_AFTER=N``
    relay the command's stdout for N bytes, then relay nothing more and
    hang (as a network that goes silent does), until killed.
"""

import os
import signal
import subprocess
import sys
import time


def main() -> int:
    args = sys.argv[1:]
    while args and args[0].startswith("-"):
        args.pop(0)
    if len(args) < 2:
        sys.stderr.write("localrsh: usage: localrsh.py HOST COMMAND...\n")
        return 255
    command = " ".join(args[1:])  # as ssh joins them for the remote shell
    if os.environ.get("LOCALRSH_FAIL") == "1":
        sys.stderr.write(f"ssh: connect to host {args[0]} port 22: Connection refused\n")
        return 255
    stall_after = os.environ.get("LOCALRSH_STALL_AFTER")
    if stall_after is not None:
        return _stall(command, int(stall_after))
    kill_after = os.environ.get("LOCALRSH_KILL_AFTER")
    if kill_after is None:
        os.execvp("sh", ["sh", "-c", command])
    limit = int(kill_after)
    child = subprocess.Popen(["sh", "-c", "exec " + command], stdin=subprocess.PIPE)
    passed = 0
    stdin = sys.stdin.buffer.raw
    try:
        while True:
            chunk = stdin.read(65536)
            if not chunk:
                break
            child.stdin.write(chunk[:max(limit - passed, 0)])
            child.stdin.flush()
            passed += len(chunk)
            if passed >= limit:
                child.send_signal(signal.SIGKILL)
                child.wait()
                return 255
        child.stdin.close()
    except BrokenPipeError:
        pass
    return child.wait() & 0xFF


def _stall(command: str, limit: int) -> int:
    child = subprocess.Popen(["sh", "-c", "exec " + command], stdout=subprocess.PIPE)
    passed = 0
    while passed < limit:
        chunk = os.read(child.stdout.fileno(), min(65536, limit - passed))
        if not chunk:
            break
        view = memoryview(chunk)
        while view:
            view = view[os.write(1, view):]
        passed += len(chunk)
    # Silent from now on; the caller's --timeout kills us.  The child then
    # finds its stdout broken (or its stdin ended) and exits.
    try:
        time.sleep(3600)
    finally:
        child.kill()
    return 255


if __name__ == "__main__":
    sys.exit(main())
