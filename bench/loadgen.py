"""Closed-loop HTTP load: wrk when installed, else a small httpx generator in its own process.

    .venv/bin/python -m bench.loadgen URL [--method POST] [--body-file F] [--header 'K: V']
        [--unique] [--prefix P] [--duration 10] [--connections 32]

(the fallback's command line; it prints one JSON result). `drive()` picks the tool.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import httpx

SCRIPT = Path(__file__).with_name("wrk") / "request.lua"
UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


@dataclass
class Target:
    name: str
    url: str
    method: str = "GET"
    body: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    unique: bool = False  # "__N__" in the body becomes a per-request unique id


@dataclass
class Result:
    requests: int
    rps: float
    p50_ms: float
    p99_ms: float
    failures: int  # non-2xx/3xx answers plus socket errors and timeouts
    tool: str


async def drive(
    target: Target, duration: int, connections: int, threads: int, prefix: str
) -> Result:
    with tempfile.NamedTemporaryFile("w", suffix=".json") as body:
        body.write(target.body or "")
        body.flush()
        env = {
            **os.environ,
            "BENCH_METHOD": target.method,
            "BENCH_BODY_FILE": body.name if target.body is not None else "",
            "BENCH_HEADERS": "\n".join(f"{k}: {v}" for k, v in target.headers.items()),
            "BENCH_UNIQUE": "1" if target.unique else "0",
            "BENCH_PREFIX": prefix,
        }
        wrk = shutil.which("wrk")
        if wrk:
            argv = [wrk, f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--latency"]
            argv += ["--timeout", "10s", "-s", str(SCRIPT), target.url]
        else:
            argv = [sys.executable, "-m", "bench.loadgen", target.url, "--env"]
            argv += ["--duration", str(duration), "--connections", str(connections)]
        process = await asyncio.create_subprocess_exec(
            *argv, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
        )
        out, err = await asyncio.wait_for(process.communicate(), duration + 60)
    if process.returncode:
        raise RuntimeError(f"{argv[0]} failed: {err.decode()[-2000:]}")
    return parse_wrk(out.decode()) if wrk else Result(**json.loads(out))


def parse_wrk(text: str) -> Result:
    def number(pattern: str) -> str:
        match = re.search(pattern, text, re.MULTILINE)
        if not match:
            raise RuntimeError(f"unexpected wrk output (no {pattern!r}):\n{text}")
        return match.group(1)

    def latency(percent: int) -> float:
        match = re.search(rf"^\s+{percent}%\s+([\d.]+)(us|ms|s|m)\s*$", text, re.MULTILINE)
        if not match:
            raise RuntimeError(f"unexpected wrk output (no {percent}%):\n{text}")
        return float(match.group(1)) * UNITS[match.group(2)]

    socket = re.search(r"connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    failures = sum(int(n) for n in socket.groups()) if socket else 0
    return Result(
        requests=int(number(r"(\d+) requests in")),
        rps=float(number(r"Requests/sec:\s+([\d.]+)")),
        p50_ms=latency(50),
        p99_ms=latency(99),
        failures=failures + (int(non_2xx.group(1)) if non_2xx else 0),
        tool="wrk",
    )


async def generate(target: Target, duration: float, connections: int, prefix: str) -> Result:
    """The fallback: ``connections`` clients in a closed loop for ``duration`` seconds."""
    latencies: list[float] = []
    failures = 0
    counter = 0
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx.AsyncClient(limits=limits, timeout=10) as http:
        deadline = time.perf_counter() + duration

        async def client() -> None:
            nonlocal failures, counter
            while time.perf_counter() < deadline:
                counter += 1
                body = target.body
                if body is not None and target.unique:
                    body = body.replace("__N__", f"{prefix}-{counter}")
                start = time.perf_counter()
                try:
                    response = await http.request(
                        target.method, target.url, content=body, headers=target.headers
                    )
                    failures += not 200 <= response.status_code < 400
                except httpx.HTTPError:
                    failures += 1
                latencies.append((time.perf_counter() - start) * 1000)

        start = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(connections)))
        elapsed = time.perf_counter() - start
    latencies.sort()
    p50, p99 = percentile(latencies, 0.5), percentile(latencies, 0.99)
    return Result(len(latencies), len(latencies) / elapsed, p50, p99, failures, "httpx")


def percentile(ordered: list[float], q: float) -> float:
    """The ``q`` quantile of sorted values (nearest rank); 0 when there are none."""
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("url")
    parser.add_argument("--env", action="store_true", help="take the request from BENCH_*")
    parser.add_argument("--method", default="GET")
    parser.add_argument("--body-file")
    parser.add_argument("--header", action="append", default=[])
    parser.add_argument("--unique", action="store_true")
    parser.add_argument("--prefix", default="r")
    parser.add_argument("--duration", type=float, default=10)
    parser.add_argument("--connections", type=int, default=32)
    options = parser.parse_args()
    if options.env:
        options.method = os.environ.get("BENCH_METHOD", "GET")
        options.body_file = os.environ.get("BENCH_BODY_FILE") or None
        options.header = [h for h in os.environ.get("BENCH_HEADERS", "").split("\n") if h]
        options.unique = os.environ.get("BENCH_UNIQUE") == "1"
        options.prefix = os.environ.get("BENCH_PREFIX", "r")
    headers = dict(h.split(":", 1) for h in options.header)
    target = Target(
        "cli",
        options.url,
        options.method,
        Path(options.body_file).read_text() if options.body_file else None,
        {k.strip(): v.strip() for k, v in headers.items()},
        options.unique,
    )
    result = asyncio.run(generate(target, options.duration, options.connections, options.prefix))
    print(json.dumps(asdict(result)))


if __name__ == "__main__":
    main()
