#!/usr/bin/python3
"""Orders, holds, points, coupons, likes and the catalog, against the real podium-server.

Written from the documentation alone: docs/orders.md (the order model), docs/protocol.md
("Commands": STOCK.*, BRAND.PUT, PRODUCT.*, POINTS.*, COUPON.*, ORDER.*, LIKE.*) and
../shared/domain.md ("Stock, orders, points, coupons, likes"), whose concurrency tests every
shop writes run here over the network with real parallel clients:

- 15 buyers race for a stock of 10: exactly 10 succeed, 5 are told SOLDOUT, 10 units held;
- 5 orders of 1000 points race for a balance of 3000: exactly 3 succeed, balance 0;
- 10 orders race for one coupon: exactly 1 succeeds;
- 10 users like a product at once: count 10; one user likes 5 times at once: count 1.

Then amounts (total, FIXED/PERCENT discounts rounded down, points, pay, deadline), the
lifecycle (confirm, cancel, expiry by itself, final orders, unknown orders, ORDER.GET and
ORDER.LIST), idempotency by order id, bad input that must change nothing, likes, and a
randomized stress of 100,000 operations by 50 clients over 100 products whose every acknowledged outcome is
checked against the server's final state (no unit lost or created, every order in the one final
state its client saw).

Replies go through redis-py (Debian's python3-redis) with a parser that keeps the server's whole
error line ("ERR order o1 is PAID", "SOLDOUT 17 0", "NOTFOUND order o1"): stock redis-py drops
the "ERR " word, and the docs' error prefixes are part of what is checked here.
"""

import collections
import itertools
import math
import os
import random
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import redis  # noqa: E402  (Debian's python3-redis)
import redis.connection  # noqa: E402

import podium_fixture as fx  # noqa: E402

EXPIRY_DEADLINE_S = 5.0     # event loops sweep due holds a few times a second; 5 s is generous
CLOCK_TOLERANCE_MS = 1000   # server and test read the same wall clock; allow a slow scheduler
THREAD_JOIN_S = 120.0
HOLD_LONG_MS = 600000       # 10 minutes: a hold that cannot expire during a test

ORDER_PLACE_FIELDS = {"order", "status", "total", "discount", "points", "pay", "expires_ms"}
ORDER_FIELDS = {"order", "user", "status", "total", "discount", "points", "pay", "coupon",
                "created_ms", "expires_ms", "items"}
PRODUCT_FIELDS = {"id", "brand", "price", "name", "created_ms", "likes", "stock", "held"}
COUPON_FIELDS = {"id", "user", "kind", "value", "state", "order"}

STRESS_THREADS = 50
STRESS_OPS_PER_THREAD = 2000  # 50 x 2000 = 100,000 operations (issue 6)
STRESS_PRODUCTS = 100
STRESS_LIKE_USERS = 10


# ------------------------------------------------------------------------------ clients

class WholeErrorParser(redis.connection.PythonParser):
    """redis-py's parser, but an error reply keeps its whole line, code word included."""

    def parse_error(self, response):
        return redis.ResponseError(response)


def connect(port):
    """A redis-py client of its own (one connection), replies as bytes, whole error lines."""
    pool = redis.ConnectionPool(host="127.0.0.1", port=port, socket_timeout=30,
                                parser_class=WholeErrorParser)
    return redis.Redis(connection_pool=pool, decode_responses=False)


def disconnect(client):
    client.close()
    client.connection_pool.disconnect()


class Error(str):
    """An error reply: the server's line without the leading '-', e.g. 'SOLDOUT 17 0'."""


def call(client, *args):
    """The reply of one command, or an Error holding the server's error line."""
    try:
        return client.execute_command(*args)
    except redis.ResponseError as error:
        return Error(str(error))


def as_dict(reply):
    """A field, value pairs reply as a dict with str keys; None stays None."""
    if reply is None:
        return None
    if isinstance(reply, Error) or not isinstance(reply, list) or len(reply) % 2:
        raise AssertionError(f"expected field, value pairs, got {reply!r}")
    fields = {}
    for index in range(0, len(reply), 2):
        name = reply[index]
        if not isinstance(name, bytes):
            raise AssertionError(f"field name {name!r} is not bytes in {reply!r}")
        fields[name.decode()] = reply[index + 1]
    if len(fields) != len(reply) // 2:
        raise AssertionError(f"a field appears twice in {reply!r}")
    return fields


def now_ms():
    return int(time.time() * 1000)


def place_args(order, user, hold_ms, items, coupon=None, points=None):
    args = ["ORDER.PLACE", order, user, hold_ms, len(items)]
    for product, quantity in items:
        args += [product, quantity]
    if coupon is not None:
        args += ["COUPON", coupon]
    if points is not None:
        args += ["POINTS", points]
    return args


def run_together(port, count, work):
    """Runs work(client, index) in `count` threads released together by a barrier.

    Each thread has its own connection, opened (and checked with PING) before the barrier, so
    the requests really are in flight at the same time. Returns the results by index; an
    exception in any thread is raised here.
    """
    barrier = threading.Barrier(count, timeout=60)
    results = [None] * count
    errors = []

    def body(index):
        client = connect(port)
        try:
            client.execute_command("PING")
            barrier.wait()
            results[index] = work(client, index)
        except BaseException as error:  # noqa: BLE001  (re-raised in the main thread)
            errors.append(error)
            barrier.abort()
        finally:
            disconnect(client)

    threads = [threading.Thread(target=body, args=(index,), daemon=True)
               for index in range(count)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + THREAD_JOIN_S
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    stuck = sum(thread.is_alive() for thread in threads)
    if stuck:
        raise AssertionError(f"{stuck} of {count} client threads still running after "
                             f"{THREAD_JOIN_S:.0f} s")
    if errors:
        raise errors[0]
    return results


# ------------------------------------------------------------------------------ base class

class OrdersTestCase(fx.ServerTestCase):
    """One server per class; ids are allocated fresh so tests never share state."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.db = connect(cls.port)
        cls._ids = itertools.count(1000)
        cls.brand = next(cls._ids)
        assert cls.db.execute_command("BRAND.PUT", cls.brand, "Podium Test Brand") == b"OK"

    @classmethod
    def tearDownClass(cls):
        disconnect(cls.db)
        super().tearDownClass()

    def tearDown(self):
        self.assert_server_alive()

    # -- helpers: every setup step is itself checked against the documented reply

    def call(self, *args):
        return call(self.db, *args)

    def new_id(self):
        return next(self._ids)

    def order_id(self, tag):
        return f"{self._testMethodName}-{tag}-{self.new_id()}"

    def product(self, price=1000, stock=100, name=None):
        product = self.new_id()
        self.assertEqual(self.call("PRODUCT.PUT", product, self.brand, price,
                                   name or f"product {product}"), b"OK")
        if stock is not None:
            self.assertEqual(self.call("STOCK.SET", product, stock), stock)
        return product

    def user(self, points=0):
        user = self.new_id()
        if points:
            self.assertEqual(self.call("POINTS.CHARGE", user, points), points)
        self.assertEqual(self.call("POINTS.GET", user), points)
        return user

    def coupon(self, user, kind="FIXED", value=100):
        coupon = f"coupon-{self.new_id()}"
        self.assertEqual(self.call("COUPON.ISSUE", coupon, user, kind, value), b"OK")
        return coupon

    def place(self, order, user, hold_ms, items, coupon=None, points=None):
        """The raw reply of ORDER.PLACE (an Error on failure)."""
        return self.call(*place_args(order, user, hold_ms, items, coupon, points))

    def place_ok(self, order, user, hold_ms, items, coupon=None, points=None):
        reply = self.place(order, user, hold_ms, items, coupon, points)
        self.assertNotIsInstance(reply, Error,
                                 f"ORDER.PLACE {order} {items} coupon={coupon} "
                                 f"points={points} failed")
        placed = as_dict(reply)
        self.assertEqual(set(placed), ORDER_PLACE_FIELDS, f"ORDER.PLACE reply fields: {placed}")
        self.assertEqual(placed["order"], order.encode())
        self.assertEqual(placed["status"], b"PENDING")
        return placed

    def stock(self, product):
        """STOCK.GET product WITHHELD: [available, held]."""
        reply = self.call("STOCK.GET", product, "WITHHELD")
        self.assertIsInstance(reply, list, f"STOCK.GET {product} WITHHELD replied {reply!r}")
        self.assertEqual(len(reply), 2, f"STOCK.GET {product} WITHHELD replied {reply!r}")
        return reply

    def points(self, user):
        return self.call("POINTS.GET", user)

    def coupon_state(self, coupon):
        fields = as_dict(self.call("COUPON.GET", coupon))
        self.assertIsNotNone(fields, f"COUPON.GET {coupon} is nil")
        self.assertEqual(set(fields), COUPON_FIELDS, f"COUPON.GET fields: {fields}")
        return fields

    def get_order(self, order):
        reply = self.call("ORDER.GET", order)
        self.assertNotIsInstance(reply, Error, f"ORDER.GET {order}")
        fields = as_dict(reply)
        if fields is not None:
            self.assertEqual(set(fields), ORDER_FIELDS, f"ORDER.GET fields: {fields}")
        return fields

    def order_list(self, user, offset=0, count=100):
        reply = self.call("ORDER.LIST", user, offset, count)
        self.assertIsInstance(reply, list, f"ORDER.LIST {user} {offset} {count} -> {reply!r}")
        return reply

    def snapshot(self, products=(), users=(), coupons=(), orders=()):
        """Everything a failed or refused command must leave as it was."""
        return {
            "stock": {product: self.stock(product) for product in products},
            "points": {user: self.points(user) for user in users},
            "orders of": {user: self.order_list(user) for user in users},
            "coupons": {coupon: self.call("COUPON.GET", coupon) for coupon in coupons},
            "orders": {order: self.call("ORDER.GET", order) for order in orders},
        }

    def assert_error(self, reply, prefixes, what):
        """reply is an error line starting with one of prefixes (a str or a tuple)."""
        if isinstance(prefixes, str):
            prefixes = (prefixes,)
        self.assertIsInstance(reply, Error, f"{what}: expected an error {prefixes}, "
                                            f"got {reply!r}")
        self.assertTrue(reply.startswith(prefixes),
                        f"{what}: got -{reply}, expected an error starting with {prefixes}")


# ------------------------------------------------------------------ domain concurrency tests

class DomainConcurrencyTest(OrdersTestCase):
    """domain.md's concurrency tests, with real clients in parallel threads."""

    def test_15_buyers_race_for_10_units(self):
        product = self.product(price=1000, stock=10)
        users = [self.user() for _ in range(15)]
        orders = [self.order_id(f"buyer{index}") for index in range(15)]

        def buy(client, index):
            return call(client, *place_args(orders[index], users[index], HOLD_LONG_MS,
                                            [(product, 1)]))

        replies = run_together(self.port, 15, buy)
        won = [index for index, reply in enumerate(replies) if not isinstance(reply, Error)]
        lost = [index for index, reply in enumerate(replies) if isinstance(reply, Error)]
        self.assertEqual(len(won), 10, f"exactly 10 of 15 buyers get a unit: {replies}")
        for index in won:
            placed = as_dict(replies[index])
            self.assertEqual(placed["status"], b"PENDING")
            self.assertEqual(placed["total"], 1000)
            self.assertEqual(self.get_order(orders[index])["status"], b"PENDING")
        for index in lost:
            # Single-item, single-unit orders: nothing is ever rolled back, so no spurious
            # SOLDOUT; a loser saw 0 units available.
            self.assertEqual(replies[index], f"SOLDOUT {product} 0")
            self.assertIsNone(self.get_order(orders[index]), "a SOLDOUT order is not stored")
        self.assertEqual(self.call("STOCK.GET", product), 0, "stock ends at 0")
        self.assertEqual(self.stock(product), [0, 10], "the 10 units are held by the orders")

    def test_5_orders_of_1000_points_race_for_3000(self):
        product = self.product(price=5000, stock=100)
        user = self.user(points=3000)
        orders = [self.order_id(f"points{index}") for index in range(5)]

        def spend(client, index):
            return call(client, *place_args(orders[index], user, HOLD_LONG_MS,
                                            [(product, 1)], points=1000))

        replies = run_together(self.port, 5, spend)
        won = [as_dict(reply) for reply in replies if not isinstance(reply, Error)]
        lost = [reply for reply in replies if isinstance(reply, Error)]
        self.assertEqual(len(won), 3, f"exactly 3 of 5 orders get 1000 points: {replies}")
        for placed in won:
            self.assertEqual((placed["total"], placed["points"], placed["pay"]),
                             (5000, 1000, 4000))
        for reply in lost:
            self.assert_error(reply, "ERR ", "an order spending more points than are left")
        self.assertEqual(self.points(user), 0, "the balance ends at 0, never below")
        self.assertEqual(self.stock(product), [97, 3], "the losers took no stock")

    def test_10_orders_race_for_one_coupon(self):
        product = self.product(price=3000, stock=100)
        user = self.user()
        coupon = self.coupon(user, "FIXED", 500)
        orders = [self.order_id(f"coupon{index}") for index in range(10)]

        def use(client, index):
            return call(client, *place_args(orders[index], user, HOLD_LONG_MS,
                                            [(product, 1)], coupon=coupon))

        replies = run_together(self.port, 10, use)
        won = [index for index, reply in enumerate(replies) if not isinstance(reply, Error)]
        self.assertEqual(len(won), 1, f"exactly 1 of 10 orders gets the coupon: {replies}")
        winner = orders[won[0]]
        self.assertEqual(as_dict(replies[won[0]])["discount"], 500)
        for index, reply in enumerate(replies):
            if index != won[0]:
                self.assert_error(reply, "ERR ", "an order on a coupon already held")
                self.assertIsNone(self.get_order(orders[index]))
        state = self.coupon_state(coupon)
        self.assertEqual((state["state"], state["order"]), (b"HELD", winner.encode()))
        self.assertEqual(self.stock(product), [99, 1], "the losers took no stock")

    def test_10_users_like_a_product_at_once(self):
        product = self.product()
        users = [self.user() for _ in range(10)]
        replies = run_together(self.port, 10,
                               lambda client, index: call(client, "LIKE.ADD", users[index],
                                                          product))
        self.assertEqual(replies, [1] * 10, "each user's first like changes something")
        self.assertEqual(self.call("LIKE.COUNT", product), 10)
        self.assertEqual(as_dict(self.call("PRODUCT.GET", product))["likes"], 10)

    def test_one_user_likes_5_times_at_once(self):
        product = self.product()
        user = self.user()
        replies = run_together(self.port, 5,
                               lambda client, index: call(client, "LIKE.ADD", user, product))
        self.assertEqual(sorted(replies), [0, 0, 0, 0, 1], "exactly one like is added")
        self.assertEqual(self.call("LIKE.COUNT", product), 1)
        self.assertEqual(self.call("LIKE.LIST", user, 0, 100), [product])
        # And the way back: 5 unlikes at once remove it once; the count never goes negative.
        replies = run_together(self.port, 5,
                               lambda client, index: call(client, "LIKE.DEL", user, product))
        self.assertEqual(sorted(replies), [0, 0, 0, 0, 1], "exactly one like is removed")
        self.assertEqual(self.call("LIKE.COUNT", product), 0)
        self.assertEqual(self.call("LIKE.LIST", user, 0, 100), [])


# --------------------------------------------------------------------------------- amounts

class AmountsTest(OrdersTestCase):
    def test_total_fixed_coupon_points_and_pay(self):
        first = self.product(price=1000, stock=100)
        second = self.product(price=2500, stock=100)
        user = self.user(points=5000)
        coupon = self.coupon(user, "FIXED", 700)
        order = self.order_id("o")
        before = now_ms()
        placed = self.place_ok(order, user, 30000, [(first, 2), (second, 1)], coupon=coupon,
                               points=300)
        after = now_ms()
        self.assertEqual((placed["total"], placed["discount"], placed["points"], placed["pay"]),
                         (4500, 700, 300, 3500))
        self.assertGreaterEqual(placed["expires_ms"], before + 30000 - CLOCK_TOLERANCE_MS)
        self.assertLessEqual(placed["expires_ms"], after + 30000 + CLOCK_TOLERANCE_MS)

        stored = self.get_order(order)
        self.assertEqual(stored["order"], order.encode())
        self.assertEqual(stored["user"], user)
        self.assertEqual(stored["status"], b"PENDING")
        self.assertEqual((stored["total"], stored["discount"], stored["points"], stored["pay"]),
                         (4500, 700, 300, 3500))
        self.assertEqual(stored["coupon"], coupon.encode())
        self.assertEqual(stored["expires_ms"], placed["expires_ms"])
        self.assertGreaterEqual(stored["created_ms"], before - CLOCK_TOLERANCE_MS)
        self.assertLessEqual(stored["created_ms"], after + CLOCK_TOLERANCE_MS)
        self.assertAlmostEqual(stored["expires_ms"] - stored["created_ms"], 30000, delta=5,
                               msg="the deadline is placement time + hold_ms")
        self.assertEqual(sorted(stored["items"]), sorted([[first, 2, 1000], [second, 1, 2500]]))

        self.assertEqual(self.points(user), 4700, "the points are taken at placement")
        state = self.coupon_state(coupon)
        self.assertEqual((state["state"], state["order"]), (b"HELD", order.encode()))
        self.assertEqual(self.stock(first), [98, 2])
        self.assertEqual(self.stock(second), [99, 1])

    def test_no_coupon_no_points(self):
        product = self.product(price=1234, stock=10)
        user = self.user()
        order = self.order_id("o")
        placed = self.place_ok(order, user, 60000, [(product, 3)])
        self.assertEqual((placed["total"], placed["discount"], placed["points"], placed["pay"]),
                         (3702, 0, 0, 3702))
        self.assertEqual(self.get_order(order)["coupon"], b"", "no coupon: empty")

    def test_fixed_discount_is_at_most_the_total(self):
        product = self.product(price=300, stock=10)
        user = self.user(points=1000)
        coupon = self.coupon(user, "FIXED", 1000)
        # Nothing is due after the discount, so even 1 point is too many.
        before = self.snapshot([product], [user], [coupon])
        reply = self.place(self.order_id("too-many-points"), user, 60000, [(product, 1)],
                           coupon=coupon, points=1)
        self.assert_error(reply, "ERR ", "points above total - discount")
        self.assertEqual(self.snapshot([product], [user], [coupon]), before)
        placed = self.place_ok(self.order_id("o"), user, 60000, [(product, 1)], coupon=coupon)
        self.assertEqual((placed["total"], placed["discount"], placed["points"], placed["pay"]),
                         (300, 300, 0, 0))
        self.assertEqual(self.points(user), 1000)

    def test_percent_discount_rounds_down(self):
        user = self.user(points=1000)
        cases = [
            # price, quantity, percent, points -> total, discount, pay
            (333, 3, 15, 50, 999, 149, 800),     # 149.85 -> 149
            (5, 2, 99, 0, 10, 9, 1),             # 9.9 -> 9
            (7, 3, 33, 1, 21, 6, 14),            # 6.93 -> 6
            (250, 4, 100, 0, 1000, 1000, 0),     # 100 %: the whole total
            (199, 1, 1, 0, 199, 1, 198),         # 1.99 -> 1
        ]
        for price, quantity, percent, points, total, discount, pay in cases:
            with self.subTest(price=price, quantity=quantity, percent=percent):
                product = self.product(price=price, stock=10)
                coupon = self.coupon(user, "PERCENT", percent)
                balance = self.points(user)
                placed = self.place_ok(self.order_id(f"pct{percent}"), user, 60000,
                                       [(product, quantity)], coupon=coupon,
                                       points=points or None)
                self.assertEqual(
                    (placed["total"], placed["discount"], placed["points"], placed["pay"]),
                    (total, discount, points, pay))
                self.assertEqual(self.points(user), balance - points)

    def test_points_up_to_what_is_due(self):
        product = self.product(price=400, stock=10)
        user = self.user(points=5000)
        before = self.snapshot([product], [user])
        self.assert_error(self.place(self.order_id("over"), user, 60000, [(product, 3)],
                                     points=1201),
                          "ERR ", "points above the total")
        self.assertEqual(self.snapshot([product], [user]), before)
        placed = self.place_ok(self.order_id("o"), user, 60000, [(product, 3)], points=1200)
        self.assertEqual((placed["total"], placed["points"], placed["pay"]), (1200, 1200, 0))
        self.assertEqual(self.points(user), 3800)

    def test_price_change_after_placement_keeps_the_total(self):
        product = self.product(price=1000, stock=10)
        user = self.user()
        order = self.order_id("o")
        self.place_ok(order, user, 60000, [(product, 2)])
        self.assertEqual(self.call("PRODUCT.PUT", product, self.brand, 2000, "dearer"), b"OK")
        stored = self.get_order(order)
        self.assertEqual(stored["total"], 2000, "the order keeps the price at placement")
        self.assertEqual(stored["items"], [[product, 2, 1000]])
        self.assertEqual(as_dict(self.call("PRODUCT.GET", product))["price"], 2000)
        later = self.place_ok(self.order_id("later"), user, 60000, [(product, 2)])
        self.assertEqual(later["total"], 4000, "a new order pays the new price")


# ------------------------------------------------------------------------------- lifecycle

class LifecycleTest(OrdersTestCase):
    def test_confirm_makes_the_order_paid(self):
        product = self.product(price=1000, stock=10)
        user = self.user(points=2000)
        coupon = self.coupon(user, "FIXED", 100)
        order = self.order_id("o")
        self.place_ok(order, user, HOLD_LONG_MS, [(product, 3)], coupon=coupon, points=500)
        self.assertEqual(self.stock(product), [7, 3])
        confirmed = as_dict(self.call("ORDER.CONFIRM", order))
        self.assertEqual(confirmed["status"], b"PAID")
        stored = self.get_order(order)
        self.assertEqual(confirmed, stored, "ORDER.CONFIRM answers the order as ORDER.GET")
        self.assertEqual((stored["total"], stored["discount"], stored["points"], stored["pay"]),
                         (3000, 100, 500, 2400))
        self.assertEqual(self.stock(product), [7, 0],
                         "held units are sold: no longer held, available unchanged")
        self.assertEqual(self.points(user), 1500, "the points stay spent")
        state = self.coupon_state(coupon)
        self.assertEqual((state["state"], state["order"]), (b"USED", order.encode()))
        product_fields = as_dict(self.call("PRODUCT.GET", product))
        self.assertEqual((product_fields["stock"], product_fields["held"]), (7, 0))

    def test_cancel_gives_everything_back(self):
        product = self.product(price=1000, stock=10)
        user = self.user(points=2000)
        coupon = self.coupon(user, "PERCENT", 10)
        order = self.order_id("o")
        placed = self.place_ok(order, user, HOLD_LONG_MS, [(product, 3)], coupon=coupon,
                               points=500)
        self.assertEqual((placed["discount"], placed["pay"]), (300, 2200))
        self.assertEqual(self.stock(product), [7, 3])
        self.assertEqual(self.points(user), 1500)
        cancelled = as_dict(self.call("ORDER.CANCEL", order))
        self.assertEqual(cancelled["status"], b"CANCELLED")
        self.assertEqual(cancelled, self.get_order(order),
                         "ORDER.CANCEL answers the order as ORDER.GET")
        self.assertEqual(self.stock(product), [10, 0], "the units go back")
        self.assertEqual(self.points(user), 2000, "the points are refunded")
        state = self.coupon_state(coupon)
        self.assertEqual((state["state"], state["order"]), (b"AVAILABLE", b""))
        # The coupon really is usable again.
        again = self.place_ok(self.order_id("again"), user, HOLD_LONG_MS, [(product, 1)],
                              coupon=coupon)
        self.assertEqual(again["discount"], 100)

    def test_final_orders_refuse_confirm_and_cancel(self):
        product = self.product(price=1000, stock=10)
        user = self.user(points=1000)
        paid_coupon = self.coupon(user, "FIXED", 100)
        cancelled_coupon = self.coupon(user, "FIXED", 200)
        paid = self.order_id("paid")
        cancelled = self.order_id("cancelled")
        self.place_ok(paid, user, HOLD_LONG_MS, [(product, 2)], coupon=paid_coupon, points=100)
        self.place_ok(cancelled, user, HOLD_LONG_MS, [(product, 1)], coupon=cancelled_coupon,
                      points=200)
        self.assertEqual(as_dict(self.call("ORDER.CONFIRM", paid))["status"], b"PAID")
        self.assertEqual(as_dict(self.call("ORDER.CANCEL", cancelled))["status"], b"CANCELLED")
        everything = ([product], [user], [paid_coupon, cancelled_coupon], [paid, cancelled])
        before = self.snapshot(*everything)
        self.assertEqual(before["stock"][product], [8, 0])
        self.assertEqual(before["points"][user], 900)
        for order, state in ((paid, "PAID"), (cancelled, "CANCELLED")):
            for command in ("ORDER.CONFIRM", "ORDER.CANCEL"):
                with self.subTest(order=state, command=command):
                    self.assertEqual(self.call(command, order), f"ERR order {order} is {state}")
                    self.assertEqual(self.snapshot(*everything), before,
                                     f"{command} of a {state} order changed something")

    def test_unknown_order(self):
        order = self.order_id("nosuch")
        self.assertEqual(self.call("ORDER.CONFIRM", order), f"NOTFOUND order {order}")
        self.assertEqual(self.call("ORDER.CANCEL", order), f"NOTFOUND order {order}")
        self.assertIsNone(self.get_order(order))
        self.assertIsNone(self.get_order(order), "asking did not create it")

    def test_short_hold_expires_by_itself(self):
        product = self.product(price=1000, stock=5)
        user = self.user(points=1000)
        coupon = self.coupon(user, "FIXED", 100)
        order = self.order_id("o")
        self.place_ok(order, user, 200, [(product, 2)], coupon=coupon, points=100)
        # Watch only the stock counter: reading the order could expire it on the way (which the
        # docs allow); this checks the server's own sweep gives the units back.
        self.assertEqual(self.stock(product), [3, 2])
        fx.wait_until(lambda: self.stock(product) == [5, 0], EXPIRY_DEADLINE_S,
                      "the expired hold's units to go back by themselves")
        self.assertEqual(self.get_order(order)["status"], b"EXPIRED")
        self.assertEqual(self.points(user), 1000, "the points are refunded")
        state = self.coupon_state(coupon)
        self.assertEqual((state["state"], state["order"]), (b"AVAILABLE", b""))
        before = self.snapshot([product], [user], [coupon], [order])
        self.assertEqual(self.call("ORDER.CONFIRM", order), f"ERR order {order} is EXPIRED")
        self.assertEqual(self.call("ORDER.CANCEL", order), f"ERR order {order} is EXPIRED")
        self.assertEqual(self.snapshot([product], [user], [coupon], [order]), before)

    def test_confirm_after_the_deadline_finds_the_order_expired(self):
        product = self.product(price=1000, stock=5)
        user = self.user(points=1000)
        order = self.order_id("o")
        placed = self.place_ok(order, user, 50, [(product, 1)], points=100)
        # Let the deadline pass (whether the sweep or the confirm notices it first).
        fx.wait_until(lambda: now_ms() > placed["expires_ms"] + 20, EXPIRY_DEADLINE_S,
                      "the hold's deadline to pass")
        self.assertEqual(self.call("ORDER.CONFIRM", order), f"ERR order {order} is EXPIRED",
                         "a confirm after the deadline never makes the order PAID")
        self.assertEqual(self.get_order(order)["status"], b"EXPIRED")
        self.assertEqual(self.stock(product), [5, 0])
        self.assertEqual(self.points(user), 1000)

    def test_order_get_items(self):
        products = [self.product(price=price, stock=50) for price in (100, 2000, 35)]
        user = self.user()
        order = self.order_id("o")
        items = [(products[0], 4), (products[1], 1), (products[2], 10)]
        placed = self.place_ok(order, user, HOLD_LONG_MS, items)
        self.assertEqual(placed["total"], 400 + 2000 + 350)
        stored = self.get_order(order)
        for item in stored["items"]:
            self.assertEqual(len(item), 3, f"an item is [product, qty, unit_price]: {item}")
            self.assertTrue(all(isinstance(value, int) for value in item), f"{item}")
        self.assertEqual(sorted(stored["items"]),
                         sorted([[products[0], 4, 100], [products[1], 1, 2000],
                                 [products[2], 10, 35]]))
        self.assertEqual(stored["user"], user)
        self.assertIsNone(self.get_order(self.order_id("nosuch")))

    def test_order_list_most_recent_first_with_paging(self):
        product = self.product(price=10, stock=100)
        scarce = self.product(price=10, stock=0)
        user = self.user()
        other = self.user()
        placed = []
        for index in range(7):
            order = self.order_id(f"o{index}")
            self.place_ok(order, user, HOLD_LONG_MS, [(product, 1)])
            placed.append(order.encode())
            if index == 2:
                self.assertEqual(as_dict(self.call("ORDER.CONFIRM", order))["status"], b"PAID")
            if index == 4:
                self.assertEqual(as_dict(self.call("ORDER.CANCEL", order))["status"],
                                 b"CANCELLED")
        failed = self.order_id("soldout")
        self.assertEqual(self.place(failed, user, HOLD_LONG_MS, [(scarce, 1)]),
                         f"SOLDOUT {scarce} 0")
        self.place_ok(self.order_id("other"), other, HOLD_LONG_MS, [(product, 1)])
        newest_first = placed[::-1]
        self.assertEqual(self.order_list(user, 0, 100), newest_first,
                         "every state listed, most recent first; a failed placement is not")
        self.assertEqual(self.order_list(user, 0, 3), newest_first[0:3])
        self.assertEqual(self.order_list(user, 3, 3), newest_first[3:6])
        self.assertEqual(self.order_list(user, 6, 3), newest_first[6:])
        self.assertEqual(self.order_list(user, 7, 3), [])
        self.assertEqual(self.order_list(user, 100, 100), [])
        self.assertEqual(self.order_list(user, 0, 0), [])
        self.assertEqual(len(self.order_list(other)), 1)
        self.assertEqual(self.order_list(self.new_id()), [], "a user with no orders")
        self.assert_error(self.call("ORDER.LIST", user, 0, 101), ("ERR ", "LIMIT "),
                          "count above 100")
        self.assert_error(self.call("ORDER.LIST", user, -1, 10), "ERR ", "negative offset")
        self.assert_error(self.call("ORDER.LIST", user, 0, -1), "ERR ", "negative count")

    def test_soldout_on_a_later_item_takes_nothing(self):
        plenty = self.product(price=100, stock=10)
        scarce = self.product(price=100, stock=1)
        user = self.user(points=500)
        coupon = self.coupon(user, "FIXED", 50)
        order = self.order_id("o")
        before = self.snapshot([plenty, scarce], [user], [coupon])
        reply = self.place(order, user, HOLD_LONG_MS, [(plenty, 3), (scarce, 2)], coupon=coupon,
                           points=100)
        self.assertEqual(reply, f"SOLDOUT {scarce} 1", "the answer names what was short")
        self.assertEqual(self.snapshot([plenty, scarce], [user], [coupon]), before,
                         "all-or-nothing: no stock, points or coupon taken")
        self.assertIsNone(self.get_order(order))
        self.assertEqual(self.coupon_state(coupon)["state"], b"AVAILABLE")

    def test_used_or_held_coupon_cannot_be_used_again(self):
        product = self.product(price=1000, stock=10)
        user = self.user()
        coupon = self.coupon(user, "FIXED", 100)
        holder = self.order_id("holder")
        self.place_ok(holder, user, HOLD_LONG_MS, [(product, 1)], coupon=coupon)
        before = self.snapshot([product], [user], [coupon])
        self.assert_error(self.place(self.order_id("second"), user, HOLD_LONG_MS,
                                     [(product, 1)], coupon=coupon),
                          "ERR ", "a coupon HELD by another pending order")
        self.assertEqual(self.snapshot([product], [user], [coupon]), before)
        self.call("ORDER.CONFIRM", holder)
        self.assertEqual(self.coupon_state(coupon)["state"], b"USED")
        before = self.snapshot([product], [user], [coupon])
        self.assert_error(self.place(self.order_id("third"), user, HOLD_LONG_MS,
                                     [(product, 1)], coupon=coupon),
                          "ERR ", "a USED coupon")
        self.assertEqual(self.snapshot([product], [user], [coupon]), before)


# ----------------------------------------------------------------------------- idempotency

class IdempotencyTest(OrdersTestCase):
    def test_same_id_same_contents_answers_the_original(self):
        product = self.product(price=1000, stock=10)
        user = self.user(points=1000)
        coupon = self.coupon(user, "FIXED", 100)
        order = self.order_id("o")
        args = (order, user, HOLD_LONG_MS, [(product, 2)], coupon, 300)
        original = self.place_ok(*args)
        everything = ([product], [user], [coupon], [order])
        after_first = self.snapshot(*everything)
        self.assertEqual(after_first["stock"][product], [8, 2])
        self.assertEqual(after_first["points"][user], 700)
        for attempt in range(3):
            self.assertEqual(as_dict(self.place(*args)), original, f"retry {attempt}")
            self.assertEqual(self.snapshot(*everything), after_first,
                             "a retry takes nothing twice")
        # Whatever state the order is in now, the retry answers the original placement.
        self.assertEqual(as_dict(self.call("ORDER.CONFIRM", order))["status"], b"PAID")
        after_confirm = self.snapshot(*everything)
        self.assertEqual(as_dict(self.place(*args)), original)
        self.assertEqual(self.snapshot(*everything), after_confirm)
        self.assertEqual(self.get_order(order)["status"], b"PAID")

    def test_retry_of_a_cancelled_order_takes_nothing(self):
        product = self.product(price=1000, stock=10)
        user = self.user(points=1000)
        order = self.order_id("o")
        args = (order, user, HOLD_LONG_MS, [(product, 4)], None, 200)
        original = self.place_ok(*args)
        self.assertEqual(as_dict(self.call("ORDER.CANCEL", order))["status"], b"CANCELLED")
        before = self.snapshot([product], [user], (), [order])
        self.assertEqual(before["stock"][product], [10, 0])
        self.assertEqual(as_dict(self.place(*args)), original)
        self.assertEqual(self.snapshot([product], [user], (), [order]), before,
                         "the retry did not place the cancelled order again")

    def test_same_id_other_contents_is_an_error(self):
        product = self.product(price=1000, stock=10)
        other_product = self.product(price=1000, stock=10)
        user = self.user(points=1000)
        other_user = self.user(points=1000)
        coupon = self.coupon(user, "FIXED", 100)
        order = self.order_id("o")
        self.place_ok(order, user, HOLD_LONG_MS, [(product, 2)], points=300)
        variants = {
            "quantity": (order, user, HOLD_LONG_MS, [(product, 3)], None, 300),
            "product": (order, user, HOLD_LONG_MS, [(other_product, 2)], None, 300),
            "extra item": (order, user, HOLD_LONG_MS, [(product, 2), (other_product, 1)],
                           None, 300),
            "user": (order, other_user, HOLD_LONG_MS, [(product, 2)], None, 300),
            "hold": (order, user, HOLD_LONG_MS + 1, [(product, 2)], None, 300),
            "coupon": (order, user, HOLD_LONG_MS, [(product, 2)], coupon, 300),
            "points": (order, user, HOLD_LONG_MS, [(product, 2)], None, 200),
            "no points": (order, user, HOLD_LONG_MS, [(product, 2)], None, None),
        }
        everything = ([product, other_product], [user, other_user], [coupon], [order])
        before = self.snapshot(*everything)
        for what, args in variants.items():
            with self.subTest(different=what):
                self.assertEqual(self.place(*args), f"ERR order {order} exists with other contents")
                self.assertEqual(self.snapshot(*everything), before)

    def test_concurrent_retries_take_once(self):
        product = self.product(price=1000, stock=10)
        user = self.user(points=1000)
        order = self.order_id("o")
        args = place_args(order, user, HOLD_LONG_MS, [(product, 2)], points=400)
        replies = run_together(self.port, 10, lambda client, index: call(client, *args))
        self.assertFalse([reply for reply in replies if isinstance(reply, Error)],
                         f"every retry answers the placement: {replies}")
        self.assertEqual(len({repr(reply) for reply in replies}), 1,
                         f"every retry gets the same reply: {replies}")
        self.assertEqual(self.stock(product), [8, 2], "the units were taken once")
        self.assertEqual(self.points(user), 600, "the points were taken once")
        self.assertEqual(self.order_list(user), [order.encode()])

    def test_failed_placement_is_not_remembered(self):
        product = self.product(price=1000, stock=1)
        user = self.user()
        order = self.order_id("o")
        self.assertEqual(self.place(order, user, HOLD_LONG_MS, [(product, 2)]),
                         f"SOLDOUT {product} 1")
        self.assertIsNone(self.get_order(order))
        self.assertEqual(self.call("STOCK.ADD", product, 1), 2)
        placed = self.place_ok(order, user, HOLD_LONG_MS, [(product, 2)])
        self.assertEqual(placed["total"], 2000, "the same id places once the stock is there")
        self.assertEqual(self.stock(product), [0, 2])


# ------------------------------------------------------------------------------- bad input

class BadInputTest(OrdersTestCase):
    """Each bad request gets a clear error and changes nothing."""

    def setUp(self):
        self.item = self.product(price=1000, stock=50)
        self.other_item = self.product(price=500, stock=50)
        self.buyer = self.user(points=1000)
        self.stranger = self.user(points=1000)
        self.buyer_coupon = self.coupon(self.buyer, "FIXED", 100)
        self.stranger_coupon = self.coupon(self.stranger, "FIXED", 100)
        self.everything = ([self.item, self.other_item], [self.buyer, self.stranger],
                           [self.buyer_coupon, self.stranger_coupon])

    def assert_refused(self, args, prefixes, what):
        before = self.snapshot(*self.everything)
        reply = self.call(*args)
        self.assert_error(reply, prefixes, what)
        self.assertEqual(self.snapshot(*self.everything), before, f"{what} changed something")
        if (len(args) > 1 and args[0] == "ORDER.PLACE" and isinstance(args[1], str)
                and 1 <= len(args[1]) <= 64):  # ids outside 1..64 bytes are refused by ORDER.GET
            self.assertIsNone(self.call("ORDER.GET", args[1]), f"{what}: the order was stored")
        self.assertTrue(self.db.execute_command("PING"), "the connection stays usable")
        return reply

    def order_place(self, tag, items, coupon=None, points=None, hold_ms=60000, user=None):
        return place_args(self.order_id(tag), self.buyer if user is None else user, hold_ms,
                          items, coupon, points)

    def test_unknown_product(self):
        unknown = self.new_id() + 10 ** 12
        reply = self.assert_refused(self.order_place("unknown", [(self.item, 1), (unknown, 1)]),
                                    "NOTFOUND ", "an unknown product")
        self.assertEqual(reply, f"NOTFOUND product {unknown}")

    def test_bad_quantities(self):
        for quantity in (0, -1, 10 ** 6 + 1, "abc", "1.5"):
            with self.subTest(quantity=quantity):
                prefixes = ("ERR ", "LIMIT ") if quantity == 10 ** 6 + 1 else "ERR "
                self.assert_refused(self.order_place("qty", [(self.item, quantity)]), prefixes,
                                    f"quantity {quantity}")
                self.assert_refused(self.order_place("qty2", [(self.other_item, 1),
                                                              (self.item, quantity)]),
                                    prefixes, f"quantity {quantity} on the second item")

    def test_more_than_32_items(self):
        products = [self.product(price=1, stock=10) for _ in range(33)]
        before = {product: self.stock(product) for product in products}
        self.assert_refused(self.order_place("33", [(product, 1) for product in products]),
                            ("ERR ", "LIMIT "), "33 items")
        self.assertEqual({product: self.stock(product) for product in products}, before)
        # 32 is the limit, not past it.
        placed = self.place_ok(self.order_id("32"), self.buyer, 60000,
                               [(product, 1) for product in products[:32]])
        self.assertEqual(placed["total"], 32)
        self.assertEqual(self.stock(products[0]), [9, 1])

    def test_duplicate_product(self):
        self.assert_refused(self.order_place("dup", [(self.item, 1), (self.item, 1)]), "ERR ",
                            "a product twice in one order")
        self.assert_refused(self.order_place("dup2", [(self.item, 1), (self.other_item, 2),
                                                      (self.item, 3)]),
                            "ERR ", "a product twice in one order, apart")

    def test_unknown_coupon(self):
        reply = self.assert_refused(self.order_place("nocoupon", [(self.item, 1)],
                                                     coupon="no-such-coupon"),
                                    "NOTFOUND ", "an unknown coupon")
        self.assertEqual(reply, "NOTFOUND coupon no-such-coupon")

    def test_another_users_coupon(self):
        self.assert_refused(self.order_place("theirs", [(self.item, 1)],
                                             coupon=self.stranger_coupon),
                            "ERR ", "another user's coupon")

    def test_points(self):
        self.assert_refused(self.order_place("rich", [(self.item, 2)], points=1001), "ERR ",
                            "more points than the balance")
        self.assert_refused(self.order_place("due", [(self.item, 1)], points=950,
                                             coupon=self.buyer_coupon),
                            "ERR ", "more points than total - discount")
        self.assert_refused(self.order_place("neg", [(self.item, 1)], points=-1), "ERR ",
                            "negative points")
        self.assert_refused(self.order_place("nan", [(self.item, 1)], points="x"), "ERR ",
                            "points not an integer")
        self.assert_refused(self.order_place("poor", [(self.item, 1)], points=1,
                                             user=self.new_id()),
                            "ERR ", "points of a user never charged")

    def test_hold(self):
        for hold_ms in (0, -5, 24 * 3600 * 1000 + 1, "soon"):
            with self.subTest(hold_ms=hold_ms):
                prefixes = ("ERR ", "LIMIT ") if hold_ms == 24 * 3600 * 1000 + 1 else "ERR "
                self.assert_refused(self.order_place("hold", [(self.item, 1)], hold_ms=hold_ms),
                                    prefixes, f"hold_ms {hold_ms}")

    def test_wrong_arity_and_item_count(self):
        oid = self.order_id
        item, other = self.item, self.other_item
        cases = {
            "no arguments": ("ORDER.PLACE",),
            "no items": ("ORDER.PLACE", oid("a"), self.buyer, 60000),
            "n = 0": ("ORDER.PLACE", oid("b"), self.buyer, 60000, 0),
            "n = 2, one pair": ("ORDER.PLACE", oid("c"), self.buyer, 60000, 2, item, 1),
            "n = 1, two pairs": ("ORDER.PLACE", oid("d"), self.buyer, 60000, 1, item, 1, other,
                                 1),
            "n = 1, half a pair": ("ORDER.PLACE", oid("e"), self.buyer, 60000, 1, item),
            "n not a number": ("ORDER.PLACE", oid("f"), self.buyer, 60000, "one", item, 1),
            "n negative": ("ORDER.PLACE", oid("g"), self.buyer, 60000, -1, item, 1),
            "COUPON without id": ("ORDER.PLACE", oid("h"), self.buyer, 60000, 1, item, 1,
                                  "COUPON"),
            "POINTS without amount": ("ORDER.PLACE", oid("i"), self.buyer, 60000, 1, item, 1,
                                      "POINTS"),
            "unknown option": ("ORDER.PLACE", oid("j"), self.buyer, 60000, 1, item, 1, "FOO",
                               "1"),
            "user not a number": ("ORDER.PLACE", oid("k"), "someone", 60000, 1, item, 1),
            "negative user": ("ORDER.PLACE", oid("l"), -1, 60000, 1, item, 1),
            "product not a number": ("ORDER.PLACE", oid("m"), self.buyer, 60000, 1, "pen", 1),
            "empty order id": ("ORDER.PLACE", "", self.buyer, 60000, 1, item, 1),
        }
        for what, args in cases.items():
            with self.subTest(case=what):
                self.assert_refused(args, "ERR ", what)
        self.assert_refused(("ORDER.PLACE", "x" * 65, self.buyer, 60000, 1, item, 1),
                            ("ERR ", "LIMIT "), "a 65-byte order id")
        for args in [("ORDER.CONFIRM",), ("ORDER.CONFIRM", "a", "b"), ("ORDER.CANCEL",),
                     ("ORDER.GET",), ("ORDER.LIST", self.buyer, 0), ("LIKE.ADD", self.buyer),
                     ("LIKE.DEL", self.buyer, item, 1), ("LIKE.COUNT",), ("POINTS.GET",),
                     ("POINTS.CHARGE", self.buyer), ("COUPON.ISSUE", "c", self.buyer, "FIXED"),
                     ("COUPON.GET",), ("PRODUCT.GET",), ("PRODUCT.PUT", item, self.brand, 5),
                     ("BRAND.PUT", self.brand), ("STOCK.GET", item, "WITHHELD", "x")]:
            with self.subTest(args=args):
                self.assert_refused(args, "ERR ", f"wrong arity {args}")
        self.assertEqual(as_dict(self.call("PRODUCT.GET", item))["price"], 1000)

    def test_points_charge(self):
        user = self.user()
        for amount in (0, -5, "ten"):
            with self.subTest(amount=amount):
                self.assert_error(self.call("POINTS.CHARGE", user, amount), "ERR ",
                                  f"POINTS.CHARGE {amount}")
                self.assertEqual(self.points(user), 0)
        self.assertEqual(self.call("POINTS.CHARGE", user, 10 ** 12), 10 ** 12)
        self.assert_error(self.call("POINTS.CHARGE", user, 1), "LIMIT ", "a balance past 10^12")
        self.assertEqual(self.points(user), 10 ** 12)

    def test_points_held_by_pending_orders_count_toward_the_limit(self):
        """orders.md, "Points": balance + points held by pending orders <= 10^12."""
        user = self.user(points=10 ** 12)
        product = self.product(price=10 ** 12, stock=5)
        order = f"held-{self.new_id()}"
        self.place_ok(order, user, HOLD_LONG_MS, [(product, 1)], points=4 * 10 ** 11)
        self.assertEqual(self.points(user), 6 * 10 ** 11)
        self.assert_error(self.call("POINTS.CHARGE", user, 1), "LIMIT ",
                          "10^12 with the 4 x 10^11 held")
        self.assertEqual(self.points(user), 6 * 10 ** 11, "a refused charge changes nothing")
        self.assertEqual(as_dict(self.call("ORDER.CANCEL", order))["status"], b"CANCELLED")
        self.assertEqual(self.points(user), 10 ** 12, "the refund stays within the limit")

    def test_coupon_issue(self):
        user = self.user()
        coupon = self.coupon(user, "PERCENT", 20)
        self.assertEqual(self.call("COUPON.ISSUE", coupon, user, "PERCENT", 20), b"OK",
                         "issuing again with the same contents")
        state = self.coupon_state(coupon)
        self.assertEqual(state, {"id": coupon.encode(), "user": user, "kind": b"PERCENT",
                                 "value": 20, "state": b"AVAILABLE", "order": b""})
        for args in [(coupon, user, "PERCENT", 30), (coupon, user, "FIXED", 20),
                     (coupon, self.new_id(), "PERCENT", 20)]:
            with self.subTest(other_contents=args):
                self.assert_error(self.call("COUPON.ISSUE", *args), "ERR ", f"{args}")
                self.assertEqual(self.coupon_state(coupon), state)
        for kind, value in (("PERCENT", 0), ("PERCENT", 101), ("FIXED", 0), ("FIXED", -1),
                            ("FIXED", 10 ** 12 + 1), ("HALF", 50), ("FIXED", "lots")):
            with self.subTest(kind=kind, value=value):
                fresh = f"coupon-bad-{self.new_id()}"
                self.assert_error(self.call("COUPON.ISSUE", fresh, user, kind, value),
                                  ("ERR ", "LIMIT "), f"COUPON.ISSUE {kind} {value}")
                self.assertIsNone(self.call("COUPON.GET", fresh))
        self.assertIsNone(self.call("COUPON.GET", "never-issued"))

    def test_catalog(self):
        unknown_brand = self.new_id()
        product = self.new_id()
        self.assertEqual(self.call("PRODUCT.PUT", product, unknown_brand, 100, "x"),
                         f"NOTFOUND brand {unknown_brand}")
        self.assertIsNone(self.call("PRODUCT.GET", product))
        for price in (-1, 10 ** 12 + 1, "free"):
            with self.subTest(price=price):
                self.assert_error(self.call("PRODUCT.PUT", product, self.brand, price, "x"),
                                  ("ERR ", "LIMIT "), f"price {price}")
                self.assertIsNone(self.call("PRODUCT.GET", product))


# ---------------------------------------------------------------------------- likes, catalog

class LikesAndCatalogTest(OrdersTestCase):
    def test_product_list_orders_follow_puts_and_likes(self):
        brand = self.new_id()
        self.assertEqual(self.call("BRAND.PUT", brand, "listed brand"), b"OK")
        products = []
        for price in (300, 100, 200):  # created in this order: the last is the newest
            product = self.new_id()
            self.assertEqual(self.call("PRODUCT.PUT", product, brand, price, f"p{price}"), b"OK")
            products.append(product)
        cheap, middle = products[1], products[2]

        def listed(sort, offset=0, count=100):
            page = self.call("PRODUCT.LIST", sort, offset, count, "BRAND", brand)
            return [as_dict(record)["id"] for record in page]

        self.assertEqual(listed("PRICE_ASC"), [products[1], products[2], products[0]])
        self.assertEqual(listed("PRICE_ASC", 1, 1), [products[2]])
        latest = listed("LATEST")
        self.assertEqual(sorted(latest), sorted(products))
        created = {p: as_dict(self.call("PRODUCT.GET", p))["created_ms"] for p in products}
        self.assertEqual([created[p] for p in latest], sorted(created.values(), reverse=True))
        for user in (self.user(), self.user()):
            self.assertEqual(self.call("LIKE.ADD", user, middle), 1)
        self.assertEqual(listed("LIKES_DESC", 0, 1), [middle])
        # A price change moves the product in the same step; the record comes whole.
        self.assertEqual(self.call("PRODUCT.PUT", cheap, brand, 999, "now dear"), b"OK")
        self.assertEqual(listed("PRICE_ASC")[-1], cheap)
        record = as_dict(self.call("PRODUCT.LIST", "PRICE_ASC", 2, 1, "BRAND", brand)[0])
        self.assertEqual((record["price"], record["name"]), (999, b"now dear"))
        self.assertEqual(self.call("PRODUCT.LIST", "LATEST", 0, 5, "BRAND", self.new_id()), [])
        self.assertEqual(len(self.call("PRODUCT.LIST", "LATEST", 0, 2)), 2)  # all brands
        for bad in (("CHEAPEST", 0, 10), ("LATEST", 0, 101), ("LATEST", -1, 10),
                    ("LATEST", 0, 10, "BRAND"), ("LATEST", 0, 10, "SHOP", 1)):
            self.assertIsInstance(self.call("PRODUCT.LIST", *bad), Error, bad)

    def test_add_and_del_are_idempotent(self):
        product = self.product()
        user = self.user()
        self.assertEqual(self.call("LIKE.DEL", user, product), 0, "unliking what was not liked")
        self.assertEqual(self.call("LIKE.COUNT", product), 0, "never negative")
        self.assertEqual(self.call("LIKE.ADD", user, product), 1)
        self.assertEqual(self.call("LIKE.ADD", user, product), 0, "liking twice is a no-op")
        self.assertEqual(self.call("LIKE.COUNT", product), 1)
        self.assertEqual(as_dict(self.call("PRODUCT.GET", product))["likes"], 1)
        self.assertEqual(self.call("LIKE.DEL", user, product), 1)
        self.assertEqual(self.call("LIKE.DEL", user, product), 0)
        self.assertEqual(self.call("LIKE.COUNT", product), 0)
        self.assertEqual(as_dict(self.call("PRODUCT.GET", product))["likes"], 0)

    def test_like_list_most_recent_first(self):
        products = [self.product() for _ in range(4)]
        user = self.user()
        for product in products[:3]:
            self.assertEqual(self.call("LIKE.ADD", user, product), 1)
        first, second, third, fourth = products
        self.assertEqual(self.call("LIKE.LIST", user, 0, 100), [third, second, first])
        self.assertEqual(self.call("LIKE.ADD", user, first), 0)
        self.assertEqual(self.call("LIKE.LIST", user, 0, 100), [third, second, first],
                         "a like that changed nothing does not move")
        self.assertEqual(self.call("LIKE.DEL", user, second), 1)
        self.assertEqual(self.call("LIKE.ADD", user, second), 1)
        self.assertEqual(self.call("LIKE.ADD", user, fourth), 1)
        self.assertEqual(self.call("LIKE.LIST", user, 0, 100), [fourth, second, third, first])
        self.assertEqual(self.call("LIKE.LIST", user, 1, 2), [second, third])
        self.assertEqual(self.call("LIKE.LIST", user, 3, 100), [first])
        self.assertEqual(self.call("LIKE.LIST", user, 4, 100), [])
        self.assertEqual(self.call("LIKE.LIST", user, 0, 0), [])
        self.assertEqual(self.call("LIKE.LIST", self.new_id(), 0, 100), [], "a user with none")
        self.assert_error(self.call("LIKE.LIST", user, 0, 101), ("ERR ", "LIMIT "),
                          "count above 100")
        for product in products:
            self.assertEqual(self.call("LIKE.COUNT", product), 1)

    def test_like_unknown_product(self):
        user = self.user()
        unknown = self.new_id() + 10 ** 12
        self.assertEqual(self.call("LIKE.ADD", user, unknown), f"NOTFOUND product {unknown}")
        self.assertEqual(self.call("LIKE.DEL", user, unknown), f"NOTFOUND product {unknown}")
        self.assertEqual(self.call("LIKE.LIST", user, 0, 100), [], "nothing was recorded")

    def test_product_get(self):
        before = now_ms()
        product = self.product(price=4200, stock=None, name="Blue Mug")
        after = now_ms()
        fields = as_dict(self.call("PRODUCT.GET", product))
        self.assertEqual(set(fields), PRODUCT_FIELDS)
        self.assertEqual((fields["id"], fields["brand"], fields["price"], fields["name"],
                          fields["likes"], fields["stock"], fields["held"]),
                         (product, self.brand, 4200, b"Blue Mug", 0, None, 0),
                         "no stock counter yet: stock is nil")
        self.assertGreaterEqual(fields["created_ms"], before - CLOCK_TOLERANCE_MS)
        self.assertLessEqual(fields["created_ms"], after + CLOCK_TOLERANCE_MS)
        self.assertEqual(self.call("STOCK.SET", product, 9), 9)
        user = self.user()
        self.place_ok(self.order_id("o"), user, HOLD_LONG_MS, [(product, 4)])
        self.assertEqual(self.call("LIKE.ADD", user, product), 1)
        # An update keeps the created time.
        other_brand = self.new_id()
        self.assertEqual(self.call("BRAND.PUT", other_brand, "Other"), b"OK")
        self.assertEqual(self.call("BRAND.PUT", other_brand, "Other, renamed"), b"OK")
        self.assertEqual(self.call("PRODUCT.PUT", product, other_brand, 5000, "Red Mug"), b"OK")
        updated = as_dict(self.call("PRODUCT.GET", product))
        self.assertEqual(updated, dict(fields, brand=other_brand, price=5000, name=b"Red Mug",
                                       likes=1, stock=5, held=4))
        self.assertIsNone(self.call("PRODUCT.GET", self.new_id() + 10 ** 12))


class RankingEventsTest(OrdersTestCase):
    """orders.md, "Ranking events": a confirm counts each item for the ranking, whatever the
    order id (1..64 bytes) and product id (0..2^63-1): an event id is at most 64 bytes."""

    def order_signals(self, day, product):
        reply = self.call("RANK.SIGNALS", "all", day, product)
        self.assertNotIsInstance(reply, Error, f"RANK.SIGNALS all {day} {product}")
        self.assertIsNotNone(reply, f"product {product} has no signals on {day}: its ORDER "
                                    "event was refused")
        return float(as_dict(reply)["order_sum"])

    def test_longest_order_id_and_product_ids_reach_the_ranking(self):
        largest = 2 ** 63 - 1
        products = (largest, largest - 1)
        for product, price in zip(products, (700, 900)):
            self.assertEqual(self.call("PRODUCT.PUT", product, self.brand, price, "far"), b"OK")
            self.assertEqual(self.call("STOCK.SET", product, 10), 10)
        order = "o" * 64
        user = self.user()
        self.place_ok(order, user, HOLD_LONG_MS, [(products[0], 2), (products[1], 3)])
        before = now_ms()
        self.assertEqual(as_dict(self.call("ORDER.CONFIRM", order))["status"], b"PAID")
        day = time.strftime("%Y%m%d", time.gmtime(before / 1000))  # --ranking-tz UTC
        if time.strftime("%Y%m%d", time.gmtime(now_ms() / 1000)) != day:
            self.skipTest("midnight UTC passed during the test")
        # Each item its own event: two products of one order are two ids.
        self.assertAlmostEqual(self.order_signals(day, products[0]), math.log1p(2 * 700))
        self.assertAlmostEqual(self.order_signals(day, products[1]), math.log1p(3 * 900))
        self.assert_server_alive()


# ---------------------------------------------------------------------------------- stress

class ThreadLog:
    """What one stress client was told, acknowledged outcome by acknowledged outcome."""

    def __init__(self):
        self.orders = {}                 # order id -> {"items", "points", "total", "state"}
        self.placed = []                 # order ids, in placement order
        self.failed = []                 # order ids answered SOLDOUT
        self.restocked = collections.Counter()
        self.like_delta = collections.Counter()   # (user, product) -> adds - removes
        self.problems = []               # (request, reply, why)
        self.counts = collections.Counter()


class StressTest(OrdersTestCase):
    def test_randomized_orders_keep_every_unit(self):
        seed = int(os.environ.get("PODIUM_STRESS_SEED", random.randrange(1 << 30)))
        master = random.Random(seed)
        prices, initial = {}, {}
        for _ in range(STRESS_PRODUCTS):
            price = master.randint(100, 1000)
            units = master.randint(50, 150)
            product = self.product(price=price, stock=units)
            prices[product], initial[product] = price, units
        products = sorted(prices)
        charged = 10 ** 6
        buyers = [self.user(points=charged) for _ in range(STRESS_THREADS)]
        like_users = [self.user() for _ in range(STRESS_LIKE_USERS)]
        logs = [ThreadLog() for _ in range(STRESS_THREADS)]

        def work(client, index):
            rng = random.Random(seed * 1000 + index)
            log, user = logs[index], buyers[index]
            pending = []  # own orders this client believes PENDING
            for step in range(STRESS_OPS_PER_THREAD):
                roll = rng.random()
                log.counts["ops"] += 1
                if roll < 0.45:
                    self._stress_place(client, rng, log, pending, user, products, prices,
                                       f"s{seed}-{index}-{step}")
                elif roll < 0.72:
                    verb = "CONFIRM" if roll < 0.62 else "CANCEL"
                    self._stress_settle(client, rng, log, pending, verb)
                elif roll < 0.77:
                    product, units = rng.choice(products), rng.randint(1, 10)
                    reply = call(client, "STOCK.ADD", product, units)
                    if isinstance(reply, int) and reply >= units:
                        log.restocked[product] += units
                    else:
                        log.problems.append((("STOCK.ADD", product, units), reply, "restock"))
                else:
                    liker, product = rng.choice(like_users), rng.choice(products)
                    verb = "LIKE.ADD" if rng.random() < 0.6 else "LIKE.DEL"
                    reply = call(client, verb, liker, product)
                    if reply not in (0, 1) or isinstance(reply, Error):
                        log.problems.append(((verb, liker, product), reply, "like"))
                    else:
                        log.like_delta[(liker, product)] += reply if verb == "LIKE.ADD" \
                            else -reply

        started = time.monotonic()
        run_together(self.port, STRESS_THREADS, work)
        elapsed = time.monotonic() - started
        context = f"(seed {seed}; PODIUM_STRESS_SEED={seed} repeats it)"
        problems = [problem for log in logs for problem in log.problems]
        self.assertEqual(problems[:20], [], f"{len(problems)} unexpected replies {context}")
        counts = sum((log.counts for log in logs), collections.Counter())
        self.assertEqual(counts["ops"], STRESS_THREADS * STRESS_OPS_PER_THREAD)

        orders = {}
        for log in logs:
            orders.update(log.orders)

        # Wait for every hold the clients left pending to expire (bounded: holds are <= 5 s).
        unresolved = {order for order, seen in orders.items() if seen["state"] == "PENDING"}

        def settled():
            for order in list(unresolved):
                if (self.get_order(order) or {}).get("status") != b"PENDING":
                    unresolved.discard(order)
            return not unresolved

        fx.wait_until(settled, 5.0 + EXPIRY_DEADLINE_S, f"every pending hold to expire {context}",
                      interval_s=0.1)

        # Every order is in the one final state its client saw.
        paid_units = collections.Counter()
        paid_points = collections.Counter()
        final = collections.Counter()
        for order, seen in orders.items():
            stored = self.get_order(order)
            expected = {"PAID": b"PAID", "CANCELLED": b"CANCELLED"}.get(seen["state"], b"EXPIRED")
            self.assertEqual(stored["status"], expected,
                             f"order {order}: the client saw {seen['state']} {context}")
            self.assertEqual(sorted(stored["items"]),
                             sorted([product, quantity, prices[product]]
                                    for product, quantity in seen["items"]), f"order {order}")
            self.assertEqual((stored["total"], stored["points"], stored["pay"]),
                             (seen["total"], seen["points"], seen["total"] - seen["points"]),
                             f"order {order}")
            final[expected] += 1
            if expected == b"PAID":
                for product, quantity in seen["items"]:
                    paid_units[product] += quantity
                paid_points[stored["user"]] += seen["points"]
        for log in logs:
            for order in log.failed:
                self.assertIsNone(self.get_order(order), f"SOLDOUT order {order} was stored")

        # No unit lost or created: available + held + sold == initial + restocked.
        restocked = sum((log.restocked for log in logs), collections.Counter())
        for product in products:
            available, held = self.stock(product)
            self.assertGreaterEqual(available, 0, f"product {product} {context}")
            self.assertEqual(held, 0, f"product {product}: nothing is pending {context}")
            self.assertEqual(available + held + paid_units[product],
                             initial[product] + restocked[product],
                             f"product {product}: available {available} + held {held} + sold "
                             f"{paid_units[product]} != initial {initial[product]} + restocked "
                             f"{restocked[product]} {context}")
            fields = as_dict(self.call("PRODUCT.GET", product))
            self.assertEqual((fields["stock"], fields["held"]), (available, held))

        # Points: only PAID orders keep theirs.
        for index, user in enumerate(buyers):
            self.assertEqual(self.points(user), charged - paid_points[user],
                             f"user {user}'s balance {context}")
            # ORDER.LIST: every placed order, most recent first, page by page.
            listed, offset = [], 0
            while True:
                page = self.order_list(user, offset, 100)
                listed += page
                offset += 100
                if len(page) < 100:
                    break
            self.assertEqual(listed, [order.encode() for order in reversed(logs[index].placed)],
                             f"ORDER.LIST of user {user} {context}")

        # Likes: each (user, product) changed at most to liked and back; counts add up.
        like_delta = collections.Counter()
        for log in logs:
            like_delta.update(log.like_delta)  # update, not +: a Counter sum drops negatives
        for (liker, product), delta in like_delta.items():
            self.assertIn(delta, (0, 1), f"user {liker} product {product}: adds - removes")
        for product in products:
            expected = sum(like_delta[(liker, product)] for liker in like_users)
            self.assertEqual(self.call("LIKE.COUNT", product), expected,
                             f"LIKE.COUNT {product} {context}")
        for liker in like_users:
            liked = {product for product in products if like_delta[(liker, product)] == 1}
            listed = self.call("LIKE.LIST", liker, 0, 100)
            self.assertEqual(len(listed), len(set(listed)), f"LIKE.LIST {liker} repeats")
            self.assertEqual(set(listed), liked, f"LIKE.LIST {liker} {context}")

        # The mix really exercised every path.
        for state in (b"PAID", b"CANCELLED", b"EXPIRED"):
            self.assertGreater(final[state], 0, f"no {state} orders: {final} {context}")
        if os.environ.get("PODIUM_STRESS_VERBOSE"):
            print(f"\nstress: {counts['ops']} ops in {elapsed:.1f} s, {dict(counts)}, "
                  f"final {dict(final)}, seed {seed}", file=sys.stderr)

    @staticmethod
    def _stress_place(client, rng, log, pending, user, products, prices, order):
        chosen = rng.sample(products, rng.randint(1, 3))
        items = [(product, rng.randint(1, 3)) for product in chosen]
        total = sum(prices[product] * quantity for product, quantity in items)
        points = rng.randint(1, min(total, 50)) if rng.random() < 0.3 else 0
        hold_ms = rng.randint(50, 5000)
        args = place_args(order, user, hold_ms, items, points=points or None)
        reply = call(client, *args)
        if isinstance(reply, Error):
            words = reply.split(" ")
            if (len(words) == 3 and words[0] == "SOLDOUT" and words[1].isdigit()
                    and int(words[1]) in chosen and words[2].isdigit()):
                log.failed.append(order)
                log.counts["soldout"] += 1
            else:
                log.problems.append((args, reply, "place"))
            return
        try:
            placed = as_dict(reply)
        except AssertionError as error:
            log.problems.append((args, reply, str(error)))
            return
        want = {"order": order.encode(), "status": b"PENDING", "total": total, "discount": 0,
                "points": points, "pay": total - points}
        got = {field: placed.get(field) for field in want}
        if got != want or set(placed) != ORDER_PLACE_FIELDS:
            log.problems.append((args, reply, f"expected {want}"))
            return
        log.orders[order] = {"items": items, "points": points, "total": total,
                             "state": "PENDING"}
        log.placed.append(order)
        log.counts["placed"] += 1
        pending.append(order)

    @staticmethod
    def _stress_settle(client, rng, log, pending, verb):
        """ORDER.CONFIRM or ORDER.CANCEL of one of this client's orders, mostly pending ones."""
        if pending and rng.random() < 0.85:
            index = rng.randrange(len(pending))
            order = pending[index]
            pending[index] = pending[-1]
            pending.pop()
        elif log.placed:
            order = rng.choice(log.placed)
        else:
            return
        seen = log.orders[order]
        target = "PAID" if verb == "CONFIRM" else "CANCELLED"
        reply = call(client, f"ORDER.{verb}", order)
        if seen["state"] == "PENDING":
            if reply == f"ERR order {order} is EXPIRED":
                seen["state"] = "EXPIRED"
                log.counts[f"{verb.lower()} found EXPIRED"] += 1
                return
            try:
                status = as_dict(reply)["status"]
            except AssertionError:
                status = None
            if status == target.encode():
                seen["state"] = target
                log.counts[f"{verb.lower()} -> {target}"] += 1
            else:
                log.problems.append(((f"ORDER.{verb}", order), reply, "of a pending order"))
        elif reply == f"ERR order {order} is {seen['state']}":
            log.counts[f"{verb.lower()} of a final order"] += 1
        else:
            log.problems.append(((f"ORDER.{verb}", order), reply,
                                 f"of an order the client saw {seen['state']}"))


if __name__ == "__main__":
    fx.main()
