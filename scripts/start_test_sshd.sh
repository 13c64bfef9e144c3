#!/usr/bin/env bash
# Start a throwaway sshd on 127.0.0.1 for the one test of `librsync sync`
# through a real ssh (tests/test_cli_remote.py::test_sync_through_real_ssh).
#
#   eval "$(bash scripts/start_test_sshd.sh)"
#   ... pytest ...
#   kill "$LIBRSYNC_TEST_SSHD_PID"
#
# Needs root (sshd logs in as the current user with a key of its own) and
# the openssh-server and openssh-client packages.  Everything lives in a new
# temporary directory: a host key, a client key, an authorized_keys file and
# sshd's own configuration, so the machine's ssh setup is neither used nor
# changed.  Prints the shell `export' lines the test reads:
# LIBRSYNC_TEST_SSH (the ssh command with its options), LIBRSYNC_TEST_SSH_HOST,
# LIBRSYNC_TEST_SSHD_PID and LIBRSYNC_TEST_SSHD_DIR.  Diagnostics go to stderr.
set -euo pipefail

SSHD=${SSHD:-/usr/sbin/sshd}
if [ "$(id -u)" != 0 ]; then
    echo "start_test_sshd.sh: must run as root (sshd's privilege separation)" >&2
    exit 1
fi
for tool in "$SSHD" ssh ssh-keygen; do
    if ! command -v "$tool" >/dev/null; then
        echo "start_test_sshd.sh: $tool not found (apt-get install openssh-server openssh-client)" >&2
        exit 1
    fi
done

dir=$(mktemp -d /tmp/librsync-sshd.XXXXXX)
chmod 700 "$dir"
ssh-keygen -q -t ed25519 -N '' -f "$dir/host_key" >/dev/null
ssh-keygen -q -t ed25519 -N '' -f "$dir/client_key" >/dev/null
cp "$dir/client_key.pub" "$dir/authorized_keys"
chmod 600 "$dir/authorized_keys"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

# UsePAM: without it sshd refuses key logins to an account whose password is
# locked, as root's often is in containers.  StrictModes off: the key files
# live under /tmp, not in a home directory sshd would check.
cat > "$dir/sshd_config" <<CONF
Port $port
ListenAddress 127.0.0.1
HostKey $dir/host_key
AuthorizedKeysFile $dir/authorized_keys
PidFile $dir/sshd.pid
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM yes
StrictModes no
LogLevel ERROR
CONF

mkdir -p /run/sshd
chmod 755 /run/sshd
"$SSHD" -t -f "$dir/sshd_config" >&2
"$SSHD" -f "$dir/sshd_config" -E "$dir/sshd.log"

ssh_cmd="ssh -p $port -i $dir/client_key -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o BatchMode=yes -o LogLevel=ERROR"
# sshd forks into the background: wait until it answers (or give up).
for _ in $(seq 50); do
    if $ssh_cmd 127.0.0.1 true 2>/dev/null; then
        break
    fi
    sleep 0.2
done
if ! $ssh_cmd 127.0.0.1 true; then
    echo "start_test_sshd.sh: cannot log in to the test sshd; its log:" >&2
    cat "$dir/sshd.log" >&2 || true
    [ -f "$dir/sshd.pid" ] && kill "$(cat "$dir/sshd.pid")" 2>/dev/null || true
    exit 1
fi

echo "export LIBRSYNC_TEST_SSH='$ssh_cmd'"
echo "export LIBRSYNC_TEST_SSH_HOST=127.0.0.1"
echo "export LIBRSYNC_TEST_SSHD_PID=$(cat "$dir/sshd.pid")"
echo "export LIBRSYNC_TEST_SSHD_DIR=$dir"
