#!/usr/bin/python3
"""Load driver for bench/rankings_bench.sh (issue 5's ranking figures); Python 3 stdlib only.

Subcommands:
  board   RESP files of a PRODUCTS-product board for `redis-cli --pipe`: Podium as RANK.EVENTS
          batches (one ORDER event per product), Redis as ZADD batches with the very scores
          Podium computes (0.7 x ln(1 + qty x unit_price); no views, likes or carry).
  events  ingestion throughput: EVENTS events, pre-generated, then sent over CLIENTS connections
          at depth 1 (one request in flight per connection), the connections spread over PROCS
          processes (each an epoll loop over raw sockets: redis-py's per-command cost would make
          the client the bottleneck long before either server). Prints events/s, latency, and
          the CPU of the client, the server and the whole machine over the timed part.
  load    the same clients for a duration, recording every request's send time and latency, with
          a probe on one more connection: none, a Podium window build (RANK.CARD of the window
          polled every 20 ms: 0 before it opens, BUSY while building, its size when done) or a
          Redis command run once mid-load (ZUNIONSTORE), timed. Latency is reported per phase:
          before, during (requests whose time in flight overlaps the build / the command) and
          after.
  tzfile  a one-type TZif zone file whose local 23:00:00 falls OPEN_IN seconds from now (for
          --ranking_tz): the server then opens tomorrow's window, and copies today's board into
          it, at that moment, by its own clock and timer (docs/rankings.md, "Carry-over").

Workloads (--mode): podium   RANK.EVENT all <id> VIEW|LIKE|ORDER <product> <ts_ms> [qty price]
                    lua      EVALSHA <sha> 2 event:<id> rank:<day> <weight> <product>
                    two-step SET event:<id> 1 NX EX 172800, then (if set) ZINCRBY rank:<day> ...
                    zincrby  ZINCRBY rank:<day> <weight> <product>
Events: zipf (s = ZIPF_S) over the products, 85% VIEW, 10% LIKE, 5% ORDER (qty 1..3, unit price
1000..100000); weights as Podium's defaults (view 0.1, like 0.2, order 0.7 x ln(1 + qty x price)).
Product ids are 10^12 + k, k in 0..PRODUCTS-1, so that redis-benchmark's "1__rand_int__" (12
zero-padded digits) names the same products (Podium, like Redis, reads no leading zeros).
"""
import argparse
import array
import bisect
import gc
import heapq
import itertools
import math
import multiprocessing as mp
import os
import random
import select
import socket
import struct
import sys
import time

BASE = 10**12
NIL = 0
TICKS = os.sysconf("SC_CLK_TCK")


def resp(*words):
    out = [b"*%d\r\n" % len(words)]
    for w in words:
        if not isinstance(w, bytes):
            w = str(w).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(w), w))
    return b"".join(out)


def bulk(b):
    return b"$%d\r\n%s\r\n" % (len(b), b)


def day_name(ts_ms, offset_s=0):
    return time.strftime("%Y%m%d", time.gmtime(ts_ms // 1000 + offset_s))


def parse(buf):
    """One RESP reply (no arrays) at the start of buf: (type, value, bytes used) or None."""
    i = buf.find(b"\r\n")
    if i < 0:
        return None
    t = buf[0]
    if t == 36:  # $
        n = int(buf[1:i])
        if n < 0:
            return (NIL, None, i + 2)
        end = i + 4 + n
        if len(buf) < end:
            return None
        return (36, buf[i + 2:i + 2 + n], end)
    return (t, buf[1:i], i + 2)


class Probe:
    """A blocking connection for single commands (replies without arrays)."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""

    def call(self, *words):
        self.sock.sendall(resp(*words))
        while True:
            r = parse(self.buf) if self.buf else None
            if r is not None:
                self.buf = self.buf[r[2]:]
                return r[0], r[1]
            data = self.sock.recv(65536)
            if not data:
                raise RuntimeError("probe connection closed")
            self.buf += data


class Zipf:
    def __init__(self, n, s):
        self.n = n
        self.cdf = array.array("d", itertools.accumulate(k ** -s for k in range(1, n + 1)))
        self.total = self.cdf[-1]
        a = 2654435761 % n or 1  # rank k -> product: a fixed bijection of 0..n-1
        while math.gcd(a, n) != 1:
            a += 1
        self.a, self.b = a, 7919 % n

    def draw(self, rng):
        k = bisect.bisect_left(self.cdf, rng.random() * self.total)
        if k >= self.n:
            k = self.n - 1
        return BASE + (k * self.a + self.b) % self.n


def random_event(rng, zipf):
    r = rng.random()
    product = zipf.draw(rng)
    if r < 0.85:
        return ("VIEW", product, 0, 0, "0.1")
    if r < 0.95:
        return ("LIKE", product, 0, 0, "0.2")
    qty, price = rng.randint(1, 3), rng.randrange(1000, 100001, 100)
    return ("ORDER", product, qty, price, repr(0.7 * math.log1p(qty * price)))


def template(mode, event, ts, day, sha):
    """(head, tail, second command): the first command is head + bulk(id key) + tail; with
    tail None it is head alone (no id: zincrby)."""
    kind, product, qty, price, weight = event
    rank_key = "rank:" + day
    if mode == "podium":
        words = [kind, product, ts] + ([qty, price] if kind == "ORDER" else [])
        head = b"*%d\r\n" % (3 + len(words)) + bulk(b"RANK.EVENT") + bulk(b"all")
        return head, resp(*words)[len(b"*%d\r\n" % len(words)):], None
    if mode == "lua":
        head = b"*7\r\n" + bulk(b"EVALSHA") + bulk(sha.encode()) + bulk(b"2")
        return head, resp(rank_key, weight, product)[4:], None
    if mode == "two-step":
        head = b"*6\r\n" + bulk(b"SET")
        return head, resp("1", "NX", "EX", "172800")[4:], resp("ZINCRBY", rank_key, weight, product)
    if mode == "zincrby":
        return resp("ZINCRBY", rank_key, weight, product), None, None
    if mode == "ping":
        return resp("PING"), None, None
    raise ValueError(mode)


def id_prefix(mode, tag, conn):
    key = "%s:%d:" % (tag, conn)
    return (key if mode == "podium" else "event:" + key).encode()


def proc_cpu_s(pid):
    with open("/proc/%d/stat" % pid) as f:
        rest = f.read().rsplit(")", 1)[1].split()
    return (int(rest[11]) + int(rest[12])) / TICKS


def machine_cpu():
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    idle = v[3] + (v[4] if len(v) > 4 else 0)
    return (sum(v) - idle) / TICKS


def worker(port, mode, conns, make_iter, barrier, stop, out, keep_sends, interval_ns=0):
    """interval_ns 0: each connection sends its next request when the reply arrives (closed
    loop). Otherwise each connection sends one request every interval_ns (open loop, paced),
    and a request's latency runs from when it was due, so a stall also counts against the
    requests it delayed (no coordinated omission)."""
    socks, iters = [], []
    for c in conns:
        s = socket.create_connection(("127.0.0.1", port))
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        socks.append(s)
        iters.append(make_iter(c))  # throughput mode: generates this connection's events now
    two = mode == "two-step"
    # The collector's pauses (a full collection walks the pool of pre-built requests) would be
    # measured as server latency: off for the timed part, whose garbage is small and short-lived.
    gc.disable()
    lat, sends = array.array("q"), array.array("q")
    applied = dup = errors = 0
    first_error = None
    mono = time.monotonic_ns
    barrier.wait(timeout=300)
    cpu0, t0 = time.process_time(), mono()
    ep = select.epoll()
    states = {}
    pending = []  # paced: (due, fd) of requests waiting for their time
    for c, s, it in zip(conns, socks, iters):
        ev = next(it, None)
        if ev is None:
            continue
        st = [s, it, b"", mono(), 0, ev[1], ev[0]]
        states[s.fileno()] = st
        ep.register(s.fileno(), select.EPOLLIN)
        if interval_ns:  # first sends spread over one interval
            heapq.heappush(pending, (t0 + (c % 997) * interval_ns // 997, s.fileno()))
        else:
            s.sendall(ev[0])
    live = len(states)
    while live:
        timeout = -1
        if pending:
            timeout = max(0.0, (pending[0][0] - mono()) / 1e9)
        ready = ep.poll(timeout)
        now = mono()
        while pending and pending[0][0] <= now:
            due, fd = heapq.heappop(pending)
            st = states[fd]
            st[3] = due
            st[0].sendall(st[6])
        for fd, _ in ready:
            st = states[fd]
            data = st[0].recv(65536)
            if not data:
                raise RuntimeError("the server closed a connection")
            buf = st[2] + data if st[2] else data
            r = parse(buf)
            if r is None:
                st[2] = buf
                continue
            kind, val, used = r
            st[2] = buf[used:]
            if two and st[4] == 0:
                if kind == 43:  # +OK: the id is new, now the board
                    st[4] = 1
                    st[0].sendall(st[5])
                    continue
                if kind == NIL:
                    dup += 1
                else:
                    errors += 1
                    first_error = first_error or val
            elif kind == 58:  # :1 / :0
                if val == b"1":
                    applied += 1
                elif val == b"0":
                    dup += 1
                else:
                    errors += 1
                    first_error = first_error or val
            elif kind == 36 or kind == 43:  # ZINCRBY's new score, +PONG
                applied += 1
            else:
                errors += 1
                first_error = first_error or val
            t = mono()
            lat.append(t - st[3])
            if keep_sends:
                sends.append(st[3])
            ev = None if stop.value else next(st[1], None)
            if ev is None:
                ep.unregister(fd)
                live -= 1
                continue
            st[4] = 0
            st[5] = ev[1]
            if interval_ns:
                due = st[3] + interval_ns
                if due > t:
                    st[6] = ev[0]
                    heapq.heappush(pending, (due, fd))
                    continue
                t = due  # late: its latency counts from when it was due
            st[3] = t
            st[0].sendall(ev[0])
    t1, cpu1 = mono(), time.process_time()
    out.send({"applied": applied, "dup": dup, "errors": errors,
              "first_error": first_error.decode(errors="replace") if first_error else None,
              "t0": t0, "t1": t1, "cpu": cpu1 - cpu0})
    out.send_bytes(lat.tobytes())
    out.send_bytes(sends.tobytes())
    for s in socks:
        s.close()


def run_clients(args, make_iter, keep_sends, probe_fn):
    """Starts the workers, samples CPU around the timed part, runs probe_fn(stop) in this
    process while they work (None: just wait). Returns (results, lats, sends, cpu)."""
    ctx = mp.get_context("fork")
    procs = max(1, min(args.procs, args.clients))
    barrier = ctx.Barrier(procs + 1)
    stop = ctx.RawValue("b", 0)
    workers, pipes = [], []
    for w in range(procs):
        conns = [c for c in range(args.clients) if c % procs == w]
        mine, theirs = ctx.Pipe(duplex=False)
        interval_ns = int(args.clients * 1e9 / args.rate) if getattr(args, "rate", 0) else 0
        p = ctx.Process(target=worker, args=(args.port, args.mode, conns, make_iter, barrier,
                                             stop, theirs, keep_sends, interval_ns))
        p.start()
        theirs.close()
        workers.append(p)
        pipes.append(mine)
    barrier.wait(timeout=300)
    server0, machine0, wall0 = proc_cpu_s(args.server_pid), machine_cpu(), time.monotonic()
    probe_result = probe_fn(stop) if probe_fn else None
    results, lats, sends = [], array.array("q"), array.array("q")
    for pipe in pipes:  # a worker's results arrive when it is done
        results.append(pipe.recv())
        lats.frombytes(pipe.recv_bytes())
        sends.frombytes(pipe.recv_bytes())
    server1, machine1, wall1 = proc_cpu_s(args.server_pid), machine_cpu(), time.monotonic()
    for p in workers:
        p.join()
        if p.exitcode != 0:
            sys.exit("a client process failed (exit %s)" % p.exitcode)
    wall = wall1 - wall0
    client = sum(r["cpu"] for r in results)
    busiest = max(r["cpu"] / max((r["t1"] - r["t0"]) / 1e9, 1e-9) for r in results)
    cpu = {"wall": wall, "client": client / wall, "procs": procs, "busiest": busiest,
           "server": (server1 - server0) / wall, "machine": (machine1 - machine0) / wall,
           "cores": os.cpu_count()}
    return results, lats, sends, cpu, probe_result


def cpu_text(cpu):
    text = ("client %.2f cores (%d procs, busiest at %.0f%% of a core), server %.2f cores,"
            " machine %.2f of %d cores busy" % (cpu["client"], cpu["procs"], 100 * cpu["busiest"],
                                                cpu["server"], cpu["machine"], cpu["cores"]))
    notes = []
    if cpu["busiest"] > 0.9:
        notes.append("a client process is saturated")
    if cpu["machine"] > 0.92 * cpu["cores"]:
        notes.append("the machine is saturated")
    return text + (" [%s: a lower bound for the server]" % "; ".join(notes) if notes else "")


def lat_text(lats):
    if not lats:
        return "no requests"
    v = sorted(lats)
    n = len(v)
    q = lambda f: v[min(n - 1, int(f * n))] / 1e6
    return "%d requests, p50 %.2f p99 %.2f p99.9 %.2f max %.2f ms" % (
        n, q(0.5), q(0.99), q(0.999), v[-1] / 1e6)


def counts_text(results):
    a = sum(r["applied"] for r in results)
    d = sum(r["dup"] for r in results)
    e = sum(r["errors"] for r in results)
    first = next((r["first_error"] for r in results if r["first_error"]), None)
    return a, d, e, "%d applied, %d repeated, %d errors%s" % (
        a, d, e, " (first: %s)" % first if first else "")


def cmd_events(args):
    zipf = Zipf(args.products, args.zipf_s)
    ts = int(time.time() * 1000)
    day = day_name(ts)
    per_conn = [args.events // args.clients + (1 if c < args.events % args.clients else 0)
                for c in range(args.clients)]

    def make_iter(c):
        rng = random.Random("%s:%d" % (args.seed, c))
        prefix = id_prefix(args.mode, args.tag, c)
        cmds = []
        for i in range(per_conn[c]):
            head, tail, second = template(args.mode, random_event(rng, zipf), ts, day, args.sha)
            cmds.append((head if tail is None else head + bulk(prefix + b"%d" % i) + tail, second))
        return iter(cmds)

    results, lats, _, cpu, _ = run_clients(args, make_iter, False, None)
    wall = (max(r["t1"] for r in results) - min(r["t0"] for r in results)) / 1e9
    applied, dup, errors, counts = counts_text(results)
    what = "PINGs" if args.mode == "ping" else "events"
    print("rate=%.1f %s/s: %d %s (%s) in %.2f s; latency %s; %s; server CPU %.1f us per %s" % (
        args.events / wall, what, args.events, what, counts, wall, lat_text(lats),
        cpu_text(cpu), cpu["server"] * cpu["wall"] / args.events * 1e6, what[:-1]))
    if errors or dup or applied != args.events:
        sys.exit("every event has a fresh id: all must be applied")


def cmd_load(args):
    zipf = Zipf(args.products, args.zipf_s)
    ts = int(time.time() * 1000)
    day = args.day or day_name(ts)
    pool_rng = random.Random(args.seed)
    pool = [template(args.mode, random_event(pool_rng, zipf), ts, day, args.sha)
            for _ in range(20011)]

    def make_iter(c):
        prefix = id_prefix(args.mode, args.tag, c)
        start = (c * 7919) % len(pool)
        i = 0
        for head, tail, second in itertools.cycle(pool[start:] + pool[:start]):
            if tail is None:
                yield head, second
            else:
                yield head + bulk(prefix + b"%d" % i) + tail, second
            i += 1

    probe = Probe(args.port) if args.probe != "none" else None
    mono = time.monotonic_ns
    info = {}

    def probe_none(stop):
        time.sleep(args.duration)
        stop.value = 1

    def probe_build(stop):
        # RANK.CARD all <window>: 0 while the window does not exist, BUSY while it is built.
        start = mono()
        deadline = start + int(args.duration * 1e9)
        last_absent = opened = done = None
        longest_call = longest_oversleep = 0
        while mono() < deadline:
            t = mono()
            kind, val = probe.call("RANK.CARD", "all", args.window)
            longest_call = max(longest_call, mono() - t)
            if kind == 58:
                if opened is None and int(val) == 0:
                    last_absent = t  # not open yet
                elif done is None:  # complete (seen building before, or not even that)
                    opened = opened or t
                    done = t
                    info["card"] = int(val)
            elif kind == 45 and val.startswith(b"BUSY"):
                opened = opened or t
            else:
                raise RuntimeError("RANK.CARD: %r" % val)
            if done is not None and t > done + int(args.tail * 1e9):
                break
            before_sleep = mono()
            time.sleep(0.02)
            longest_oversleep = max(longest_oversleep, mono() - before_sleep - 20_000_000)
        stop.value = 1
        info["probe"] = ("probe: longest RANK.CARD reply %.1f ms; longest oversleep of its 20 ms"
                         " pauses %.1f ms (a stall of the machine, not of the server)" % (
                             longest_call / 1e6, longest_oversleep / 1e6))
        if opened is None:
            info["note"] = "the window did not open within %.0f s" % args.duration
            return None
        if done is None:
            info["note"] = "the window was still building after %.0f s" % args.duration
            return None
        begin = last_absent if last_absent is not None else opened
        info["seconds"] = (done - opened) / 1e9
        info["build"] = "build of window %s: BUSY first seen %.2f s into the load, complete" \
            " after %.2f s (%.2f s since the last poll that found no window), %d products" % (
                args.window, (opened - start) / 1e9, (done - opened) / 1e9,
                (done - begin) / 1e9, info["card"])
        return begin, done

    def probe_command(stop):
        time.sleep(args.probe_at)
        words = args.probe_command.split()
        t0 = mono()
        kind, val = probe.call(*words)
        t1 = mono()
        if kind == 45:
            raise RuntimeError("%s: %s" % (words[0], val.decode()))
        info["seconds"] = (t1 - t0) / 1e9
        info["build"] = "%s took %.3f s (reply %s), %.2f s into the load" % (
            " ".join(words), (t1 - t0) / 1e9, val.decode(), args.probe_at)
        time.sleep(args.tail)
        stop.value = 1
        return t0, t1

    probe_fn = {"none": probe_none, "build": probe_build, "command": probe_command}[args.probe]
    results, lats, sends, cpu, window = run_clients(args, make_iter, True, probe_fn)
    wall = (max(r["t1"] for r in results) - min(r["t0"] for r in results)) / 1e9
    applied, dup, errors, counts = counts_text(results)
    print("%s: %.0f requests/s over %.1f s (%s); %s" % (args.label, len(lats) / wall, wall,
                                                        counts, cpu_text(cpu)))
    if "build" in info:
        print("  " + info["build"])
    if "probe" in info:
        print("  " + info["probe"])
    if "note" in info:
        print("  NOTE: " + info["note"])
    summary = {}
    if window is None:
        phases = [("all", list(lats))]
    else:
        begin, end = window
        before, during, after = [], [], []
        for s, l in zip(sends, lats):
            if s + l < begin:
                before.append(l)
            elif s > end:
                after.append(l)
            else:
                during.append(l)
        phases = [("before", before), ("during", during), ("after", after)]
        summary["seconds"] = "%.3f" % info["seconds"]
    for name, values in phases:
        print("  %-7s %s" % (name + ":", lat_text(values)))
        if values:
            v = sorted(values)
            summary[name + "_p999"] = "%.2f" % (v[min(len(v) - 1, int(0.999 * len(v)))] / 1e6)
            summary[name + "_max"] = "%.2f" % (v[-1] / 1e6)
    print("summary " + " ".join("%s=%s" % kv for kv in summary.items()))
    if errors:
        sys.exit("errors in the load")


def cmd_board(args):
    rng = random.Random(args.seed)
    ts = args.ts
    day = day_name(ts)
    with open(args.podium, "wb") as podium, open(args.redis, "wb") as redis:
        for first in range(0, args.products, args.batch):
            ks = range(first, min(first + args.batch, args.products))
            pw, rw = ["RANK.EVENTS", "all", str(len(ks))], ["ZADD", "rank:" + day]
            for k in ks:
                qty, price = 1 + k % 3, rng.randrange(100, 100001)
                product = str(BASE + k)
                pw += ["b%d" % k, "ORDER", product, str(ts), str(qty), str(price)]
                rw += [repr(0.7 * math.log1p(qty * price)), product]
            podium.write(resp(*pw))
            redis.write(resp(*rw))
    print(day)


def cmd_tzfile(args):
    now = time.time()
    open_at = int(now) + args.open_in
    offset = (23 * 3600 - open_at % 86400) % 86400
    if offset > 43200:
        offset -= 86400
    with open(args.path, "wb") as f:  # TZif v1: no transitions, one type
        f.write(b"TZif" + b"\0" * 16 + struct.pack(">6l", 0, 0, 0, 0, 1, 4) +
                struct.pack(">lBB", offset, 0, 0) + b"BCH\0")
    today = day_name(int(now * 1000), offset)
    tomorrow = day_name(int(now * 1000) + 86400 * 1000, offset)
    print(today, tomorrow, open_at, offset)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    for name in ("events", "load"):
        p = sub.add_parser(name)
        p.add_argument("--port", type=int, required=True)
        p.add_argument("--server-pid", type=int, required=True)
        p.add_argument("--mode", choices=["podium", "lua", "two-step", "zincrby", "ping"], required=True)
        p.add_argument("--sha", default="")
        p.add_argument("--clients", type=int, default=50)
        p.add_argument("--procs", type=int, default=4)
        p.add_argument("--products", type=int, default=1000000)
        p.add_argument("--zipf-s", type=float, default=1.1)
        p.add_argument("--tag", default="e")
        p.add_argument("--seed", default="1")
    sub.choices["events"].add_argument("--events", type=int, default=200000)
    load = sub.choices["load"]
    load.add_argument("--label", default="load")
    load.add_argument("--rate", type=float, default=0, help="requests/s over all connections, "
                      "paced (open loop); 0: each connection as fast as replies come back")
    load.add_argument("--duration", type=float, default=5, help="probe none: the length; "
                      "build: the longest wait for the window to open and complete")
    load.add_argument("--probe", choices=["none", "build", "command"], default="none")
    load.add_argument("--window", default="", help="probe build: the window (yyyyMMdd)")
    load.add_argument("--probe-at", type=float, default=2, help="probe command: when (s)")
    load.add_argument("--probe-command", default="", help="probe command: the words")
    load.add_argument("--tail", type=float, default=2, help="load kept up after the probe (s)")
    load.add_argument("--day", default="", help="the day of rank:<day> (default: today, UTC)")
    p = sub.add_parser("board")
    p.add_argument("--products", type=int, required=True)
    p.add_argument("--ts", type=int, required=True)
    p.add_argument("--podium", required=True)
    p.add_argument("--redis", required=True)
    p.add_argument("--batch", type=int, default=1000)
    p.add_argument("--seed", type=int, default=5)
    p = sub.add_parser("tzfile")
    p.add_argument("--path", required=True)
    p.add_argument("--open-in", type=int, required=True)
    args = ap.parse_args()
    {"events": cmd_events, "load": cmd_load, "board": cmd_board, "tzfile": cmd_tzfile}[args.cmd](args)


if __name__ == "__main__":
    main()
