#!/usr/bin/env python3
"""How long a big ZUNIONSTORE makes another client wait (docs/benchmarks.md, issue 3).

Loads SOURCES sorted sets of MEMBERS members each over RESP (src0 holds member:0.., src1 starts
half-way, so two sources overlap by half), then runs UNIONS unions into `dst` while a second
connection sends one request at a time (PING, or ZSCORE on the destination, which needs the
destination's shard) and records its longest wait during each union.

Usage: bench/union_stall.py --port 7700 [--members 1000000] [--sources 1] [--probe ping]
                            [--unions 3]
Prints one line per union: the union's own time and the probe's longest wait, in ms.
"""
import argparse
import threading
import time

import redis

LOAD_BATCH = 10_000  # members per ZADD while loading


def load(client, key, first, count):
    pipe = client.pipeline(transaction=False)
    for start in range(first, first + count, LOAD_BATCH):
        stop = min(start + LOAD_BATCH, first + count)
        pipe.zadd(key, {f"member:{i}": i for i in range(start, stop)})
        if len(pipe) >= 8:
            pipe.execute()
    pipe.execute()


def probe(port, kind, stop, running, waits):
    client = redis.Redis(port=port)
    while not stop.is_set():
        began = time.perf_counter()
        if kind == "ping":
            client.ping()
        else:
            client.zscore("dst", "member:1")
        took = time.perf_counter() - began
        if running.is_set():
            waits.append(took)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=7700)
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--sources", type=int, default=1)
    parser.add_argument("--probe", choices=["ping", "zscore"], default="ping")
    parser.add_argument("--unions", type=int, default=3)
    args = parser.parse_args()

    client = redis.Redis(port=args.port)
    for i in range(args.sources):
        client.delete(f"src{i}")
        load(client, f"src{i}", i * args.members // 2, args.members)
    sources = [f"src{i}" for i in range(args.sources)]

    stop, running = threading.Event(), threading.Event()
    waits = []
    prober = threading.Thread(target=probe, args=(args.port, args.probe, stop, running, waits))
    prober.start()
    try:
        for _ in range(args.unions):
            time.sleep(0.2)  # the probe runs alone first: its own pace, not the union's
            waits.clear()
            running.set()
            began = time.perf_counter()
            size = client.zunionstore("dst", sources)
            took = time.perf_counter() - began
            running.clear()
            longest = max(waits) if waits else float("nan")
            print(f"union of {size} members: {took * 1e3:.1f} ms; {args.probe} longest wait "
                  f"{longest * 1e3:.2f} ms over {len(waits)} requests", flush=True)
    finally:
        stop.set()
        prober.join()


if __name__ == "__main__":
    main()
