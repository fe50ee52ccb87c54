"""A loop-lag probe: a client on a thread of its own that asks `/healthz` every few
milliseconds and keeps how long each answer took. `/healthz` does no work, so its
latency is how long the server's event loop was busy with something else."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator

import httpx

INTERVAL = 0.01  # seconds between probes


class Probe:
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.samples: list[float] = []  # seconds, one per answered probe
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="lag-probe", daemon=True)

    def _run(self) -> None:
        # A thread and a blocking client: the test's own event loop (building requests,
        # reading answers) cannot delay the probe the way a task on that loop would be.
        with httpx.Client(base_url=self.base_url, timeout=60) as http:
            http.get("/healthz")  # the connection is open before the clock matters
            while not self._stop.is_set():
                started = time.perf_counter()
                http.get("/healthz")
                self.samples.append(time.perf_counter() - started)
                self._stop.wait(INTERVAL)

    @property
    def worst(self) -> float:
        return max(self.samples, default=0.0)

    def summary(self) -> str:
        ordered = sorted(self.samples)
        if not ordered:
            return "no samples"
        p99 = ordered[int(len(ordered) * 0.99) - 1] if len(ordered) >= 100 else ordered[-1]
        return (
            f"{len(ordered)} probes, median {ordered[len(ordered) // 2] * 1000:.1f} ms, "
            f"p99 {p99 * 1000:.1f} ms, worst {ordered[-1] * 1000:.1f} ms"
        )


@contextlib.contextmanager
def probing(base_url: str) -> Iterator[Probe]:
    probe = Probe(base_url)
    probe._thread.start()
    try:
        yield probe
    finally:
        probe._stop.set()
        probe._thread.join(timeout=120)
