#!/usr/bin/python3
"""Rankings over the network, through redis-py, against the real server (docs/rankings.md).

The carry-over's exactness under concurrency is tested in-process (storage/ranking_test.cc),
where time can be moved; here: the commands' replies, the shop's rules, idempotency (also across
restarts: a clean one, a SIGKILL recovered from the WAL alone, a SIGKILL after SAVE recovered from
the snapshot), the order and like events the order side records, and --ranking-tz.
"""

import math
import os
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import redis  # noqa: E402  (Debian's python3-redis)

import podium_fixture as fx  # noqa: E402


def now_ms():
    return int(time.time() * 1000)


def day_name(ms, tz="UTC"):
    os.environ["TZ"] = tz
    time.tzset()
    return time.strftime("%Y%m%d", time.localtime(ms / 1000))


class RankingsTest(fx.ServerTestCase):
    def setUp(self):
        self.db = redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=10)
        self.db.response_callbacks = {}
        self.ns = f"ns-{self._testMethodName}"
        self.today = day_name(now_ms())

    def tearDown(self):
        self.db.close()
        self.assert_server_alive()

    def call(self, *args):
        try:
            return self.db.execute_command(*args)
        except redis.ResponseError as error:
            return f"error: {error}"

    def event(self, event_id, kind, product, *amounts, ts=None):
        return self.call("RANK.EVENT", self.ns, event_id, kind, product, ts or now_ms(), *amounts)

    def top(self, offset=0, count=100, window=None):
        flat = self.call("RANK.TOP", self.ns, window or self.today, offset, count)
        return [(int(flat[i]), float(flat[i + 1])) for i in range(0, len(flat), 2)]

    def test_one_order_outranks_three_likes(self):
        self.assertEqual(self.event("o1", "ORDER", 1, 1, 1000), 1)
        for i in range(3):
            self.assertEqual(self.event(f"l{i}", "LIKE", 2), 1)
        top = self.top()
        self.assertEqual([product for product, _ in top], [1, 2])
        self.assertAlmostEqual(top[0][1], 0.7 * math.log1p(1000), places=12)
        self.assertAlmostEqual(top[1][1], 0.6, places=12)

    def test_a_repeated_event_id_counts_once(self):
        self.assertEqual(self.event("e", "VIEW", 5), 1)
        self.assertEqual(self.event("e", "VIEW", 5), 0)
        self.assertEqual(self.event("e", "LIKE", 6), 0)  # the id, not the content, decides
        self.assertEqual(self.call("RANK.CARD", self.ns, self.today), 1)
        signals = self.call("RANK.SIGNALS", self.ns, self.today, 5)
        self.assertEqual(signals[:4], [b"views", 1, b"likes", 0])

    def test_batch_applies_each_event_and_reports_each(self):
        ts = now_ms()
        reply = self.call("RANK.EVENTS", self.ns, 3, "b1", "VIEW", 7, ts, 0, 0,
                          "b1", "VIEW", 7, ts, 0, 0, "b2", "ORDER", 8, ts + 3_600_000, 2, 10)
        self.assertEqual(reply[:2], [1, 0])
        self.assertIsInstance(reply[2], redis.ResponseError)  # the future one alone fails
        self.assertIn("future", str(reply[2]))
        self.assertEqual(self.call("RANK.CARD", self.ns, self.today), 1)
        bad = self.call("RANK.EVENTS", self.ns, 1, "b3", "VIEW", 7, ts, 1, 0)
        self.assertTrue(bad.startswith("error:"), bad)
        self.assertEqual(self.call("RANK.EVENTS", self.ns, 1, "b3", "VIEW", 7, ts, 0, 0), [1])

    def test_paging_and_ranks(self):
        ts = now_ms()
        args = []
        for product in range(1, 31):
            args += [f"p{product}", "ORDER", product, ts, 1, product * 100]
        self.assertEqual(self.call("RANK.EVENTS", self.ns, 30, *args), [1] * 30)
        first = self.top(0, 20)
        second = self.top(20, 20)
        self.assertEqual([p for p, _ in first + second], list(range(30, 0, -1)))
        self.assertEqual(self.call("RANK.OF", self.ns, self.today, 30)[0], 1)
        many = self.call("RANK.OFMANY", self.ns, self.today, 1, 29, 999)
        self.assertEqual([many[0][0], many[1][0], many[2]], [30, 2, None])
        self.assertIsNone(self.call("RANK.OF", self.ns, self.today, 999))
        self.assertEqual(self.top(window="20200101"), [])  # no such window: empty
        for bad in (("RANK.TOP", self.ns, self.today, 0, 101),
                    ("RANK.TOP", self.ns, "2026-11-22", 0, 10),
                    ("RANK.TOP", self.ns, self.today, -1, 10)):
            self.assertTrue(str(self.call(*bad)).startswith("error:"), bad)

    def test_weights_show_change_and_rescore(self):
        weights = self.call("RANK.WEIGHTS", self.ns)
        self.assertEqual(weights, [b"view", b"0.1", b"like", b"0.2", b"order", b"0.7",
                                   b"carry", b"0.1", b"rescoring", 0])
        self.assertEqual(self.event("v", "VIEW", 1), 1)
        self.assertEqual(self.event("l", "LIKE", 2), 1)
        self.assertEqual(self.top()[0][0], 2)
        self.assertEqual(self.call("RANK.WEIGHTS", self.ns, 5, 1, 1, 0.2)[1], b"5")
        # The windows are re-scored in the background, a part at a time.
        fx.wait_until(lambda: self.call("RANK.WEIGHTS", self.ns)[9] == 0, 10,
                      "the re-score to finish")
        self.assertEqual(self.top(), [(1, 5.0), (2, 1.0)])
        signals = dict(zip(*[iter(self.call("RANK.SIGNALS", self.ns, self.today, 1))] * 2))
        self.assertEqual(signals[b"weights"], [b"5", b"1", b"1", b"0.2"])
        self.assertTrue(self.call("RANK.WEIGHTS", self.ns, 1, 1, 1, 1).startswith("error:"))
        self.assertEqual(self.call("RANK.WEIGHTS", self.ns)[1], b"5")

    def test_bad_events_change_nothing(self):
        for args in (("x1", "VIEW", 1, now_ms() + 3_600_000),        # future
                     ("x2", "VIEW", 1, now_ms() - 3 * 86_400_000),   # older than retention
                     ("x3", "ORDER", 1, now_ms()),                   # no qty, unit_price
                     ("x4", "VIEW", 1, now_ms(), 1, 1),              # amounts on a view
                     ("x5", "BUY", 1, now_ms()), ("x6", "VIEW", -1, now_ms())):
            reply = self.call("RANK.EVENT", self.ns, *args)
            self.assertTrue(str(reply).startswith("error:"), (args, reply))
        self.assertEqual(self.call("RANK.CARD", self.ns, self.today), 0)
        self.assertEqual(self.event("x1", "VIEW", 1), 1)  # refused ids were not remembered

    def test_order_confirm_and_likes_record_ranking_events(self):
        product = 7_000_001
        self.assertEqual(self.call("BRAND.PUT", 70, "brand"), b"OK")
        self.assertEqual(self.call("PRODUCT.PUT", product, 70, 2500, "ranked"), b"OK")
        self.assertEqual(self.call("STOCK.SET", product, 10), 10)
        placed = self.call("ORDER.PLACE", "rank-order", 1, 60_000, 1, product, 2)
        self.assertFalse(str(placed).startswith("error:"), placed)
        before = self.call("RANK.SIGNALS", "all", self.today, product)
        self.call("ORDER.CONFIRM", "rank-order")
        self.assertEqual(self.call("LIKE.ADD", 1, product), 1)
        signals = dict(zip(*[iter(self.call("RANK.SIGNALS", "all", self.today, product))] * 2))
        self.assertIsNone(before)
        self.assertAlmostEqual(float(signals[b"order_sum"]), math.log1p(2 * 2500), places=9)
        self.assertEqual(signals[b"likes"], 1)
        self.assertEqual(self.call("LIKE.DEL", 1, product), 1)
        signals = dict(zip(*[iter(self.call("RANK.SIGNALS", "all", self.today, product))] * 2))
        self.assertEqual(signals[b"likes"], 0)


DAY_MS = 86_400_000


class DuplicateAcrossRestartTest(unittest.TestCase):
    """A duplicate event id counts once, also across a restart (rankings.md, "Idempotent events"
    and "Durability": after a restart, event ids are as they were). Its own server on its own
    data directory, with --fsync=always (an acknowledged event is in the log before its reply,
    so a SIGKILL loses none; operations.md) and --snapshot_wal_bytes=0 (no snapshot but the ones
    a test asks for, or the one a clean shutdown writes)."""

    NS = "dup"
    P, Q = 101, 4_000_000_002  # Q past 2^31: product ids are int64

    def setUp(self):
        self.root = tempfile.mkdtemp(prefix="podium-rank-dup-")
        self.data_dir = os.path.join(self.root, "data")
        self.args = ["--fsync=always", "--snapshot_wal_bytes=0", f"--data_dir={self.data_dir}"]
        self.server = None
        self.db = None

    def tearDown(self):
        fx.discard_server(self.server, self.db, self.root)

    def start(self):
        """Starts the server on the data directory and waits until it answers PING."""
        self.server = fx.ServerProcess(self.args).start()
        self.db = redis.Redis(host="127.0.0.1", port=self.server.port, socket_timeout=10)
        self.db.response_callbacks = {}
        fx.wait_serving(self.server.port)

    def stop_cleanly(self):
        self.db.close()
        self.db = None
        server, self.server = self.server, None
        server.stop_and_check()  # SIGTERM, exit status 0 (it writes a snapshot at shutdown)

    def kill(self):
        self.db.close()
        self.db = None
        server, self.server = self.server, None
        server.kill()  # SIGKILL: no shutdown snapshot
        server.cleanup()

    call = RankingsTest.call  # a reply, or "error: ..." in its place

    def info(self):
        return fx.info_fields(self.server.port)

    def snapshots(self):
        return sorted(name for name in os.listdir(self.data_dir) if name.endswith(".snap"))

    def events(self, ts):
        """The events sent before the restart, as RANK.EVENT arguments after the namespace."""
        return [("v1", "VIEW", self.P, ts), ("l1", "LIKE", self.P, ts),
                ("o1", "ORDER", self.P, ts, 2, 1500), ("v2", "VIEW", self.Q, ts),
                ("l2", "LIKE", self.Q, ts)]

    def state(self, day, yesterday):
        """What the events decided, raw: signals, ranks, board, size; yesterday's board."""
        return {
            "signals P": self.call("RANK.SIGNALS", self.NS, day, self.P),
            "signals Q": self.call("RANK.SIGNALS", self.NS, day, self.Q),
            "of P": self.call("RANK.OF", self.NS, day, self.P),
            "of Q": self.call("RANK.OF", self.NS, day, self.Q),
            "ofmany": self.call("RANK.OFMANY", self.NS, day, self.P, self.Q, 999),
            "top": self.call("RANK.TOP", self.NS, day, 0, 100),
            "card": self.call("RANK.CARD", self.NS, day),
            "card yesterday": self.call("RANK.CARD", self.NS, yesterday),
            "signals P yesterday": self.call("RANK.SIGNALS", self.NS, yesterday, self.P),
        }

    def check_duplicates_across_restart(self, restart):
        """Events, then `restart()`, then the same ids again: 0 each, nothing changes."""
        self.start()
        ts = now_ms()  # today's window; ts - DAY_MS names yesterday's, retained too
        day, yesterday = day_name(ts), day_name(ts - DAY_MS)
        events = self.events(ts)
        for event in events:
            self.assertEqual(self.call("RANK.EVENT", self.NS, *event), 1, event)
        batch = ["b1", "VIEW", self.Q, ts, 0, 0]
        self.assertEqual(self.call("RANK.EVENTS", self.NS, 1, *batch), [1])
        self.assertEqual(self.call("RANK.EVENT", self.NS, *events[0]), 0, "a duplicate, same run")

        before = self.state(day, yesterday)
        signals = dict(zip(*[iter(before["signals P"])] * 2))
        self.assertEqual((signals[b"views"], signals[b"likes"]), (1, 1))
        self.assertAlmostEqual(float(signals[b"order_sum"]), math.log1p(2 * 1500), places=9)
        self.assertAlmostEqual(float(signals[b"score"]),
                               0.1 + 0.2 + 0.7 * math.log1p(3000), places=9)
        signals = dict(zip(*[iter(before["signals Q"])] * 2))
        self.assertEqual((signals[b"views"], signals[b"likes"]), (2, 1))
        self.assertEqual(before["of P"][0], 1)
        self.assertEqual(before["of Q"][0], 2)
        self.assertEqual(before["card"], 2)
        self.assertEqual([int(x) for x in before["top"][::2]], [self.P, self.Q])
        self.assertEqual(before["ofmany"][:2], [before["of P"], before["of Q"]])
        self.assertIsNone(before["ofmany"][2])
        self.assertEqual(before["card yesterday"], 0)
        self.assertIsNone(before["signals P yesterday"])

        restart()

        # The same ids, with the same contents, one at a time and in a batch: 0, nothing counted.
        for event in events:
            self.assertEqual(self.call("RANK.EVENT", self.NS, *event), 0, event)
        self.assertEqual(self.call("RANK.EVENT", self.NS, *batch[:4]), 0, batch)
        batch_args = [field for event in events
                      for field in (event + (0, 0) if len(event) == 4 else event)]
        self.assertEqual(self.call("RANK.EVENTS", self.NS, len(events), *batch_args),
                         [0] * len(events))
        # The id, not the content, decides, whichever window the redelivery names (yesterday's
        # window is retained too: today and yesterday).
        self.assertEqual(self.call("RANK.EVENT", self.NS, "v1", "LIKE", self.Q, ts), 0)
        self.assertEqual(self.call("RANK.EVENT", self.NS, "v1", "VIEW", self.P, ts - DAY_MS), 0)
        self.assertEqual(self.state(day, yesterday), before)

        # A new id still counts.
        self.assertEqual(self.call("RANK.EVENT", self.NS, "v3", "VIEW", self.P, ts), 1)
        self.assertEqual(self.call("RANK.EVENT", self.NS, "v3", "VIEW", self.P, ts), 0)
        after = dict(zip(*[iter(self.call("RANK.SIGNALS", self.NS, day, self.P))] * 2))
        old = dict(zip(*[iter(before["signals P"])] * 2))
        self.assertEqual(after[b"views"], old[b"views"] + 1)
        self.assertEqual(after[b"likes"], old[b"likes"])
        self.assertAlmostEqual(float(after[b"score"]), float(old[b"score"]) + 0.1, places=9)
        self.assertEqual(self.call("RANK.CARD", self.NS, day), 2)
        # And it too is remembered across a further restart, here a clean one.
        self.stop_cleanly()
        self.start()
        self.assertEqual(self.call("RANK.EVENT", self.NS, "v3", "VIEW", self.P, ts), 0)
        self.assertEqual(self.call("RANK.SIGNALS", self.NS, day, self.P)[1], after[b"views"])

    def test_a_duplicate_event_id_counts_once_across_a_clean_restart(self):
        def restart():
            self.stop_cleanly()
            self.start()

        self.check_duplicates_across_restart(restart)

    def test_a_duplicate_event_id_counts_once_across_a_sigkill_replaying_the_wal(self):
        def restart():
            logged = int(self.info()["wal_last_sequence"])
            self.assertGreaterEqual(logged, 6, "one record per event call")
            self.kill()
            self.assertEqual(self.snapshots(), [], "no snapshot: recovery replays the WAL alone")
            self.start()
            self.assertGreaterEqual(int(self.info()["loading_wal_records"]), logged)

        self.check_duplicates_across_restart(restart)

    def test_a_duplicate_event_id_counts_once_across_a_sigkill_after_save(self):
        def restart():
            logged = int(self.info()["wal_last_sequence"])
            self.assertEqual(self.call("SAVE"), b"OK")
            # The snapshot covers every record of the events: replay skips records <= its
            # sequence, so the ids can come back from the snapshot only.
            self.assertGreaterEqual(int(self.info()["last_snapshot_sequence"]), logged)
            self.kill()
            self.assertEqual(len(self.snapshots()), 1)
            self.start()
            self.assertIn("recovery: loaded", self.server.stderr_text())

        self.check_duplicates_across_restart(restart)


class TimeZoneTest(unittest.TestCase):
    def test_windows_follow_the_ranking_time_zone(self):
        with fx.running_server(["--data_dir=", "--ranking-tz=Asia/Seoul"]) as server:
            client = redis.Redis(host="127.0.0.1", port=server.port, socket_timeout=10)
            # 23:30 UTC is 08:30 the next day in Seoul.
            ts = (now_ms() // 86_400_000) * 86_400_000 - 30 * 60 * 1000
            client.execute_command("RANK.EVENT", "tz", "e", "VIEW", 1, ts)
            seoul = day_name(ts, "Asia/Seoul")
            self.assertNotEqual(seoul, day_name(ts, "UTC"))
            self.assertEqual(client.execute_command("RANK.CARD", "tz", seoul), 1)
            client.close()

    def test_an_unknown_time_zone_refuses_to_start(self):
        # A missing name, a directory of zones, and a file that is not a zone.
        for zone in ("Mars/Olympus", "Asia", "../../../etc/hostname", "/etc/hostname"):
            result = subprocess.run([fx.server_path(), f"--port={fx.free_port()}", "--data_dir=",
                                     f"--ranking-tz={zone}"], capture_output=True, text=True,
                                    timeout=30)
            self.assertEqual(result.returncode, 2, zone)
            self.assertIn("unknown time zone", result.stderr, zone)


if __name__ == "__main__":
    fx.main()
