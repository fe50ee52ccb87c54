"""A loop-lag probe: a client in a process of its own that asks `/healthz` every few
milliseconds and keeps how long each answer took. `/healthz` does no work, so its
latency is how long the server's event loop was busy with something else.

On a machine shared with other work, an answer can also be late because the kernel had
no CPU for the server's loop thread, or for the probe: scheduler noise, not anything a
request did. Linux counts that time per thread (``/proc/<pid>/task/<tid>/schedstat``:
on-CPU time, then time spent runnable but waiting for a CPU). Each sample's **stall** is
its wall time minus the run-queue wait of the server's loop thread and of the probe over
the same window: what is left is time the loop spent computing or blocked in a call (a
`time.sleep`, a synchronous read) before it could answer, which is what no request may
cause. Wall times are kept too, for the report.

The probe is a process, not a thread of the test's: the test's own work (building and
decoding large bodies) holds the test process's GIL and would look like lag.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import queue
import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx

INTERVAL = 0.01  # seconds between probes


def _schedstat(path: str) -> tuple[int, int]:
    """(ns on a CPU, ns runnable but waiting for one) of one thread."""
    try:
        with open(path) as stat:
            on_cpu, waiting, _ = stat.read().split()
        return int(on_cpu), int(waiting)
    except OSError:  # the thread is gone: nothing more to attribute
        return 0, 0


def queued(pid: int) -> float:
    """Seconds the loop thread of server ``pid`` and the calling thread have spent runnable
    but waiting for a CPU, so far: what the probe takes out of a sample, for a whole call.
    (Not every thread of the server: threads waiting side by side counted several times
    over, and took out more than a loaded call's whole wall time.)"""
    server = _schedstat(f"/proc/{pid}/task/{pid}/schedstat")[1]
    return (server + _schedstat("/proc/thread-self/schedstat")[1]) / 1e9


def _run(base_url: str, pid: int | None, samples, stop) -> None:
    server = f"/proc/{pid}/task/{pid}/schedstat" if pid else None
    me = "/proc/thread-self/schedstat"
    with httpx.Client(base_url=base_url, timeout=60) as http:
        http.get("/healthz")  # the connection is open before the clock matters
        while not stop.is_set():
            server_before = _schedstat(server) if server else (0, 0)
            own_before = _schedstat(me)
            started = time.perf_counter()
            http.get("/healthz")
            wall = time.perf_counter() - started
            own_after = _schedstat(me)
            server_after = _schedstat(server) if server else (0, 0)
            waited = (server_after[1] - server_before[1]) + (own_after[1] - own_before[1])
            on_cpu = server_after[0] - server_before[0]
            samples.put((wall, max(0.0, wall - waited / 1e9), on_cpu / 1e9))
            stop.wait(INTERVAL)


@dataclass(frozen=True)
class Sample:
    wall: float  # seconds from asking to the answer
    stall: float  # seconds of it the loop was busy (the wall time less scheduler waits)
    on_cpu: float  # seconds the loop thread computed meanwhile


class Probe:
    def __init__(self, base_url: str, pid: int | None) -> None:
        context = multiprocessing.get_context("spawn")
        self._queue = context.Queue()
        self._stop = context.Event()
        self._process = context.Process(
            target=_run, args=(base_url, pid, self._queue, self._stop), daemon=True
        )
        self._samples: list[Sample] = []
        self.attributed = pid is not None and os.path.exists(f"/proc/{pid}/task/{pid}/schedstat")

    @property
    def samples(self) -> list[Sample]:
        with contextlib.suppress(queue.Empty):
            while True:
                self._samples.append(Sample(*self._queue.get_nowait()))
        return self._samples

    def wait_started(self) -> None:
        while not self.samples:
            time.sleep(0.01)

    @property
    def worst(self) -> float:
        """The longest stall: what the bound is about."""
        return max((s.stall for s in self.samples), default=0.0)

    @property
    def worst_wall(self) -> float:
        return max((s.wall for s in self.samples), default=0.0)

    def summary(self) -> str:
        samples = self.samples
        if not samples:
            return "no samples"
        stalls = sorted(s.stall for s in samples)
        walls = sorted(s.wall for s in samples)
        p99 = stalls[int(len(stalls) * 0.99) - 1] if len(stalls) >= 100 else stalls[-1]
        return (
            f"{len(samples)} probes, stall median {stalls[len(stalls) // 2] * 1000:.1f} ms, "
            f"p99 {p99 * 1000:.1f} ms, worst {stalls[-1] * 1000:.1f} ms "
            f"(wall worst {walls[-1] * 1000:.1f} ms, of which the scheduler's "
            f"{(walls[-1] - min(s.stall for s in samples if s.wall == walls[-1])) * 1000:.1f})"
        )


@contextlib.contextmanager
def probing(base_url: str, pid: int | None = None) -> Iterator[Probe]:
    """``pid``: the server's process, whose main thread runs the loop; without it (or on
    a system without schedstat) only the probe's own scheduler waits are taken out."""
    probe = Probe(base_url, pid)
    probe._process.start()
    try:
        probe.wait_started()
        yield probe
    finally:
        probe._stop.set()
        probe._process.join(timeout=120)
        probe.samples  # noqa: B018 (drain what the probe sent last)
