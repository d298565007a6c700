"""Crash test: podium-server --fsync always, killed with SIGKILL under load, must keep every
acknowledged write.

Each cycle starts the real server on one data directory, runs CLIENTS threads (each with its own
connection) doing acknowledged writes for a random time, kills the server with SIGKILL, restarts
it and checks the recovered state against a model:

- per-client keys (a SET of an increasing number, an INCRBY counter, a ZINCRBY on the client's
  own member): the recovered value is exactly the last acknowledged one, or the one the client's
  single request in flight at the kill would have made (it may have become durable before the
  reply was lost);
- shared cells (one stock counter every client reserves from, one sorted-set member every client
  increments): recovered = model + k with 0 <= k <= requests in flight at the kill;
- the stock counter is never below zero, and a reservation never succeeds past it.

The recovered values then become the model of the next cycle. The second test does the same with
snapshots taken during the load (BGSAVE every few requests, and a small --snapshot_wal_bytes so
the server also takes them by itself), so recovery goes through snapshot + WAL.
"""

import os
import random
import shutil
import signal
import tempfile
import threading
import time
import unittest

from podium_fixture import (RawConnection, RespError, ServerProcess, main, resp_call)

CYCLES = 20
CLIENTS = 6
STOCK_PRODUCT = 4242
STOCK_INITIAL = 400_000  # more than the load can take in a cycle: reservations mostly succeed
LOAD_SECONDS_MIN = 0.2
LOAD_SECONDS_MAX = 0.8


class Client(threading.Thread):
    """One connection doing acknowledged writes until the server dies."""

    def __init__(self, index, port, model, bgsave_every=0):
        super().__init__(daemon=True)
        self.index = index
        self.port = port
        self.model = model
        self.bgsave_every = bgsave_every
        self.rng = random.Random(index * 7919 + int(time.time()))
        # What this client saw acknowledged in this cycle, and what was in flight at the kill.
        self.acked_reserved = 0
        self.acked_hot = 0
        self.in_flight = None  # (kind, value it would have made)
        self.requests = 0
        self.failure = None

    def run(self):
        try:
            connection = RawConnection(self.port, timeout_s=10.0)
        except OSError:
            return
        model = self.model[self.index]
        while True:
            kind = self.rng.choice(("set", "incr", "zincr", "reserve", "hot"))
            if kind == "set":
                value = model["set"] + 1
                request = ("SET", f"s:{self.index}", str(value))
            elif kind == "incr":
                value = model["incr"] + 3
                request = ("INCRBY", f"c:{self.index}", "3")
            elif kind == "zincr":
                value = model["zincr"] + 2
                request = ("ZINCRBY", "board", "2", f"m{self.index}")
            elif kind == "reserve":
                value = 1
                request = ("STOCK.RESERVE", str(STOCK_PRODUCT), "1")
            else:
                value = 1
                request = ("ZINCRBY", "board", "1", "hot")
            self.in_flight = (kind, value)
            try:
                reply = resp_call(connection, *request, timeout_s=10.0)
            except Exception:  # the server was killed: the request is in flight forever
                connection.close()
                return
            self.in_flight = None
            self.requests += 1
            if isinstance(reply, RespError):
                if kind == "reserve" and reply.startswith("SOLDOUT"):
                    continue
                self.failure = f"{request} -> {reply!r}"
                return
            if kind == "set":
                model["set"] = value
            elif kind == "incr":
                if int(reply) != value:
                    self.failure = f"INCRBY returned {reply!r}, model says {value}"
                    return
                model["incr"] = value
            elif kind == "zincr":
                if float(reply) != value:
                    self.failure = f"ZINCRBY returned {reply!r}, model says {value}"
                    return
                model["zincr"] = value
            elif kind == "reserve":
                if int(reply) < 0:
                    self.failure = f"reservation left {reply!r} units"
                    return
                self.acked_reserved += 1
            else:
                self.acked_hot += 1
            if self.bgsave_every and self.requests % self.bgsave_every == 0:
                try:
                    resp_call(connection, "BGSAVE", timeout_s=10.0)
                except Exception:
                    connection.close()
                    return


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

    def run_cycles(self, extra, bgsave_every):
        model = [{"set": 0, "incr": 0, "zincr": 0} for _ in range(CLIENTS)]
        stock = STOCK_INITIAL
        hot = 0
        rng = random.Random(2026)
        with self.start(extra) as connection:
            self.assertEqual(resp_call(connection, "STOCK.SET", str(STOCK_PRODUCT), str(stock)),
                             stock)
        acknowledged_total = 0
        for cycle in range(CYCLES):
            clients = [Client(i, self.server.port, model, bgsave_every) for i in range(CLIENTS)]
            for client in clients:
                client.start()
            time.sleep(rng.uniform(LOAD_SECONDS_MIN, LOAD_SECONDS_MAX))  # the crash point
            self.server.process.send_signal(signal.SIGKILL)
            self.server.process.wait()
            for client in clients:
                client.join(timeout=30)
                self.assertFalse(client.is_alive(), "a client did not notice the kill")
                self.assertIsNone(client.failure, f"cycle {cycle}, client {client.index}")
            log = self.server.stderr_text()
            self.server.cleanup()
            acknowledged_total += sum(client.requests for client in clients)

            connection = self.start(extra)
            with connection:
                for client in clients:
                    self.check_client(cycle, client, connection, model[client.index])
                reserved_acked = sum(client.acked_reserved for client in clients)
                reserving = sum(1 for c in clients if c.in_flight and c.in_flight[0] == "reserve")
                units = resp_call(connection, "STOCK.GET", str(STOCK_PRODUCT))
                self.assertGreaterEqual(units, 0, "stock below zero")
                taken = stock - units
                self.assertTrue(reserved_acked <= taken <= reserved_acked + reserving,
                                f"cycle {cycle}: stock went from {stock} to {units}, "
                                f"{reserved_acked} reservations acknowledged, {reserving} in "
                                f"flight; server log before the kill:\n{log}")
                stock = units
                hot_acked = sum(client.acked_hot for client in clients)
                hot_flying = sum(1 for c in clients if c.in_flight and c.in_flight[0] == "hot")
                hot_now = float(resp_call(connection, "ZSCORE", "board", "hot") or 0)
                self.assertTrue(hot + hot_acked <= hot_now <= hot + hot_acked + hot_flying,
                                f"cycle {cycle}: hot {hot} + {hot_acked} acked "
                                f"(+{hot_flying} in flight) recovered as {hot_now}")
                hot = hot_now
        self.assertGreater(acknowledged_total, CYCLES * CLIENTS, "the load hardly ran")
        return acknowledged_total

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
                allowed.add(flying[1])
            self.assertIn(recovered, allowed,
                          f"cycle {cycle}, client {client.index}, {kind}: recovered {recovered}, "
                          f"acknowledged {model[kind]}, in flight {flying}")
            model[kind] = recovered

    def test_kill_under_load_keeps_every_acknowledged_write(self):
        total = self.run_cycles([], bgsave_every=0)
        print(f"{CYCLES} kills, {total} acknowledged requests checked")

    def test_kill_under_load_with_snapshots_during_the_load(self):
        total = self.run_cycles(["--snapshot_wal_bytes=65536"], bgsave_every=50)
        print(f"{CYCLES} kills with snapshots, {total} acknowledged requests checked")
        with RawConnection(self.server.port) as connection:
            info = resp_call(connection, "INFO", "persistence").decode()
        snapshot_files = [n for n in os.listdir(self.data_dir) if n.endswith(".snap")]
        self.assertTrue(snapshot_files, f"no snapshot was ever written; INFO:\n{info}")


if __name__ == "__main__":
    main()
