#!/usr/bin/python3
"""Weekly and monthly boards: podium-batch, RANK.SCAN and RANK.PUBLISH against the real server.

Written from the documentation alone: docs/rankings.md ("Raw signals, after a board expires",
"Weekly and monthly boards: podium-batch"), the RANK.* rows of docs/protocol.md "Commands" and
../shared/domain.md "Rankings". The server runs with --ranking-retention-days=70 and
--ranking-tz=UTC, so that events can be sent for every day of the previous calendar month and
of last ISO week (all in the past). Each test has a namespace of its own.

- The monthly and weekly boards equal a reference computed here from the events sent (summed
  raw signals of the period's days, weights read with RANK.WEIGHTS, no carry-over), while big
  events on the days just outside the period must not count; podium-batch's JSON line agrees.
- A re-run gives the same board bit for bit; a weight change re-ranks it (views only: ties
  broken by the higher product id).
- A reader polling RANK.TOP while the batch publishes sees the old board or the new one, never
  anything else.
- RANK.SCAN yields every product of a day exactly once with its signals, also while events
  arrive; RANK.PUBLISH replaces a board in one step and refuses bad input changing nothing.
- podium-batch fails with exit 1 (server unreachable, a month no longer kept) or 2 (bad
  command line); a published board survives a restart.
- Against a server started with --requirepass, a run without --server-pass (or with a wrong
  one) exits 1 naming the authentication on stderr and publishes nothing; with it the board is
  published (read back over an authenticated connection).
- --every 1s keeps running: one JSON line per run on a pipe, each run for the fixed --date's
  period, the events sent between runs counted by a later run; failed runs are reported on
  stderr and the next one runs anyway; SIGTERM ends it.
- On a terminal (pseudo-terminals for stdout and stderr) it draws a progress bar on stderr and
  prints no JSON line.

The batch binary comes from $PODIUM_BATCH, the server from $PODIUM_SERVER (or --server PATH).
"""

import collections
import datetime
import errno
import json
import math
import os
import pty
import queue
import random
import select
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import redis  # noqa: E402  (Debian's python3-redis)

import podium_fixture as fx  # noqa: E402

UTC = datetime.timezone.utc
DAY_MS = 86_400_000
SERVER_ARGS = ("--ranking-retention-days=70", "--ranking-tz=UTC")
BATCH_TIMEOUT_S = 60
READY_TIMEOUT_S = 15.0
EVENTS_PER_CALL = 250
PRODUCT_BASE = 4_000_000_000  # past 2^31: product ids are int64
SCORE_REL_TOL = 1e-9
NEAR_TIE_REL = 1e-7           # reference scores closer than this are separated by a view
PART_SLACK = 100              # products a scan reply may hold past its count (a whole part)


def batch_path():
    path = os.environ.get("PODIUM_BATCH", "")
    if not path or not os.access(path, os.X_OK):
        raise RuntimeError("set PODIUM_BATCH=/path/to/podium-batch (CTest does)")
    return path


def now_ms():
    return int(time.time() * 1000)


def today_utc():
    return datetime.datetime.now(UTC).date()


def day_name(day):
    return day.strftime("%Y%m%d")


def day_start_ms(day):
    return int(datetime.datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp() * 1000)


def day_of(ts_ms):
    return datetime.datetime.fromtimestamp(ts_ms / 1000, UTC).date()


def in_past(day, offset_ms):
    """A time of `day`, offset_ms after its start, but never later than a second ago."""
    start = day_start_ms(day)
    return max(start, min(start + offset_ms, now_ms() - 1000))


def previous_month():
    """(first day, last day, days) of the calendar month before today's (UTC)."""
    last = today_utc().replace(day=1) - datetime.timedelta(days=1)
    first = last.replace(day=1)
    return first, last, [first + datetime.timedelta(days=k) for k in range(last.day)]


def month_name(day):
    return day.strftime("%Y%m")


def last_iso_week():
    """(Monday, Sunday, days) of the ISO week before today's."""
    today = today_utc()
    monday = today - datetime.timedelta(days=today.weekday() + 7)
    return monday, monday + datetime.timedelta(days=6), [monday + datetime.timedelta(days=k)
                                                         for k in range(7)]


def week_name(day):
    iso = day.isocalendar()
    return f"{iso[0]}W{iso[1]:02d}"


class Error(str):
    """An error reply: redis-py's ResponseError text."""


def call(db, *args):
    try:
        return db.execute_command(*args)
    except redis.ResponseError as error:
        return Error(str(error))


def connect(port, password=None):
    db = redis.Redis(host="127.0.0.1", port=port, password=password, socket_timeout=30)
    db.response_callbacks = {}
    return db


def pairs(flat):
    """RANK.TOP's flat reply as [(product, score)]."""
    return [(int(flat[i]), float(flat[i + 1])) for i in range(0, len(flat), 2)]


def weights_of(db, ns):
    """The weights in force, once any re-score with them is done (RANK.WEIGHTS's rescoring)."""
    fx.wait_until(lambda: call(db, "RANK.WEIGHTS", ns)[-1] == 0, 10, "the re-score to finish")
    reply = call(db, "RANK.WEIGHTS", ns)
    return {reply[i].decode(): float(reply[i + 1]) for i in range(0, 8, 2)}


class Scenario:
    """Events of one namespace: added here, sent with RANK.EVENTS, summed for the reference."""

    def __init__(self, test, ns, seed):
        self.test, self.ns, self.rng = test, ns, random.Random(seed)
        self.events = []  # (event id, kind, product, ts_ms, qty, unit_price)
        self.sent = 0

    def add(self, kind, product, day, qty=0, price=0, offset_ms=None):
        if offset_ms is None:
            offset_ms = self.rng.randrange(DAY_MS)
        ts = in_past(day, offset_ms)
        self.test.assertEqual(day_of(ts), day)
        self.events.append((f"{self.ns}-e{len(self.events)}", kind, product, ts, qty, price))

    def random_events(self, products, days, count):
        for _ in range(count):
            kind = self.rng.choices(("VIEW", "LIKE", "UNLIKE", "ORDER"), (5, 3, 1, 2))[0]
            qty, price = ((self.rng.randint(1, 5), self.rng.randint(100, 200_000))
                          if kind == "ORDER" else (0, 0))
            self.add(kind, self.rng.choice(products), self.rng.choice(days), qty, price)
        # One order of its own per product: every product has a positive signal in the period,
        # and near-equal scores are unlikely.
        for index, product in enumerate(products):
            self.add("ORDER", product, self.rng.choice(days), 1, 1000 + 997 * index)

    def flush(self):
        """Sends the events not sent yet, in a shuffled order; each must apply (1)."""
        pending = self.events[self.sent:]
        self.rng.shuffle(pending)
        for start in range(0, len(pending), EVENTS_PER_CALL):
            chunk = pending[start:start + EVENTS_PER_CALL]
            args = [field for event in chunk for field in event]
            reply = call(self.test.db, "RANK.EVENTS", self.ns, len(chunk), *args)
            self.test.assertEqual(reply, [1] * len(chunk), reply)
        self.sent = len(self.events)

    def signals(self, days):
        """Per product of the events on `days`: [views, net likes, order_sum]."""
        days = set(days)
        sums = collections.defaultdict(lambda: [0, 0, 0.0])
        for _, kind, product, ts, qty, price in self.events:
            if day_of(ts) not in days:
                continue
            if kind == "VIEW":
                sums[product][0] += 1
            elif kind in ("LIKE", "UNLIKE"):
                sums[product][1] += 1 if kind == "LIKE" else -1
            else:
                sums[product][2] += math.log1p(qty * price)
        return sums

    def reference(self, days, weights):
        """(products in board order, scores) of the period's summed signals."""
        scores = {product: weights["view"] * views + weights["like"] * likes
                  + weights["order"] * order_sum
                  for product, (views, likes, order_sum) in self.signals(days).items()}
        return sorted(scores, key=lambda p: (-scores[p], -p)), scores

    def separate(self, days, weights, top):
        """Adds views until no two of the first top + 1 reference scores are nearly equal."""
        for _ in range(500):  # a bound: each round adds one view
            ranked, scores = self.reference(days, weights)
            clash = next((ranked[i] for i in range(min(len(ranked), top + 1) - 1)
                          if math.isclose(scores[ranked[i]], scores[ranked[i + 1]],
                                          rel_tol=NEAR_TIE_REL, abs_tol=1e-9)), None)
            if clash is None:
                return
            self.add("VIEW", clash, days[0], offset_ms=43_200_000)
        raise AssertionError("could not separate the reference scores")


class BatchHelpers:
    """For a unittest.TestCase with self.db (a connection), self.ns and self.port."""

    def call(self, *args):
        return call(self.db, *args)

    def run_batch(self, *args, port=None):
        """podium-batch with the args, --server and TZ=UTC: (exit status, stdout, stderr)."""
        command = [batch_path(), *args, "--server", f"127.0.0.1:{port or self.port}"]
        result = subprocess.run(command, stdin=subprocess.DEVNULL, capture_output=True,
                                text=True, timeout=BATCH_TIMEOUT_S,
                                env=dict(os.environ, TZ="UTC"))
        return result.returncode, result.stdout, result.stderr

    def batch_ok(self, mode, date, *extra, port=None):
        """Runs a batch that must succeed; its one JSON line as a dict."""
        status, out, err = self.run_batch(mode, "--date", date.isoformat(), *extra, port=port)
        self.assertEqual(status, 0, f"podium-batch {mode} failed: {err}")
        lines = out.splitlines()
        self.assertEqual(len(lines), 1, out)
        report = json.loads(lines[0])
        self.assertIsInstance(report.get("seconds"), (int, float), report)
        return report

    def check_report(self, report, weights, **expected):
        for field, value in expected.items():
            self.assertEqual(report.get(field), value, f"{field} in {report}")
        self.assertEqual({k: float(v) for k, v in report["weights"].items()},
                         {k: weights[k] for k in ("view", "like", "order")})

    def wait_ready(self, days, ns=None):
        """Waits until no window of `days` is being built (RANK.CARD answers, not BUSY)."""
        for day in days:
            fx.wait_until(lambda day=day: isinstance(
                self.call("RANK.CARD", ns or self.ns, day_name(day)), int),
                READY_TIMEOUT_S, f"the window {day_name(day)} to be built")

    def assert_board(self, flat, ranked, scores):
        got = pairs(flat)
        self.assertEqual([p for p, _ in got], ranked)
        for product, score in got:
            self.assertTrue(math.isclose(score, scores[product], rel_tol=SCORE_REL_TOL,
                                         abs_tol=1e-12), (product, score, scores[product]))

    def month_scenario(self, seed, product_count=60, event_count=700):
        """Random events on several days of the previous month (its first and last included)
        and big ones on the days just outside it, not sent yet: (scenario, products, days)."""
        first, last, days = previous_month()
        scenario = Scenario(self, self.ns, seed)
        products = [PRODUCT_BASE + 7919 * i for i in range(product_count)]
        chosen = sorted({first, last, *scenario.rng.sample(days[1:-1], min(6, len(days) - 2))})
        scenario.random_events(products, chosen, event_count)
        outside = (first - datetime.timedelta(days=1), last + datetime.timedelta(days=1))
        self.outside_events(scenario, products, outside)
        return scenario, products, days

    def week_scenario(self, seed, products, event_count):
        """Random events over last ISO week, sent, and the days ready to read:
        (scenario, days, weights)."""
        _, sunday, days = last_iso_week()
        scenario = Scenario(self, self.ns, seed)
        scenario.random_events(products, days, event_count)
        weights = weights_of(self.db, self.ns)
        scenario.separate(days, weights, 100)
        scenario.flush()
        self.wait_ready(days + [sunday + datetime.timedelta(days=1)])
        return scenario, days, weights

    def outside_events(self, scenario, products, outside_days):
        # Products of the period (so they add no product to it), and enough to top any board.
        for day in outside_days:
            for product in products[:3]:
                scenario.add("ORDER", product, day, 1000, 10 ** 9)
                for _ in range(5):
                    scenario.add("VIEW", product, day)


class BatchTestCase(BatchHelpers, fx.ServerTestCase):
    SERVER_ARGS = SERVER_ARGS
    maxDiff = None

    def setUp(self):
        self.db = connect(self.port)
        self.ns = f"ns-{self._testMethodName}"

    def tearDown(self):
        self.db.close()
        self.assert_server_alive()


class PeriodBoardTest(BatchTestCase):
    def test_monthly_board_equals_the_reference(self):
        scenario, _, days = self.month_scenario(seed=1)
        weights = weights_of(self.db, self.ns)
        self.assertEqual(weights, {"view": 0.1, "like": 0.2, "order": 0.7, "carry": 0.1})
        scenario.separate(days, weights, 20)
        scenario.flush()
        self.wait_ready(days + [days[-1] + datetime.timedelta(days=1)])
        ranked, scores = scenario.reference(days, weights)
        period = month_name(days[0])

        report = self.batch_ok("monthly", days[10], "--ns", self.ns, "--top", "20")
        self.check_report(report, weights, mode="monthly", ns=self.ns, period=period,
                          first_day=day_name(days[0]), last_day=day_name(days[-1]),
                          days=len(days), products=len(ranked), published=min(20, len(ranked)))
        self.assert_board(self.call("RANK.TOP", self.ns, period, 0, 100), ranked[:20], scores)
        self.assert_board(self.call("RANK.TOP", self.ns, period, 10, 5), ranked[10:15], scores)
        self.assertEqual(self.call("RANK.CARD", self.ns, period), 20)
        rank, score = self.call("RANK.OF", self.ns, period, ranked[4])
        self.assertEqual(rank, 5)
        self.assertTrue(math.isclose(float(score), scores[ranked[4]], rel_tol=SCORE_REL_TOL))
        self.assertIsNone(self.call("RANK.OF", self.ns, period, ranked[20]))
        # Only the month was published: its first week's board is still empty.
        self.assertEqual(self.call("RANK.CARD", self.ns, week_name(days[0])), 0)

    def test_weekly_board_equals_the_reference(self):
        monday, sunday, days = last_iso_week()
        scenario = Scenario(self, self.ns, seed=2)
        products = [PRODUCT_BASE + 104_729 * i for i in range(60)]
        scenario.random_events(products, days, 600)
        self.outside_events(scenario, products, (monday - datetime.timedelta(days=1),
                                                 sunday + datetime.timedelta(days=1)))
        weights = weights_of(self.db, self.ns)
        scenario.separate(days, weights, 100)
        scenario.flush()
        self.wait_ready(days + [sunday + datetime.timedelta(days=1)])
        ranked, scores = scenario.reference(days, weights)
        period = week_name(monday)
        self.assertEqual(period, week_name(sunday))

        wednesday = monday + datetime.timedelta(days=2)
        report = self.batch_ok("weekly", wednesday, "--ns", self.ns)  # --top: default 100
        self.check_report(report, weights, mode="weekly", ns=self.ns, period=period,
                          first_day=day_name(monday), last_day=day_name(sunday), days=7,
                          products=len(ranked), published=min(100, len(ranked)))
        self.assert_board(self.call("RANK.TOP", self.ns, period, 0, 100), ranked[:100], scores)
        self.assertEqual(self.call("RANK.CARD", self.ns, period), len(ranked))

    def test_current_week_counts_the_days_so_far(self):
        # Days after today are in the future: they add nothing and do not fail the run.
        today = today_utc()
        scenario = Scenario(self, self.ns, seed=3)
        products = [PRODUCT_BASE + 31 * i for i in range(10)]
        scenario.random_events(products, [today], 60)
        weights = weights_of(self.db, self.ns)
        scenario.separate([today], weights, 10)
        scenario.flush()
        self.wait_ready([today])
        ranked, scores = scenario.reference([today], weights)
        report = self.batch_ok("weekly", today, "--ns", self.ns, "--top", "10")
        self.assertEqual(report["period"], week_name(today))
        self.assertEqual(report["published"], 10)
        self.assert_board(self.call("RANK.TOP", self.ns, week_name(today), 0, 100), ranked,
                          scores)

    def test_default_namespace_and_an_empty_period(self):
        monday, _, _ = last_iso_week()
        status, out, err = self.run_batch("weekly", "--date", monday.isoformat())
        self.assertEqual(status, 0, err)
        report = json.loads(out)
        self.assertEqual((report["ns"], report["period"], report["products"],
                          report["published"]), ("all", week_name(monday), 0, 0))
        self.assertEqual(self.call("RANK.CARD", "all", week_name(monday)), 0)

    def test_a_rerun_gives_the_same_board_bit_for_bit(self):
        scenario, _, days = self.month_scenario(seed=4)
        weights = weights_of(self.db, self.ns)
        scenario.separate(days, weights, 50)
        scenario.flush()
        self.wait_ready(days)
        ranked, scores = scenario.reference(days, weights)
        period = month_name(days[0])
        first = self.batch_ok("monthly", days[0], "--ns", self.ns, "--top", "50")
        board = self.call("RANK.TOP", self.ns, period, 0, 100)
        self.assert_board(board, ranked[:50], scores)
        second = self.batch_ok("monthly", days[-1], "--ns", self.ns, "--top", "50")
        self.assertEqual(self.call("RANK.TOP", self.ns, period, 0, 100), board)  # raw bytes
        first.pop("seconds"), second.pop("seconds")
        self.assertEqual(first, second)

    def test_a_weight_change_reranks_the_board(self):
        scenario, _, days = self.month_scenario(seed=5)
        scenario.flush()
        self.wait_ready(days)
        period = month_name(days[0])
        self.batch_ok("monthly", days[0], "--ns", self.ns, "--top", "20")
        before = self.call("RANK.TOP", self.ns, period, 0, 100)

        reply = self.call("RANK.WEIGHTS", self.ns, 1, 0, 0, 0.1)
        self.assertFalse(isinstance(reply, Error), reply)
        weights = weights_of(self.db, self.ns)
        self.assertEqual(weights, {"view": 1.0, "like": 0.0, "order": 0.0, "carry": 0.1})
        self.wait_ready(days)
        report = self.batch_ok("monthly", days[0], "--ns", self.ns, "--top", "20")
        self.check_report(report, weights, published=20)
        ranked, scores = scenario.reference(days, weights)
        views = [scores[p] for p in ranked[:20]]
        self.assertTrue(all(v == int(v) for v in views), views)
        self.assertLess(len(set(views)), 20, "the tie rule goes untested: no equal view counts")
        board = self.call("RANK.TOP", self.ns, period, 0, 100)
        self.assert_board(board, ranked[:20], scores)
        self.assertNotEqual(pairs(board), pairs(before))


class ConcurrentReaderTest(BatchTestCase):
    def test_a_reader_sees_the_old_board_or_the_new_one(self):
        scenario, _, days = self.month_scenario(seed=6, product_count=300, event_count=1500)
        weights = weights_of(self.db, self.ns)
        scenario.separate(days, weights, 100)
        scenario.flush()
        self.wait_ready(days)
        period = month_name(days[0])
        self.batch_ok("monthly", days[0], "--ns", self.ns)
        board_a = tuple(self.call("RANK.TOP", self.ns, period, 0, 100))
        ranked_a, scores_a = scenario.reference(days, weights)
        self.assert_board(list(board_a), ranked_a[:100], scores_a)

        # Board B: 60 products from outside A's top 100 climb into it.
        for index, product in enumerate(ranked_a[100:160]):
            scenario.add("ORDER", product, days[index % len(days)], 10, 10 ** 7 + 1000 * index)
        scenario.separate(days, weights, 100)
        scenario.flush()
        self.wait_ready(days)
        ranked_b, scores_b = scenario.reference(days, weights)
        self.assertNotEqual(ranked_a[:100], ranked_b[:100])

        seen, errors, polls, stop = collections.Counter(), [], [0], threading.Event()

        def read():
            reader = connect(self.port)
            try:
                while not stop.is_set():
                    try:
                        reply = reader.execute_command("RANK.TOP", self.ns, period, 0, 100)
                    except redis.RedisError as error:
                        errors.append(repr(error))
                        return
                    seen[tuple(reply)] += 1
                    polls[0] += 1
            finally:
                reader.close()

        thread = threading.Thread(target=read, daemon=True)
        thread.start()
        try:
            fx.wait_until(lambda: polls[0] >= 5 or errors, 10, "the reader to poll")
            for _ in range(4):  # B, then re-runs that publish B again
                self.batch_ok("monthly", days[0], "--ns", self.ns)
            board_b = tuple(self.call("RANK.TOP", self.ns, period, 0, 100))
            fx.wait_until(lambda: (board_b in seen and polls[0] >= 20) or errors, 10,
                          "the reader to see the new board")
        finally:
            stop.set()
            thread.join(10)
        self.assertFalse(thread.is_alive())
        self.assertEqual(errors, [])
        self.assert_board(list(board_b), ranked_b[:100], scores_b)
        self.assertNotEqual(board_a, board_b)
        others = [reply for reply in seen if reply not in (board_a, board_b)]
        self.assertEqual(others, [], "a reader saw a board that is neither the old nor the new")
        self.assertIn(board_a, seen)
        self.assertGreaterEqual(polls[0], 20)


class ScanTest(BatchTestCase):
    def scan(self, day, count, between=None):
        """Every reply's (cursor, products) from cursor 0 until the cursor is 0."""
        replies, cursor = [], 0
        for _ in range(300):  # 256 parts at most
            reply = self.call("RANK.SCAN", self.ns, day_name(day), cursor, count)
            self.assertIsInstance(reply, list, reply)
            cursor, flat = reply
            self.assertEqual(len(flat) % 4, 0)
            replies.append((cursor, [(int(flat[i]), flat[i + 1], flat[i + 2], float(flat[i + 3]))
                                     for i in range(0, len(flat), 4)]))
            if cursor == 0:
                return replies
            if between:
                between()
        raise AssertionError("RANK.SCAN did not end within 300 replies")

    def check_chunks(self, replies, count):
        cursors = [cursor for cursor, _ in replies]
        self.assertEqual(cursors[-1], 0)
        self.assertEqual(cursors[:-1], sorted(set(cursors[:-1])))  # the next part, rising
        self.assertTrue(all(0 < c < 256 for c in cursors[:-1]), cursors)
        for _, chunk in replies[:-1]:
            self.assertGreaterEqual(len(chunk), count)
            # "At most a 256th of the day more": one part of 3000 products, ~12 on average.
            self.assertLessEqual(len(chunk), count + PART_SLACK)

    def test_scan_yields_every_product_once(self):
        day = today_utc() - datetime.timedelta(days=1)
        scenario = Scenario(self, self.ns, seed=7)
        products = [PRODUCT_BASE + 7 * i for i in range(3000)]
        for product in products:
            scenario.add("VIEW", product, day)
        scenario.random_events(products, [day], 3000)
        scenario.flush()
        self.wait_ready([day])
        expected = scenario.signals([day])
        self.assertEqual(len(expected), 3000)

        for count in (100, 1, 65536):
            replies = self.scan(day, count)
            self.check_chunks(replies, count)
            rows = [row for _, chunk in replies for row in chunk]
            self.assertEqual(len(rows), 3000, count)
            self.assertEqual({row[0] for row in rows}, set(expected))
            for product, views, likes, order_sum in rows:
                want = expected[product]
                self.assertEqual((views, likes), (want[0], want[1]), product)
                self.assertTrue(math.isclose(order_sum, want[2], rel_tol=SCORE_REL_TOL,
                                             abs_tol=1e-12), (product, order_sum, want[2]))
        self.assertEqual(len(self.scan(day, 65536)), 1)

        # Events arriving during the scan: the products of the day still come exactly once.
        touched, added = collections.Counter(), []

        def more_events():
            product = scenario.rng.choice(products)
            touched[product] += 1
            added.append(PRODUCT_BASE + 10 ** 8 + len(added))  # none of the day's products
            for target in (product, added[-1]):
                scenario.add("VIEW", target, day)
            scenario.flush()

        rows = [row for _, chunk in self.scan(day, 100, more_events) for row in chunk]
        seen = [row[0] for row in rows]
        self.assertEqual(len(seen), len(set(seen)))
        self.assertTrue(set(expected) <= set(seen) <= set(expected) | set(added))
        for product, views, _, _ in rows:
            if product in expected:
                self.assertTrue(expected[product][0] <= views
                                <= expected[product][0] + touched[product], product)

    def test_scan_of_empty_future_old_and_bad_days(self):
        today = today_utc()
        for day in (today + datetime.timedelta(days=10), today - datetime.timedelta(days=2)):
            self.assertEqual(self.call("RANK.SCAN", self.ns, day_name(day), 0, 100), [0, []])
        old = today.replace(day=1) - datetime.timedelta(days=100)
        self.assertIsInstance(self.call("RANK.SCAN", self.ns, day_name(old), 0, 100), Error)
        for day, cursor, count in (("2026-11-22", 0, 100), ("20261301", 0, 100),
                                   ("202611", 0, 100), ("2026W49", 0, 100), ("x", 0, 100),
                                   (day_name(today), 256, 100), (day_name(today), 0, 0),
                                   (day_name(today), 0, 65537)):
            reply = self.call("RANK.SCAN", self.ns, day, cursor, count)
            self.assertIsInstance(reply, Error, (day, cursor, count, reply))


class PublishTest(BatchTestCase):
    def test_publish_replaces_the_board_in_one_step(self):
        ns, month, week = self.ns, "202612", "2026W49"
        self.assertEqual(self.call("RANK.TOP", ns, month, 0, 100), [])  # never published
        self.assertEqual(self.call("RANK.PUBLISH", ns, month, 1, 2.5, 2, -1.5, 3, 10, 4, 2.5), 4)
        self.assertEqual(pairs(self.call("RANK.TOP", ns, month, 0, 100)),
                         [(3, 10.0), (4, 2.5), (1, 2.5), (2, -1.5)])
        self.assertEqual(self.call("RANK.CARD", ns, month), 4)
        self.assertEqual(self.call("RANK.OF", ns, month, 1)[0], 3)

        self.assertEqual(self.call("RANK.PUBLISH", ns, month, 7, 1, 8, 2), 2)
        board = self.call("RANK.TOP", ns, month, 0, 100)
        self.assertEqual(pairs(board), [(8, 2.0), (7, 1.0)])
        self.assertEqual(self.call("RANK.CARD", ns, month), 2)
        self.assertIsNone(self.call("RANK.OF", ns, month, 3))

        for bad in ((7, 1, 9, 3, 7, 5),        # a product twice
                    (9, "nan"), (9, "inf"), (9, "-inf"), (9, "abc"), ("x", 1),
                    (9, 1, 10),                # a product without its score
                    ):
            reply = self.call("RANK.PUBLISH", ns, month, *bad)
            self.assertIsInstance(reply, Error, (bad, reply))
            self.assertEqual(self.call("RANK.TOP", ns, month, 0, 100), board, bad)
        too_many = [field for p in range(1, 10_002) for field in (p, 1)]
        self.assertIsInstance(self.call("RANK.PUBLISH", ns, month, *too_many), Error)
        self.assertEqual(self.call("RANK.TOP", ns, month, 0, 100), board)
        self.assertEqual(self.call("RANK.PUBLISH", ns, week, *too_many[:20_000]), 10_000)
        self.assertEqual(self.call("RANK.CARD", ns, week), 10_000)

        for period in ("20261201", "2026W60", "202613", "x"):
            self.assertIsInstance(self.call("RANK.PUBLISH", ns, period, 1, 1), Error, period)
        self.assertEqual(self.call("RANK.PUBLISH", ns, month), 0)  # no pairs: an empty board
        self.assertEqual(self.call("RANK.CARD", ns, month), 0)
        self.assertEqual(self.call("RANK.TOP", ns, month, 0, 100), [])
        self.assertEqual(self.call("RANK.CARD", ns, week), 10_000)  # another period: untouched

    def test_bad_window_names(self):
        for window in ("2026W49", "202612"):
            self.assertIsInstance(self.call("RANK.SIGNALS", self.ns, window, 1), Error, window)
        for window in ("2026W60", "2026W00", "202613", "202600", "2026-12"):
            for command in (("RANK.TOP", self.ns, window, 0, 10), ("RANK.CARD", self.ns, window),
                            ("RANK.OF", self.ns, window, 1)):
                self.assertIsInstance(self.call(*command), Error, command)


class BatchFailureTest(BatchTestCase):
    def test_failures_and_bad_command_lines(self):
        date = today_utc().isoformat()
        status, _, err = self.run_batch("monthly", "--date", date, port=fx.free_port())
        self.assertEqual(status, 1)
        self.assertTrue(err.strip(), "no message for an unreachable server")
        for args in (("monthly", "--date", "2026-13-40"), ("monthly", "--date", "yesterday"),
                     ("yearly", "--date", date), ("monthly", "--date", date, "--top", "10001"),
                     ("monthly", "--top=abc"), ("monthly", "--top"), ("monthly", "--no-such=1"),
                     ()):
            status, _, err = self.run_batch(*args)
            self.assertEqual(status, 2, (args, err))
        status, out, err = self.run_batch("--help")
        self.assertEqual(status, 0, err)
        self.assertIn("--top", out + err)

    def test_a_month_no_longer_kept_fails_the_run(self):
        first = today_utc().replace(day=1)
        for _ in range(4):
            first = (first - datetime.timedelta(days=1)).replace(day=1)
        status, _, err = self.run_batch("monthly", "--date", first.isoformat(), "--ns", self.ns)
        self.assertEqual(status, 1, err)
        days = [first + datetime.timedelta(days=k) for k in range(31)
                if (first + datetime.timedelta(days=k)).month == first.month]
        self.assertTrue(any(day_name(d) in err or d.isoformat() in err for d in days), err)
        self.assertEqual(self.call("RANK.CARD", self.ns, month_name(first)), 0)


EVERY_DEADLINE_S = 20
STOP_TIMEOUT_S = 5
SERVER_PASSWORD = "batch-s3cret"
REPORT_FIELDS = ("mode", "ns", "period", "first_day", "last_day", "days", "products",
                 "published", "weights", "seconds")


class LineReader:
    """Lines of a child's text pipe, read by a thread with a blocking readline loop, handed out
    with a deadline (a stalled child fails the test instead of hanging it)."""

    def __init__(self, stream):
        self.lines = queue.Queue()
        self.thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self.thread.start()

    def _read(self, stream):
        for line in iter(stream.readline, ""):
            self.lines.put(line)
        self.lines.put(None)  # EOF

    def next_line(self, deadline, what):
        """The next line (None at EOF) arriving before `deadline` (time.monotonic())."""
        try:
            return self.lines.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            raise AssertionError(f"timed out waiting for {what}") from None

    def rest(self, timeout_s=STOP_TIMEOUT_S):
        """What is left until EOF (call once the child has exited)."""
        self.thread.join(timeout_s)
        left = []
        while not self.lines.empty():
            line = self.lines.get_nowait()
            if line is not None:
                left.append(line)
        return left


class EveryHelpers:
    def batch_command(self, *args):
        return [batch_path(), *args, "--server", f"127.0.0.1:{self.port}"]

    def start_every(self, *args):
        """podium-batch with the args under TZ=UTC, stdout and stderr pipes:
        (process, stdout reader, stderr reader). Killed at cleanup if still running."""
        process = subprocess.Popen(self.batch_command(*args), stdin=subprocess.DEVNULL,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                   env=dict(os.environ, TZ="UTC"))

        def cleanup():
            if process.poll() is None:
                process.kill()
            process.wait()
            process.stdout.close()
            process.stderr.close()

        self.addCleanup(cleanup)
        return process, LineReader(process.stdout), LineReader(process.stderr)

    def next_report(self, process, out, err, deadline):
        """The next JSON summary line on stdout, as a dict with every documented field."""
        line = out.next_line(deadline, "a JSON summary line from podium-batch --every")
        self.assertIsNotNone(line, f"stdout closed; exit status {process.poll()}; "
                                   f"stderr: {err.rest(0)}")
        report = json.loads(line)
        self.assertIsInstance(report, dict, line)
        self.assertEqual(set(report), set(REPORT_FIELDS), line)
        self.assertIsInstance(report["seconds"], (int, float), line)
        self.assertGreaterEqual(report["seconds"], 0, line)
        return report

    def terminate(self, process, out, err):
        """SIGTERM; the exit status and what was left on stdout and stderr."""
        self.assertIsNone(process.poll(), "podium-batch --every exited by itself")
        process.terminate()
        status = process.wait(timeout=STOP_TIMEOUT_S)
        return status, out.rest(), err.rest()


class EveryTest(EveryHelpers, BatchTestCase):
    def test_every_runs_again_and_counts_new_events(self):
        first_products = [PRODUCT_BASE + 15_485_863 * i for i in range(20)]
        scenario, days, weights = self.week_scenario(9, first_products, 200)
        period = week_name(days[0])
        wednesday = days[2]
        ranked_a, scores_a = scenario.reference(days, weights)
        self.assertEqual(len(ranked_a), 20)

        process, out, err = self.start_every("weekly", "--every", "1s", "--date",
                                             wednesday.isoformat(), "--ns", self.ns)
        deadline = time.monotonic() + EVERY_DEADLINE_S
        expected = dict(mode="weekly", ns=self.ns, period=period, first_day=day_name(days[0]),
                        last_day=day_name(days[-1]), days=7)
        first = self.next_report(process, out, err, deadline)
        self.check_report(first, weights, products=20, published=20, **expected)
        self.assert_board(self.call("RANK.TOP", self.ns, period, 0, 100), ranked_a, scores_a)

        # New products with big orders, on days that already have events (no window to build,
        # so no run meets BUSY). A run may overlap the sending and see part of them; a later
        # run sees them all.
        second_products = [PRODUCT_BASE + 10 ** 9 + 7 * i for i in range(10)]
        for index, product in enumerate(second_products):
            for order in range(4):  # 4 x 0.7 x ln(10^12) = 77: more than any first product
                scenario.add("ORDER", product, days[(index + order) % 7], 1000,
                             10 ** 9 + 1000 * index)
        scenario.separate(days, weights, 100)
        scenario.flush()
        ranked_b, scores_b = scenario.reference(days, weights)
        self.assertEqual(len(ranked_b), 30)
        self.assertEqual(set(ranked_b[:10]), set(second_products))

        reports = [first]
        while reports[-1]["products"] != 30:
            report = self.next_report(process, out, err, deadline)
            self.check_report(report, weights, **expected)
            self.assertTrue(20 <= report["products"] <= 30, report)
            self.assertEqual(report["published"], report["products"], report)
            reports.append(report)
        self.assertGreaterEqual(len(reports), 2)
        # Every run after that one publishes the same board: no event arrives any more.
        self.assert_board(self.call("RANK.TOP", self.ns, period, 0, 100), ranked_b, scores_b)
        self.assertEqual(self.call("RANK.CARD", self.ns, period), 30)
        self.assertEqual(self.next_report(process, out, err, deadline)["products"], 30)

        # docs/rankings.md: SIGTERM or SIGINT ends it, within STOP_TIMEOUT_S, having written
        # nothing but whole JSON lines, no error, meanwhile.
        status, left_out, left_err = self.terminate(process, out, err)
        self.assertIn(status, (-signal.SIGTERM, 0))
        for line in left_out:
            self.assertEqual(set(json.loads(line)), set(REPORT_FIELDS), line)
        self.assertEqual(left_err, [])


class AuthTest(EveryHelpers, BatchTestCase):
    """A server started with --requirepass: podium-batch needs --server-pass."""

    SERVER_ARGS = (*SERVER_ARGS, f"--requirepass={SERVER_PASSWORD}")

    def setUp(self):
        self.db = connect(self.port, password=SERVER_PASSWORD)
        self.ns = f"ns-{self._testMethodName}"

    def test_requirepass_is_in_force(self):
        with fx.RawConnection(self.port) as raw:
            reply = fx.resp_call(raw, "RANK.CARD", self.ns, "2026W49")
            self.assertIsInstance(reply, fx.RespError)
            self.assertTrue(reply.startswith("NOAUTH"), reply)
            self.assertIsInstance(fx.resp_call(raw, "AUTH", "not-the-password"), fx.RespError)
            self.assertEqual(fx.resp_call(raw, "AUTH", SERVER_PASSWORD), "OK")
            self.assertEqual(fx.resp_call(raw, "RANK.CARD", self.ns, "2026W49"), 0)

    def test_server_pass(self):
        products = [PRODUCT_BASE + 32_452_843 * i for i in range(30)]
        scenario, days, weights = self.week_scenario(10, products, 300)
        ranked, scores = scenario.reference(days, weights)
        period = week_name(days[0])
        date = (days[0] + datetime.timedelta(days=3)).isoformat()

        for password in ((), ("--server-pass", "not-the-password")):
            status, out, err = self.run_batch("weekly", "--date", date, "--ns", self.ns,
                                              *password)
            self.assertEqual(status, 1, (password, out, err))
            self.assertEqual(out, "", password)
            self.assertIn("auth", err.lower(), password)  # NOAUTH / AUTH refused
            self.assertIn(period, err, password)
            self.assertEqual(self.call("RANK.CARD", self.ns, period), 0, password)
            self.assertEqual(self.call("RANK.TOP", self.ns, period, 0, 100), [], password)

        report = self.batch_ok("weekly", days[0] + datetime.timedelta(days=3), "--ns", self.ns,
                               "--server-pass", SERVER_PASSWORD)
        self.check_report(report, weights, mode="weekly", ns=self.ns, period=period,
                          first_day=day_name(days[0]), last_day=day_name(days[-1]), days=7,
                          products=30, published=30)
        board = self.call("RANK.TOP", self.ns, period, 0, 100)
        self.assert_board(board, ranked, scores)
        self.assertEqual(self.call("RANK.CARD", self.ns, period), 30)
        # The other spelling (--help: "also --server-pass"), with '=': the same board again.
        report = self.batch_ok("weekly", days[0], "--ns", self.ns,
                               f"--server_pass={SERVER_PASSWORD}")
        self.assertEqual(report["published"], 30)
        self.assertEqual(self.call("RANK.TOP", self.ns, period, 0, 100), board)  # raw bytes

    def test_every_goes_on_after_failed_runs(self):
        # No --server-pass: every run fails; each is reported and the next one runs anyway.
        monday, _, _ = last_iso_week()
        period = week_name(monday)
        process, out, err = self.start_every("weekly", "--every", "1s", "--date",
                                             monday.isoformat(), "--ns", self.ns)
        deadline = time.monotonic() + EVERY_DEADLINE_S
        for run in range(2):
            line = err.next_line(deadline, f"the failure of run {run + 1} on stderr")
            self.assertIsNotNone(line, f"stderr closed; exit status {process.poll()}")
            self.assertIn("auth", line.lower(), line)
            self.assertIn(period, line)
        status, left_out, left_err = self.terminate(process, out, err)
        self.assertIn(status, (-signal.SIGTERM, 0))  # as in EveryTest
        self.assertEqual(left_out, [])  # no run succeeded: no JSON line
        self.assertTrue(all("auth" in line.lower() for line in left_err), left_err)
        self.assertEqual(self.call("RANK.CARD", self.ns, period), 0)


def run_on_terminals(command, env, timeout_s):
    """Runs command with stdout and stderr on two pseudo-terminals of their own:
    (exit status, stdout text, stderr text), everything read until both close."""
    masters, slaves = zip(pty.openpty(), pty.openpty())
    try:
        process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=slaves[0],
                                   stderr=slaves[1], env=env)
    except BaseException:
        for fd in masters:
            os.close(fd)
        raise
    finally:
        for fd in slaves:
            os.close(fd)  # so that reading a master ends (EIO) once the child closes its side
    data = {fd: b"" for fd in masters}
    open_fds = set(masters)
    deadline = time.monotonic() + timeout_s
    try:
        while open_fds:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"{command} still writing after {timeout_s} s: {data}")
            ready, _, _ = select.select(sorted(open_fds), [], [], remaining)
            for fd in ready:
                try:
                    chunk = os.read(fd, 4096)
                except OSError as error:
                    if error.errno != errno.EIO:
                        raise
                    chunk = b""
                if chunk:
                    data[fd] += chunk
                else:
                    open_fds.discard(fd)
        status = process.wait(timeout=max(1.0, deadline - time.monotonic()))
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        for fd in masters:
            os.close(fd)
    return status, data[masters[0]].decode(errors="replace"), data[masters[1]].decode(
        errors="replace")


class TerminalTest(BatchTestCase):
    def test_a_progress_bar_on_a_terminal(self):
        products = [PRODUCT_BASE + 49_979_687 * i for i in range(12)]
        scenario, days, weights = self.week_scenario(11, products, 100)
        period = week_name(days[0])
        sunday = days[-1]
        ranked, scores = scenario.reference(days, weights)

        command = [batch_path(), "weekly", "--date", sunday.isoformat(), "--ns", self.ns,
                   "--server", f"127.0.0.1:{self.port}"]
        status, out, err = run_on_terminals(command, dict(os.environ, TZ="UTC"),
                                            BATCH_TIMEOUT_S)
        self.assertEqual(status, 0, (out, err))
        self.assert_board(self.call("RANK.TOP", self.ns, period, 0, 100), ranked, scores)
        # No JSON line on either terminal.
        for text in (out, err):
            for line in text.replace("\r", "\n").splitlines():
                with self.assertRaises(ValueError, msg=line):
                    json.loads(line)
        # The bar is on stderr, drawn in place (\r). Its format is not documented; what this
        # pins is what podium-batch draws: "<period> [#...#] <done>/<days> days, ..." and it
        # ends with every day of the week done.
        self.assertIn("\r", err)
        self.assertIn(f"{period} [{'#' * 30}] 7/7 days", err)
        self.assertNotIn(f"{period} [", out)


class RestartTest(BatchHelpers, unittest.TestCase):
    """Its own server on its own data directory, stopped (SIGTERM) and started again."""

    def setUp(self):
        self.root = tempfile.mkdtemp(prefix="podium-batch-")
        self.args = [*SERVER_ARGS, f"--data_dir={os.path.join(self.root, 'data')}"]
        self.server = None
        self.ns = "restart"

    def tearDown(self):
        fx.discard_server(self.server, getattr(self, "db", None), self.root)

    def start(self):
        """Starts the server on the data directory; sets self.db and self.port."""
        self.server = fx.ServerProcess(self.args).start()
        self.port = self.server.port
        self.db = connect(self.port)
        fx.wait_serving(self.server.port)

    def test_published_boards_survive_a_restart(self):
        self.start()
        scenario, _, days = self.month_scenario(seed=8, product_count=40, event_count=300)
        weights = weights_of(self.db, self.ns)
        scenario.separate(days, weights, 30)
        scenario.flush()
        self.wait_ready(days)
        ranked, scores = scenario.reference(days, weights)
        period = month_name(days[0])
        self.batch_ok("monthly", days[0], "--ns", self.ns, "--top", "30")
        board = self.call("RANK.TOP", self.ns, period, 0, 100)
        self.assert_board(board, ranked[:30], scores)
        self.assertEqual(self.call("RANK.PUBLISH", self.ns, "2026W49", 5, 1.25, 6, 0.5), 2)
        self.db.close()
        server, self.server = self.server, None
        server.stop_and_check()

        self.start()
        self.assertEqual(self.call("RANK.TOP", self.ns, period, 0, 100), board)  # raw bytes
        self.assertEqual(self.call("RANK.CARD", self.ns, period), 30)
        self.assertEqual(pairs(self.call("RANK.TOP", self.ns, "2026W49", 0, 10)),
                         [(5, 1.25), (6, 0.5)])
        # The raw signals came back too: a re-run publishes the same board.
        self.wait_ready(days)
        self.batch_ok("monthly", days[0], "--ns", self.ns, "--top", "30")
        self.assert_board(self.call("RANK.TOP", self.ns, period, 0, 100), ranked[:30], scores)
        self.db.close()


if __name__ == "__main__":
    fx.main()
