"""Crash test: podium-server --fsync always, killed with SIGKILL under load, must keep every
acknowledged write.

Each cycle starts the real server on one data directory, runs CLIENTS threads (each with its own
connection) doing acknowledged writes, waits until every client has had a reply and the load has
at least CYCLE_MIN_ACKS acknowledged writes of every kind (bounded wait: the test fails if the
load does not get there), lets it run a random while more (the crash point), kills the server
with SIGKILL, restarts it and checks the recovered state against a model:

- per-client keys (a SET of an increasing number, an INCRBY counter, a ZINCRBY on the client's
  own member): the recovered value is exactly the last acknowledged one, or the one the client's
  single request in flight at the kill would have made (it may have become durable before the
  reply was lost);
- a shared sorted-set member every client increments: recovered = model + k with
  0 <= k <= requests in flight at the kill;
- stock: PRODUCTS products with small stocks that every client reserves from (1..3 units), and
  now and then restocks (STOCK.ADD) or gives back units it reserved (STOCK.RELEASE). The load
  takes more than it adds, so the stock runs out and SOLDOUT replies happen (the test requires
  them). After each restart a product's units are exactly the previous units plus the
  acknowledged adds and releases minus the acknowledged reservations, plus the deltas of some
  subset of the stock requests in flight at the kill (each may or may not have applied). So over
  the run units = initial + adds + releases - reservations, all acknowledged, plus the
  in-flight ones found applied. Units never read below zero: not in a reply during the load
  (RESERVE, ADD, RELEASE, GET, the available count of SOLDOUT), not after a restart.
- recovery itself: the restart's log names the snapshot it loaded (and its sequence) and the
  sequence after the last record replayed; INFO persistence gives loading_wal_records. The
  last recovered sequence is at least the number of acknowledged writes so far. Without
  snapshots no snapshot is loaded and every record is replayed from the WAL.

The recovered values then become the model of the next cycle. A client whose connection or
request fails before the kill fails the test. The second test does the same with snapshots taken
during the load (BGSAVE every few requests, and a small --snapshot_wal_bytes so the server also
takes them by itself); it requires that restarts recovered from a snapshot (sequence > 0) plus
WAL records after it.
"""

import os
import random
import re
import shutil
import signal
import tempfile
import threading
import time
import unittest

from podium_fixture import (POLL_INTERVAL_S, RawConnection, RespError, ServerProcess, main,
                            parse_info, resp_call)

CYCLES = 20
CLIENTS = 6
PRODUCTS = (4242, 4243, 4244)
STOCK_INITIAL = 60            # per product: gone within the first cycle, then SOLDOUT is common
RESERVE_UNITS_MAX = 3
RESTOCK_UNITS = (4, 12)       # STOCK.ADD takes less back than the reservations take
CYCLE_MIN_ACKS = 20           # per kind of write, before the crash point of every cycle
LOAD_RUNNING_TIMEOUT_S = 20.0
CRASH_DELAY_MAX_S = 0.8       # the crash point: this much at most after the minimum is reached
SNAPSHOT_RECOVERIES_MIN = 5   # restarts from a snapshot (sequence > 0) plus WAL records after it
# Request kinds and their weights. "reserve" counts as a write when it succeeded (SOLDOUT changes
# nothing and logs nothing); "get" is a read of a product's units.
KINDS = ("set", "incr", "zincr", "hot", "reserve", "release", "add", "get")
WEIGHTS = (2, 1, 2, 1, 4, 1, 0.4, 0.4)
WRITE_KINDS = ("set", "incr", "zincr", "hot", "reserve", "release", "add")
STOCK_KINDS = ("reserve", "release", "add")
# The minimum every cycle needs before its crash point: name -> kinds whose acks add up to it.
REQUIRED = {"SET": ("set",), "INCRBY": ("incr",), "ZINCRBY": ("zincr", "hot"),
            "STOCK.RESERVE": ("reserve",)}

LOADED_SNAPSHOT = re.compile(r"recovery: loaded (\S+) \(sequence (\d+),")
REPLAYED = re.compile(r"recovery: replayed (\d+) WAL records .* next sequence (\d+)")


class Client(threading.Thread):
    """One connection doing acknowledged writes until the server is killed."""

    def __init__(self, index, port, model, killed, bgsave_every=0):
        super().__init__(daemon=True)
        self.index = index
        self.port = port
        self.model = model
        self.killed = killed
        self.bgsave_every = bgsave_every
        self.rng = random.Random(index * 7919 + int(time.time()))
        # What this client saw acknowledged in this cycle, and what was in flight at the kill.
        self.acked = dict.fromkeys(KINDS, 0)
        self.acked_total = 0
        self.soldout = 0
        self.stock_delta = dict.fromkeys(PRODUCTS, 0)  # acknowledged changes of units
        self.held = dict.fromkeys(PRODUCTS, 0)         # units it reserved, for its releases
        self.in_flight = None  # (kind, product or None, value it would make or stock delta)
        self.failure = None

    def run(self):
        try:
            connection = RawConnection(self.port, timeout_s=10.0)
        except OSError as error:
            self.failure = f"could not connect to port {self.port}: {error!r}"
            return
        with connection:
            while self.failure is None:
                if not self.step(connection):
                    return

    def call(self, connection, request):
        """The reply, or None once the server is gone (a failure if it was not killed)."""
        try:
            return resp_call(connection, *request, timeout_s=10.0)
        except Exception as error:  # the server was killed: the request is in flight forever
            if not self.killed.is_set():
                self.failure = f"{request} failed before the kill: {error!r}"
            return None

    def step(self, connection):
        model = self.model[self.index]
        kind = self.rng.choices(KINDS, WEIGHTS)[0]
        product = self.rng.choice(PRODUCTS)
        if kind == "release" and self.held[product] == 0:
            kind = "reserve"
        if kind == "set":
            flying = (kind, None, model["set"] + 1)
            request = ("SET", f"s:{self.index}", str(flying[2]))
        elif kind == "incr":
            flying = (kind, None, model["incr"] + 3)
            request = ("INCRBY", f"c:{self.index}", "3")
        elif kind == "zincr":
            flying = (kind, None, model["zincr"] + 2)
            request = ("ZINCRBY", "board", "2", f"m{self.index}")
        elif kind == "hot":
            flying = (kind, None, 1)
            request = ("ZINCRBY", "board", "1", "hot")
        elif kind == "reserve":
            units = self.rng.randint(1, RESERVE_UNITS_MAX)
            flying = (kind, product, -units)
            request = ("STOCK.RESERVE", str(product), str(units))
        elif kind == "release":
            units = 1  # a customer gives one unit back
            flying = (kind, product, units)
            request = ("STOCK.RELEASE", str(product), str(units))
        elif kind == "add":
            units = self.rng.randint(*RESTOCK_UNITS)
            flying = (kind, product, units)
            request = ("STOCK.ADD", str(product), str(units))
        else:
            flying = None
            request = ("STOCK.GET", str(product))
        self.in_flight = flying
        reply = self.call(connection, request)
        if reply is None:
            return False
        self.in_flight = None
        if kind == "reserve" and isinstance(reply, RespError) and reply.startswith("SOLDOUT"):
            available = int(reply.split()[1])  # "-SOLDOUT <available>", nothing taken
            if not 0 <= available < -flying[2]:
                self.failure = f"{request} -> {reply!r}: available units out of range"
                return False
            self.soldout += 1
            return True
        self.failure = self.check_reply(kind, request, flying, reply)
        if self.failure is not None:
            return False
        self.acked[kind] += 1
        self.acked_total += 1
        if kind in ("set", "incr", "zincr"):
            model[kind] = flying[2]
        elif kind in STOCK_KINDS:
            self.stock_delta[product] += flying[2]
            if kind != "add":
                self.held[product] -= flying[2]
        if self.bgsave_every and self.acked_total % self.bgsave_every == 0:
            self.in_flight = ("bgsave", None, None)
            if self.call(connection, ("BGSAVE",)) is None:  # "in progress" errors are fine
                return False
            self.in_flight = None
        return True

    def check_reply(self, kind, request, flying, reply):
        """None if the reply is right for the request, else what is wrong with it."""
        if isinstance(reply, RespError) or reply is None:
            return f"{request} -> {reply!r}"
        if kind in ("set", "hot"):
            return None
        if kind == "incr" and int(reply) != flying[2]:
            return f"INCRBY returned {reply!r}, model says {flying[2]}"
        if kind == "zincr" and float(reply) != flying[2]:
            return f"ZINCRBY returned {reply!r}, model says {flying[2]}"
        if kind in STOCK_KINDS + ("get",) and int(reply) < max(0, flying[2] if flying else 0):
            return f"{request} -> {reply!r}: stock below zero (or below what was just added)"
        return None


def subset_sums(values):
    """Every sum of a subset of values (the in-flight deltas that may have applied)."""
    sums = {0}
    for value in values:
        sums |= {s + value for s in sums}
    return sums


class CrashTest(unittest.TestCase):
    def setUp(self):
        self.data_root = tempfile.mkdtemp(prefix="podium-crash-")
        self.data_dir = os.path.join(self.data_root, "data")
        self.server = None

    def tearDown(self):
        if self.server is not None:
            self.server.kill()
            self.server.cleanup()
        shutil.rmtree(self.data_root, ignore_errors=True)

    def start(self, extra):
        self.server = ServerProcess(["--fsync=always", f"--data_dir={self.data_dir}"] + extra)
        self.server.start()
        return RawConnection(self.server.port, timeout_s=10.0)

    def wait_for_load(self, cycle, clients):
        """Bounded wait until every client had a reply and each REQUIRED kind has its minimum."""
        def counts():
            return {name: sum(c.acked[k] for c in clients for k in kinds)
                    for name, kinds in REQUIRED.items()}

        deadline = time.monotonic() + LOAD_RUNNING_TIMEOUT_S
        while True:
            failures = [f"client {c.index}: {c.failure}" for c in clients if c.failure]
            self.assertFalse(failures, f"cycle {cycle}, before the kill: {failures}; server "
                                       f"log:\n{self.server.stderr_text()}")
            stopped = [c.index for c in clients if not c.is_alive()]
            self.assertFalse(stopped, f"cycle {cycle}: clients {stopped} stopped before the kill")
            if (all(c.acked_total > 0 for c in clients)
                    and min(counts().values()) >= CYCLE_MIN_ACKS):
                return
            if time.monotonic() >= deadline:
                self.fail(f"cycle {cycle}: after {LOAD_RUNNING_TIMEOUT_S} s the load had "
                          f"{counts()} acknowledged writes (wanted {CYCLE_MIN_ACKS} of each), "
                          f"replies per client {[c.acked_total for c in clients]}; server "
                          f"log:\n{self.server.stderr_text()}")
            time.sleep(POLL_INTERVAL_S)

    def recovery_report(self, cycle, connection):
        """(sequence of the snapshot loaded or None, WAL records replayed, last sequence)."""
        log = self.server.stderr_text()
        info = parse_info(resp_call(connection, "INFO", "persistence"))
        loaded = LOADED_SNAPSHOT.findall(log)
        replayed = REPLAYED.findall(log)
        self.assertEqual(len(replayed), 1, f"cycle {cycle}: recovery log:\n{log}")
        records, next_sequence = (int(v) for v in replayed[0])
        self.assertEqual(int(info["loading_wal_records"]), records,
                         f"cycle {cycle}: INFO and log disagree; log:\n{log}")
        snapshot_sequence = int(loaded[0][1]) if loaded else None
        return snapshot_sequence, records, next_sequence - 1

    def run_cycles(self, extra, bgsave_every):
        model = [{"set": 0, "incr": 0, "zincr": 0} for _ in range(CLIENTS)]
        stock = dict.fromkeys(PRODUCTS, STOCK_INITIAL)
        hot = 0
        rng = random.Random(2026)
        with self.start(extra) as connection:
            for product in PRODUCTS:
                self.assertEqual(resp_call(connection, "STOCK.SET", str(product),
                                           str(STOCK_INITIAL)), STOCK_INITIAL)
        totals = dict.fromkeys(KINDS + ("soldout", "soldout_cycles", "in_flight_applied"), 0)
        writes = len(PRODUCTS)  # acknowledged writes so far: every one is a WAL record
        recoveries = []         # (snapshot sequence or None, records replayed) per restart
        for cycle in range(CYCLES):
            killed = threading.Event()
            clients = [Client(i, self.server.port, model, killed, bgsave_every)
                       for i in range(CLIENTS)]
            for client in clients:
                client.start()
            self.wait_for_load(cycle, clients)
            time.sleep(rng.uniform(0, CRASH_DELAY_MAX_S))  # the crash point
            killed.set()
            self.server.process.send_signal(signal.SIGKILL)
            self.server.process.wait()
            for client in clients:
                client.join(timeout=30)
                self.assertFalse(client.is_alive(), "a client did not notice the kill")
            log = self.server.stderr_text()
            for client in clients:
                self.assertIsNone(client.failure, f"cycle {cycle}, client {client.index}; "
                                                  f"server log before the kill:\n{log}")
            self.server.cleanup()
            for kind in KINDS:
                totals[kind] += sum(client.acked[kind] for client in clients)
            cycle_soldout = sum(client.soldout for client in clients)
            totals["soldout"] += cycle_soldout
            totals["soldout_cycles"] += cycle_soldout > 0
            writes += sum(client.acked[kind] for client in clients for kind in WRITE_KINDS)

            connection = self.start(extra)
            with connection:
                snapshot_sequence, records, last_sequence = self.recovery_report(cycle,
                                                                                 connection)
                recoveries.append((snapshot_sequence, records))
                self.assertGreaterEqual(last_sequence, writes,
                                        f"cycle {cycle}: recovered up to sequence "
                                        f"{last_sequence}, but {writes} writes were acknowledged")
                if not bgsave_every:
                    self.assertIsNone(snapshot_sequence, f"cycle {cycle}: a snapshot was loaded")
                    self.assertEqual(records, last_sequence, f"cycle {cycle}")
                for client in clients:
                    self.check_client(cycle, client, connection, model[client.index])
                for product in PRODUCTS:
                    totals["in_flight_applied"] += self.check_stock(cycle, clients, connection,
                                                                    product, stock, log)
                hot_acked = sum(client.acked["hot"] for client in clients)
                hot_flying = sum(1 for c in clients if c.in_flight and c.in_flight[0] == "hot")
                hot_now = float(resp_call(connection, "ZSCORE", "board", "hot") or 0)
                self.assertTrue(hot + hot_acked <= hot_now <= hot + hot_acked + hot_flying,
                                f"cycle {cycle}: hot {hot} + {hot_acked} acked "
                                f"(+{hot_flying} in flight) recovered as {hot_now}")
                hot = hot_now
        # The stock did run out, again and again, and the load also put units back.
        self.assertGreaterEqual(totals["soldout_cycles"], CYCLES // 2,
                                f"SOLDOUT in too few cycles: {totals}")
        self.assertGreater(totals["add"], 0, f"no STOCK.ADD acknowledged: {totals}")
        self.assertGreater(totals["release"], 0, f"no STOCK.RELEASE acknowledged: {totals}")
        return totals, writes, recoveries

    def check_stock(self, cycle, clients, connection, product, stock, log):
        """Units = previous + acknowledged deltas + the deltas of some in-flight requests.

        Returns how many units the in-flight requests changed (their sum that applied).
        """
        acked = sum(client.stock_delta[product] for client in clients)
        flying = [c.in_flight[2] for c in clients
                  if c.in_flight and c.in_flight[0] in STOCK_KINDS and c.in_flight[1] == product]
        units = resp_call(connection, "STOCK.GET", str(product))
        self.assertIsInstance(units, int, f"cycle {cycle}: STOCK.GET {product} -> {units!r}")
        self.assertGreaterEqual(units, 0, f"cycle {cycle}: product {product} below zero")
        applied = units - (stock[product] + acked)
        self.assertIn(applied, subset_sums(flying),
                      f"cycle {cycle}: product {product} went from {stock[product]} to {units}; "
                      f"acknowledged changes {acked:+d}, in flight {flying}; server log before "
                      f"the kill:\n{log}")
        stock[product] = units
        return abs(applied)

    def check_client(self, cycle, client, connection, model):
        """Exact per-client cells: the acknowledged value, or the one in flight at the kill."""
        flying = client.in_flight
        read = {
            "set": lambda: int(resp_call(connection, "GET", f"s:{client.index}") or 0),
            "incr": lambda: int(resp_call(connection, "GET", f"c:{client.index}") or 0),
            "zincr": lambda: int(float(resp_call(connection, "ZSCORE", "board",
                                                 f"m{client.index}") or 0)),
        }
        for kind, reader in read.items():
            recovered = reader()
            allowed = {model[kind]}
            if flying is not None and flying[0] == kind:
                allowed.add(flying[2])
            self.assertIn(recovered, allowed,
                          f"cycle {cycle}, client {client.index}, {kind}: recovered {recovered}, "
                          f"acknowledged {model[kind]}, in flight {flying}")
            model[kind] = recovered

    def test_kill_under_load_keeps_every_acknowledged_write(self):
        totals, writes, recoveries = self.run_cycles([], bgsave_every=0)
        print(f"{CYCLES} kills, {writes} acknowledged writes checked; {totals}")

    def test_kill_under_load_with_snapshots_during_the_load(self):
        totals, writes, recoveries = self.run_cycles(["--snapshot_wal_bytes=65536"],
                                                     bgsave_every=50)
        from_snapshot = [(s, r) for s, r in recoveries if s and r > 0]
        print(f"{CYCLES} kills with snapshots, {writes} acknowledged writes checked; {totals}; "
              f"{len(from_snapshot)} restarts from a snapshot plus WAL records: {recoveries}")
        self.assertGreaterEqual(len(from_snapshot), SNAPSHOT_RECOVERIES_MIN,
                                f"too few restarts went through a snapshot (sequence > 0) plus "
                                f"WAL records after it; (snapshot sequence, records) per "
                                f"restart: {recoveries}")


if __name__ == "__main__":
    main()
