"""Benchmark: slow clients (slowloris) against the live service, and /healthz meanwhile.

    .venv/bin/python benchmarks/bench_slow_clients.py [--quick] [--rounds N] [--block S] [--clients 2,4,8]
                                                      [--json out.json]

Issue 11 target: with two connections that send their headers slowly, ``/healthz`` still answers
within 1 s.

Set-up as in bench_upload.py (benchmarks/_live_server.py): a throw-away instance served by
``formservice run --workers 2 --threads 4`` (gunicorn, gthread) on a free port, no proxy in front.

A slow client opens a connection and sends ``GET /healthz HTTP/1.1``, ``Host`` and then an endless
header, **one byte per second, never finishing**. When the server closes the connection or answers,
the client counts it and connects again. Conditions: 0 (baseline), 2, 4 and 8 slow clients
(``--clients``). Each round runs one block per condition, ``--block`` seconds each (default 20,
``--quick`` 6) after the slow clients have connected and sent their first bytes, the order of the
conditions rotating every round (``--rounds``, default 4, ``--quick`` 1). During a block this process
times ``GET /healthz`` on a new connection every 50 ms, with a 5 s timeout (``--timeout``).

Reported per condition: probes, timeouts (and in how many blocks), p50/p95/max of the answered
ones (a block where every probe timed out shows p95 "inf" in the per-round line), the share of
probes answered within 1 s, and the ratio to the baseline; the slow clients' bytes sent and how often the server
closed their connection. Verdict: PASS when, with 2 slow clients, healthz p95 ≤ 1 s and no probe
timed out. Needs only the standard library and what the service installs.
"""
from __future__ import annotations

import argparse
import json
import os
import select
import socket
import statistics
import sys
import threading
import time
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[0] = str(ROOT)  # the repository, so `benchmarks` and `formservice` import from this checkout

from benchmarks._live_server import LiveService, healthz, percentile  # noqa: E402

TARGET_SECONDS = 1.0
PREFIX = b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Slow: "


class SlowClient(threading.Thread):
    """Sends a request's headers one byte per second, never finishing; reconnects when cut off."""

    def __init__(self, port: int, stop: threading.Event, stats: Counter):
        super().__init__(daemon=True)
        self.port, self.stop, self.stats = port, stop, stats
        self.first_byte = threading.Event()

    def run(self):
        while not self.stop.is_set():
            try:
                sock = socket.create_connection(("127.0.0.1", self.port), timeout=5)
            except OSError:
                self.stats["connect_failed"] += 1
                self.stop.wait(1)
                continue
            self.stats["connections"] += 1
            sent = 0
            try:
                while not self.stop.is_set():
                    sock.sendall(PREFIX[sent:sent + 1] if sent < len(PREFIX) else b"a")
                    sent += 1
                    self.stats["bytes"] += 1
                    self.first_byte.set()
                    if self.stop.wait(1.0):
                        break
                    readable, _, _ = select.select([sock], [], [], 0)
                    if readable:  # the server answered (e.g. 400) or closed: that ends this connection
                        data = sock.recv(4096)
                        self.stats["answered" if data else "closed_by_server"] += 1
                        break
            except OSError:
                self.stats["reset_by_server"] += 1
            finally:
                sock.close()


def block(port: int, slow: int, seconds: float, interval: float, timeout: float, stats: Counter):
    stop = threading.Event()
    clients = [SlowClient(port, stop, stats) for _ in range(slow)]
    for c in clients:
        c.start()
    for c in clients:
        c.first_byte.wait(10)
    if clients:
        time.sleep(2.5)  # a few bytes in: the server has handed every slow connection to a thread
    samples = []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        samples.append(healthz(port, timeout=timeout))
        time.sleep(interval)
    stop.set()
    for c in clients:
        c.join(timeout=5)
    time.sleep(1.0)  # the server notices the closed connections and frees its threads
    return samples


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="1 round of 6 s blocks")
    ap.add_argument("--rounds", type=int)
    ap.add_argument("--block", type=float, help="seconds per condition and round")
    ap.add_argument("--clients", default="2,4,8", help="numbers of slow clients besides the baseline (default 2,4,8)")
    ap.add_argument("--interval", type=float, default=0.05)
    ap.add_argument("--timeout", type=float, default=5.0, help="healthz probe timeout (s)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--threads", type=int, default=4)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    rounds = args.rounds or (1 if args.quick else 4)
    seconds = args.block or (6.0 if args.quick else 20.0)
    conditions = [0] + [int(x) for x in args.clients.split(",") if x.strip()]

    started = time.perf_counter()
    answered = defaultdict(list)
    timeouts = Counter()
    block_timeouts = Counter()
    probes = Counter()
    per_round = defaultdict(list)
    client_stats = defaultdict(Counter)
    with LiveService(workers=args.workers, threads=args.threads) as svc:
        block(svc.port, 0, 2.0, args.interval, args.timeout, Counter())  # warm-up
        for r in range(rounds):
            order = conditions[r % len(conditions):] + conditions[:r % len(conditions)]
            for slow in order:
                samples = block(svc.port, slow, seconds, args.interval, args.timeout, client_stats[slow])
                ok = [s * 1000 for s, status in samples if status == 200]
                probes[slow] += len(samples)
                timeouts[slow] += len(samples) - len(ok)
                block_timeouts[slow] += len(samples) > len(ok)
                answered[slow] += ok
                per_round[slow].append(percentile(ok, 95) if ok else float("inf"))
            print(f"round {r + 1}/{rounds} (order {order}): healthz p95 " +
                  ", ".join(f"{c} slow {per_round[c][-1]:.1f} ms" for c in conditions), flush=True)
        server_log = svc.server_log()
    elapsed = time.perf_counter() - started

    base95 = percentile(answered[0], 95)
    base50 = statistics.median(answered[0])
    print()
    print(f"bench_slow_clients: {rounds} rounds × {len(conditions)} blocks of {seconds:.0f} s, gunicorn {args.workers} "
          f"workers × {args.threads} threads (gthread), probe timeout {args.timeout:.0f} s, run {elapsed:.0f} s, "
          f"load average {os.getloadavg()[0]:.2f} (2-core shared machine)")
    print()
    print("| slow clients | probes | timeouts | blocks with a timeout | p50 ms | p95 ms | max ms | ≤ 1 s | "
          "p95 / baseline p95 | slow clients' bytes | reconnects (server closed / answered / reset) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for c in conditions:
        v = answered[c]
        within = sum(1 for x in v if x <= TARGET_SECONDS * 1000) / probes[c] if probes[c] else 0
        st = client_stats[c]
        p50 = f"{statistics.median(v):.1f}" if v else "—"
        p95 = f"{percentile(v, 95):.1f}" if v else "—"
        mx = f"{max(v):.1f}" if v else "—"
        ratio = f"×{percentile(v, 95) / base95:.2f}" if v else "—"
        print(f"| {c}{' (baseline)' if c == 0 else ''} | {probes[c]} | {timeouts[c]} | "
              f"{block_timeouts[c]}/{rounds} | {p50} | {p95} | {mx} | {within:.1%} | {ratio} | {st['bytes']} | "
              f"{st['closed_by_server']} / {st['answered']} / {st['reset_by_server']} |")
    print()
    print(f"Baseline healthz: p50 {base50:.1f} ms, p95 {base95:.1f} ms. Per-round p95 (ms): " +
          "; ".join(f"{c} slow: " + ", ".join(f"{x:.1f}" for x in per_round[c]) for c in conditions))
    two = answered.get(2, [])
    verdict = "PASS" if 2 in conditions and two and timeouts[2] == 0 and percentile(two, 95) <= TARGET_SECONDS * 1000 \
        else ("FAIL" if 2 in conditions else "n/a (no 2-client condition)")
    print(f"VERDICT (2 slow clients, healthz p95 ≤ {TARGET_SECONDS:.0f} s, no timeout): {verdict}")
    trouble = [line for line in server_log.splitlines() if "WORKER TIMEOUT" in line or "Traceback" in line]
    if trouble:
        print(f"Server log: {len(trouble)} worker timeout/traceback line(s), e.g. {trouble[0][:200]}")
    if args.json:
        args.json.write_text(json.dumps({
            "answered_ms": {str(k): v for k, v in answered.items()},
            "timeouts": {str(k): v for k, v in timeouts.items()},
            "probes": {str(k): v for k, v in probes.items()},
            "per_round_p95": {str(k): v for k, v in per_round.items()},
            "slow_clients": {str(k): dict(v) for k, v in client_stats.items()}, "verdict": verdict}, indent=2))
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    sys.exit(main())
