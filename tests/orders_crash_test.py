#!/usr/bin/python3
"""The order book survives restarts and SIGKILLs: docs/orders.md "Durability" and
docs/operations.md ("How durable is an acknowledged write", "Snapshots", "Start and recovery"),
against the real podium-server on a real data directory.

Written from the documentation alone (orders.md, operations.md, the order/stock rows of
protocol.md "Commands"); it follows crash_test.py (start on one --data_dir, SIGKILL, restart on
the same directory, judge "acknowledged" against "in flight") and orders_test.py (redis-py with
whole error lines, field/value replies).

RestartTest builds a book with every kind of state: brands (one renamed), products (one without a
stock counter, one repriced, one moved to another brand), points, coupons AVAILABLE / HELD / USED
(and one given back by a cancel), likes (one removed: LIKE.LIST order matters), orders PENDING,
PAID, CANCELLED and EXPIRED, a restock and a SOLDOUT that must leave nothing. It reads everything
(PRODUCT.GET, STOCK.GET WITHHELD, LIKE.COUNT, POINTS.GET, ORDER.LIST, LIKE.LIST, COUPON.GET,
ORDER.GET, PRODUCT.LIST in its three orders), restarts, and requires the same answers, then the
book's invariants, idempotent retries answering the original placement reply, and more work
after the restart that survives one more restart. The restarts:

- clean: SIGTERM (the server snapshots at shutdown), default --fsync; a 1500 ms hold whose
  deadline passes while the server is down ends EXPIRED at the first sweep with its stock,
  points and coupon given back; a 3000 ms hold stays PENDING with the same expires_ms after the
  restart and expires later by itself;
- SIGKILL with no snapshot at all (recovery is WAL replay alone); a 1500 ms hold placed just
  before the kill keeps its deadline and expires after the restart;
- SIGKILL after SAVE, and after BGSAVE, with more changes after the snapshot (snapshot + log);
- SIGKILL with --snapshot_wal_bytes=65536 and four clients placing, confirming, cancelling and
  liking until the server has taken two snapshots by itself during the load.

KillUnderLoadTest: --fsync=always, CLIENTS threads (each its own connection and user) loop on
ORDER.PLACE (1-3 items of 100 products, two of them scarce so that SOLDOUT and its rollback
happen, points and a coupon of their own sometimes, 10-minute holds), ORDER.CONFIRM /
ORDER.CANCEL of their own orders (sometimes of a final one, which must be refused), STOCK.ADD
restocks and a few checked reads. The server is SIGKILLed at random moments KILLS times and
restarted on the same directory. After each restart (and after a last clean restart) the
recovered book is judged against what the clients were told:

- every acknowledged placement exists with the acknowledged contents (items at the catalog
  price, total, discount, points, pay, coupon, expires_ms); ORDER.LIST of each user is exactly
  its acknowledged placements, most recent first, plus possibly the one in flight;
- an acknowledged confirm left the order PAID, an acknowledged cancel CANCELLED; an acknowledged
  refusal of a final order changed nothing; only the single request in flight per client at the
  kill may or may not have happened (a placement present or absent, a confirm/cancel done or
  not, a restock counted or not), and nothing else;
- SOLDOUT placements were never stored;
- for every product: available + held + sold == initial + restocked (acknowledged restocks plus
  any subset of those in flight), with sold = units of PAID orders and held = units of PENDING
  orders, which STOCK.GET WITHHELD and PRODUCT.GET must report exactly; nothing is negative;
- each user's balance == charged - points of its PENDING and PAID orders;
- each coupon is HELD by its PENDING order, USED by its PAID order, AVAILABLE (empty `order`)
  otherwise, and never held by two orders;
- a placement that was in flight is retried by its client after the restart, as a real client
  would: if it had been stored, the retry answers the original placement reply (idempotency
  survives the crash) and takes nothing more.

What makes these tests fail (they are meant to): a reply sent before its WAL record is durable
(an acknowledged placement, confirm or cancel missing or rolled back after the SIGKILL); a book
record that is not one atomic unit or replays in another order than the cells saw it (stock
taken without its order, an order whose coupon or points were not taken, a coupon HELD by an
order that is CANCELLED: the ledger, points and coupon checks); held units rebuilt wrongly at
recovery (STOCK.GET WITHHELD); deadlines recomputed at start instead of kept (expires_ms
changes, a hold never expires); idempotency keys not recovered (a retry placing a second time);
the snapshot missing or mis-encoding part of the book (the SAVE/BGSAVE/--snapshot_wal_bytes
restarts). As a check of the checker, PODIUM_ORDERS_CRASH_FSYNC=no runs the load with --fsync=no,
whose SIGKILL may lose the last millisecond of acknowledged writes (operations.md): that run is
expected to report lost acknowledged requests.

Timing: no sleeps stand in for synchronisation; waits are bounded polls (fx.wait_until). The
only sleep is the random crash point, as in crash_test.py.
"""

import collections
import ctypes
import math
import os
import random
import shutil
import signal
import struct
import sys
import tempfile
import threading
import time
import traceback
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import redis  # noqa: E402  (Debian's python3-redis)

import podium_fixture as fx  # noqa: E402
from orders_test import (CLOCK_TOLERANCE_MS, EXPIRY_DEADLINE_S, HOLD_LONG_MS,  # noqa: E402
                         ORDER_FIELDS, ORDER_PLACE_FIELDS, PRODUCT_FIELDS, COUPON_FIELDS, Error,
                         as_dict, call, connect, disconnect, now_ms, place_args)

PRODUCT_LIST_ORDERS = ("LATEST", "PRICE_ASC", "LIKES_DESC")
PIPELINE_CHUNK = 500
START_TIMEOUT_S = 15.0
SHORT_HOLD_MS = 1500          # expires while the server is down, or right after the restart
LATER_HOLD_MS = 3000          # still pending after a clean restart, expires after it

KILLS = int(os.environ.get("PODIUM_ORDERS_CRASH_KILLS", "10"))
CLIENTS = 50
LOAD_PRODUCTS = 100
LOAD_INITIAL_UNITS = 3000
LOAD_SCARCE_UNITS = 40        # the first LOAD_SCARCE products: SOLDOUT and its rollback happen
LOAD_SCARCE = 2
LOAD_CHARGED = 10 ** 7
LOAD_COUPONS_PER_CLIENT = 40
LOAD_SECONDS_MIN = 0.1        # the crash point, after the load is seen running
LOAD_SECONDS_MAX = 0.8
LOAD_RUNNING_ACKS = 40        # acknowledged requests in a cycle before the crash point
LOAD_FSYNC = os.environ.get("PODIUM_ORDERS_CRASH_FSYNC", "always")
JOIN_S = 30.0

BULK_CLIENTS = 4
BULK_ORDERS_MIN = 100         # per client, then on until the server took BULK_SNAPSHOTS
BULK_SNAPSHOTS = 2
BULK_TIMEOUT_S = 20.0


# ------------------------------------------------------------------------------ reading

def read_all(db, commands):
    """The replies of many read commands, pipelined without a transaction; errors as Error."""
    replies = []
    for start in range(0, len(commands), PIPELINE_CHUNK):
        pipe = db.pipeline(transaction=False)
        for command in commands[start:start + PIPELINE_CHUNK]:
            pipe.execute_command(*command)
        for reply in pipe.execute(raise_on_error=False):
            replies.append(Error(str(reply)) if isinstance(reply, redis.ResponseError)
                           else reply)
    return replies


def order_list_all(db, user):
    """ORDER.LIST of a user, every page (most recent first)."""
    listed, offset = [], 0
    while True:
        page = call(db, "ORDER.LIST", user, offset, 100)
        if not isinstance(page, list):
            raise AssertionError(f"ORDER.LIST {user} {offset} 100 -> {page!r}")
        listed += page
        if len(page) < 100:
            return listed
        offset += 100


SECTIONS = ("product", "stock", "likes", "points", "orders_of", "liked", "coupon", "order",
            "list")


def capture(db, products=(), users=(), coupons=(), orders=(), brands=()):
    """Everything the server answers about these ids, section by section.

    product: PRODUCT.GET; stock: STOCK.GET WITHHELD; likes: LIKE.COUNT; points: POINTS.GET;
    orders_of: ORDER.LIST (all pages); liked: LIKE.LIST; coupon: COUPON.GET; order: ORDER.GET;
    list: PRODUCT.LIST ids per (order, brand or None for all), only those in `products`.
    """
    commands, slots = [], []

    def add(section, key, *command):
        commands.append(command)
        slots.append((section, key))

    for product in products:
        add("product", product, "PRODUCT.GET", product)
        add("stock", product, "STOCK.GET", product, "WITHHELD")
        add("likes", product, "LIKE.COUNT", product)
    for user in users:
        add("points", user, "POINTS.GET", user)
        add("liked", user, "LIKE.LIST", user, 0, 100)
    for coupon in coupons:
        add("coupon", coupon, "COUPON.GET", coupon)
    for order in orders:
        add("order", order, "ORDER.GET", order)
    if brands:
        for kind in PRODUCT_LIST_ORDERS:
            add("list", (kind, None), "PRODUCT.LIST", kind, 0, 100)
            for brand in brands:
                add("list", (kind, brand), "PRODUCT.LIST", kind, 0, 100, "BRAND", brand)
    cap = {section: {} for section in SECTIONS}
    for (section, key), command, reply in zip(slots, commands, read_all(db, commands)):
        if isinstance(reply, Error):
            raise AssertionError(f"{' '.join(map(str, command))} -> -{reply}")
        if section in ("product", "coupon", "order"):
            reply = as_dict(reply)
            expected = {"product": PRODUCT_FIELDS, "coupon": COUPON_FIELDS,
                        "order": ORDER_FIELDS}[section]
            if reply is not None and set(reply) != expected:
                raise AssertionError(f"{' '.join(map(str, command))}: fields {sorted(reply)}")
        elif section == "list":
            if not isinstance(reply, list):
                raise AssertionError(f"{' '.join(map(str, command))} -> {reply!r}")
            # Only the ids asked about: products made after a capture must not count.
            wanted = set(products)
            reply = [as_dict(entry)["id"] for entry in reply if as_dict(entry)["id"] in wanted]
        elif section == "stock":
            if not (isinstance(reply, list) and len(reply) == 2):
                raise AssertionError(f"{' '.join(map(str, command))} -> {reply!r}")
        cap[section][key] = reply
    for user in users:
        cap["orders_of"][user] = order_list_all(db, user)
    return cap


def capture_differences(before, after):
    """Lines naming every answer that differs between two captures of the same ids."""
    missing = object()
    lines = []
    for section in SECTIONS:
        for key, value in before[section].items():
            now = after[section].get(key, missing)
            if now != value:
                lines.append(f"{section} {key!r}: before {value!r}, after "
                             f"{'(not read)' if now is missing else repr(now)}")
    return lines


def book_problems(cap, put_in, charged):
    """The book's invariants over a capture that holds every order touching its products,
    users and coupons. put_in: product -> set of allowed units put in (STOCK.SET/ADD);
    charged: user -> points charged. Returns (problems, implied units put in per product)."""
    problems = []
    held, sold, spent = collections.Counter(), collections.Counter(), collections.Counter()
    holders = collections.defaultdict(list)
    for order_id, order in cap["order"].items():
        if order is None:
            continue
        status = order["status"]
        if status not in (b"PENDING", b"PAID", b"CANCELLED", b"EXPIRED"):
            problems.append(f"order {order_id}: status {status!r}")
        for product, quantity, _price in order["items"]:
            if status == b"PENDING":
                held[product] += quantity
            elif status == b"PAID":
                sold[product] += quantity
        if status in (b"PENDING", b"PAID"):
            spent[order["user"]] += order["points"]
            if order["coupon"]:
                holders[order["coupon"]].append((order_id, status))
    implied = {}
    for product, allowed in put_in.items():
        available, withheld = cap["stock"][product]
        if not isinstance(available, int) or available < 0 or withheld < 0:
            problems.append(f"product {product}: STOCK.GET WITHHELD {[available, withheld]}")
            continue
        if withheld != held[product]:
            problems.append(f"product {product}: STOCK.GET WITHHELD says {withheld} held, the "
                            f"PENDING orders hold {held[product]}")
        implied[product] = available + withheld + sold[product]
        if implied[product] not in allowed:
            problems.append(f"product {product}: available {available} + held {withheld} + sold "
                            f"{sold[product]} = {implied[product]}, units put in: "
                            f"{sorted(allowed)}")
        fields = cap["product"].get(product)
        if fields is not None and (fields["stock"], fields["held"]) != (available, withheld):
            problems.append(f"product {product}: PRODUCT.GET stock/held "
                            f"{(fields['stock'], fields['held'])}, STOCK.GET WITHHELD "
                            f"{(available, withheld)}")
    for user, amount in charged.items():
        balance = cap["points"][user]
        if balance != amount - spent[user] or balance < 0:
            problems.append(f"user {user}: balance {balance}, charged {amount} - points of "
                            f"PENDING and PAID orders {spent[user]} = {amount - spent[user]}")
    for coupon, fields in cap["coupon"].items():
        if fields is None:
            problems.append(f"coupon {coupon} is gone")
            continue
        owners = holders.get(coupon.encode(), [])
        if len(owners) > 1:
            problems.append(f"coupon {coupon} is used by several live orders: {owners}")
            continue
        if owners:
            order_id, status = owners[0]
            expected = ({b"PENDING": b"HELD", b"PAID": b"USED"}[status], order_id.encode())
        else:
            expected = (b"AVAILABLE", b"")
        if (fields["state"], fields["order"]) != expected:
            problems.append(f"coupon {coupon}: state/order {(fields['state'], fields['order'])}, "
                            f"its orders say {expected}")
    return problems, implied


def discount_of(kind, value, total):
    if kind == "FIXED":
        return min(value, total)
    return total * value // 100


# --------------------------------------------------------------------------- the base class

class DataDirTestCase(unittest.TestCase):
    """One data directory per test; servers started on it with --data_dir, killed or stopped."""

    maxDiff = None

    def setUp(self):
        self.root = tempfile.mkdtemp(prefix="podium-orders-crash-")
        self.data_dir = os.path.join(self.root, "data")
        self.server = None
        self.clients = []
        self.server_args = []

    def tearDown(self):
        self.drop_clients()
        if self.server is not None:
            self.server.kill()
            self.server.cleanup()
        shutil.rmtree(self.root, ignore_errors=True)

    def start(self, fsync="always"):
        """Starts the server on the data directory; returns a connection that answered PING."""
        args = [f"--data_dir={self.data_dir}"] + self.server_args
        if fsync:
            args.insert(0, f"--fsync={fsync}")
        self.server = fx.ServerProcess(args).start()
        db = self.client()
        fx.wait_until(lambda: call(db, "PING") is True, START_TIMEOUT_S,
                      "PING to answer PONG after the start (not BUSY loading)")
        return db

    def client(self):
        db = connect(self.server.port)
        self.clients.append(db)
        return db

    def drop_clients(self):
        for db in self.clients:
            disconnect(db)
        self.clients = []

    def kill(self):
        """SIGKILL; returns the server's output."""
        self.drop_clients()
        self.server.process.send_signal(signal.SIGKILL)
        self.server.process.wait()
        log = self.server.stderr_text()
        self.server.cleanup()
        self.server = None
        return log

    def stop(self):
        """SIGTERM; the server must exit 0 in time (podium_fixture's contract)."""
        self.drop_clients()
        server, self.server = self.server, None
        server.stop_and_check()

    def snapshot_files(self):
        return sorted(name for name in os.listdir(self.data_dir) if name.endswith(".snap"))

    def info(self):
        return fx.info_fields(self.server.port)

    def raw(self, *args):
        """One command over a raw RESP connection: the reply as sent (redis-py turns SAVE's
        and BGSAVE's replies into True)."""
        with fx.RawConnection(self.server.port, timeout_s=30.0) as connection:
            return fx.resp_call(connection, *args, timeout_s=30.0)


# ------------------------------------------------------------------------ clean restarts

class Book:
    """Every id a RestartTest scenario made, and what was put in / charged."""

    def __init__(self):
        self.next_id = 7000
        self.brands, self.products, self.users, self.coupons, self.orders = [], [], [], [], []
        self.put_in = collections.Counter()
        self.charged = collections.Counter()
        self.placements = {}     # order id -> (args, the placement reply as a dict)
        self.named = {}          # scenario name -> id

    def new_id(self):
        self.next_id += 1
        return self.next_id

    def ids(self):
        return dict(products=self.products, users=self.users, coupons=self.coupons,
                    orders=self.orders, brands=self.brands)


class RestartTest(DataDirTestCase):
    # -- scenario steps, each checked against its documented reply

    def ok(self, reply, what):
        self.assertEqual(reply, b"OK", what)

    def brand(self, db, book, name):
        brand = book.new_id()
        self.ok(call(db, "BRAND.PUT", brand, name), f"BRAND.PUT {brand}")
        book.brands.append(brand)
        return brand

    def product(self, db, book, brand, price, units):
        product = book.new_id()
        self.ok(call(db, "PRODUCT.PUT", product, brand, price, f"product {product}"),
                f"PRODUCT.PUT {product}")
        if units is not None:
            self.assertEqual(call(db, "STOCK.SET", product, units), units)
            book.put_in[product] = units
        book.products.append(product)
        return product

    def user(self, db, book, points=0):
        user = book.new_id()
        if points:
            self.assertEqual(call(db, "POINTS.CHARGE", user, points), points)
            book.charged[user] += points
        else:
            book.charged[user] += 0
        book.users.append(user)
        return user

    def coupon(self, db, book, user, kind, value):
        coupon = f"cpn-{book.new_id()}"
        self.ok(call(db, "COUPON.ISSUE", coupon, user, kind, value), f"COUPON.ISSUE {coupon}")
        book.coupons.append(coupon)
        return coupon

    def place(self, db, book, name, user, hold_ms, items, coupon=None, points=None):
        order = f"{name}-{book.new_id()}"
        args = place_args(order, user, hold_ms, items, coupon, points)
        reply = call(db, *args)
        self.assertNotIsInstance(reply, Error, f"{args}")
        placed = as_dict(reply)
        self.assertEqual(set(placed), ORDER_PLACE_FIELDS)
        self.assertEqual((placed["order"], placed["status"]), (order.encode(), b"PENDING"))
        book.orders.append(order)
        book.placements[order] = (args, placed)
        book.named[name] = order
        return order

    def settle(self, db, order, verb, status):
        fields = as_dict(call(db, f"ORDER.{verb}", order))
        self.assertEqual(fields["status"], status, f"ORDER.{verb} {order}")

    def stock(self, db, product):
        return call(db, "STOCK.GET", product, "WITHHELD")

    # -- the book

    def first_half(self, db, book):
        """Catalog, points, coupons, likes, and orders in every state."""
        alpha = self.brand(db, book, "Alpha")
        beta = self.brand(db, book, "Beta")
        self.ok(call(db, "BRAND.PUT", alpha, "Alpha, renamed"), "BRAND.PUT rename")
        p = [self.product(db, book, alpha if i % 2 else beta, price, 50)
             for i, price in enumerate((1000, 2500, 300, 4200, 700))]
        bare = self.product(db, book, alpha, 999, None)     # in the catalog, no stock counter
        book.named.update(alpha=alpha, beta=beta, bare=bare)
        book.named.update({f"p{i}": product for i, product in enumerate(p)})
        u1 = self.user(db, book, 5000)
        u2 = self.user(db, book, 3000)
        self.assertEqual(call(db, "POINTS.CHARGE", u2, 500), 3500)
        book.charged[u2] += 500
        u3 = self.user(db, book)                             # never charged
        book.named.update(u1=u1, u2=u2, u3=u3)
        c_held = self.coupon(db, book, u1, "FIXED", 100)
        c_used = self.coupon(db, book, u1, "PERCENT", 10)
        c_back = self.coupon(db, book, u2, "FIXED", 200)
        c_fresh = self.coupon(db, book, u2, "PERCENT", 5)
        book.named.update(c_held=c_held, c_used=c_used, c_back=c_back, c_fresh=c_fresh)

        self.place(db, book, "paid", u1, HOLD_LONG_MS, [(p[0], 2), (p[1], 1)], c_used, 300)
        self.place(db, book, "cancelled", u2, HOLD_LONG_MS, [(p[1], 3)], c_back, 200)
        self.place(db, book, "pending", u1, HOLD_LONG_MS, [(p[2], 1), (p[3], 4)], c_held, 150)
        # A price change after a placement: the order keeps its total.
        self.ok(call(db, "PRODUCT.PUT", p[0], beta, 1200, "product repriced"), "reprice")
        # A hold that expires before any restart, by the server's own sweep.
        self.place(db, book, "expired", u2, 100, [(p[4], 2)], None, 100)
        fx.wait_until(lambda: self.stock(db, p[4]) == [50, 0], EXPIRY_DEADLINE_S,
                      "the 100 ms hold to expire by itself")
        self.assertEqual(as_dict(call(db, "ORDER.GET", book.named["expired"]))["status"],
                         b"EXPIRED")
        for user, product in ((u1, p[0]), (u1, p[1]), (u1, p[2]), (u2, p[1]), (u3, p[2]),
                              (u3, p[0])):
            self.assertEqual(call(db, "LIKE.ADD", user, product), 1)

    def second_half(self, db, book):
        """Changes to what the first half made, and more of everything."""
        n = book.named
        self.settle(db, n["paid"], "CONFIRM", b"PAID")
        self.settle(db, n["cancelled"], "CANCEL", b"CANCELLED")
        self.place(db, book, "pending2", n["u2"], HOLD_LONG_MS, [(n["p0"], 1)])
        self.place(db, book, "paid2", n["u3"], HOLD_LONG_MS, [(n["p4"], 5), (n["p2"], 1)])
        self.settle(db, n["paid2"], "CONFIRM", b"PAID")
        self.assertEqual(call(db, "STOCK.ADD", n["p3"], 7), 50 - 4 + 7)
        book.put_in[n["p3"]] += 7
        self.assertEqual(call(db, "LIKE.DEL", n["u1"], n["p1"]), 1)
        self.assertEqual(call(db, "LIKE.ADD", n["u3"], n["p4"]), 1)
        self.assertEqual(call(db, "LIKE.ADD", n["u1"], n["p1"]), 1)   # back, now most recent
        self.assertEqual(call(db, "LIKE.DEL", n["u2"], n["p1"]), 1)
        self.ok(call(db, "PRODUCT.PUT", n["bare"], n["beta"], 899, "bare, moved"), "move")
        late = self.product(db, book, n["beta"], 150, 20)
        n["late"] = late
        soldout = f"soldout-{book.new_id()}"
        self.assertEqual(call(db, *place_args(soldout, n["u3"], HOLD_LONG_MS,
                                              [(late, 1), (n["p3"], 1000)])),
                         f"SOLDOUT {n['p3']} {50 - 4 + 7}")
        book.orders.append(soldout)
        n["soldout"] = soldout

    def check_book_states(self, cap, book):
        """The scenario really made every state (so that 'equal after' means something)."""
        n = book.named
        statuses = {name: cap["order"][n[name]]["status"] if cap["order"][n[name]] else None
                    for name in ("paid", "cancelled", "pending", "expired", "pending2", "paid2",
                                 "soldout")}
        self.assertEqual(statuses, {"paid": b"PAID", "cancelled": b"CANCELLED",
                                    "pending": b"PENDING", "expired": b"EXPIRED",
                                    "pending2": b"PENDING", "paid2": b"PAID", "soldout": None})
        states = {name: (cap["coupon"][n[name]]["state"], cap["coupon"][n[name]]["order"])
                  for name in ("c_held", "c_used", "c_back", "c_fresh")}
        self.assertEqual(states, {"c_held": (b"HELD", n["pending"].encode()),
                                  "c_used": (b"USED", n["paid"].encode()),
                                  "c_back": (b"AVAILABLE", b""),
                                  "c_fresh": (b"AVAILABLE", b"")})
        self.assertEqual(cap["liked"][n["u1"]], [n["p1"], n["p2"], n["p0"]])
        self.assertEqual(cap["liked"][n["u3"]], [n["p4"], n["p0"], n["p2"]])
        self.assertEqual(cap["liked"][n["u2"]], [])
        self.assertEqual(cap["product"][n["bare"]]["stock"], None)
        self.assertEqual(cap["product"][n["p0"]]["price"], 1200)
        self.assertEqual(cap["order"][n["paid"]]["total"], 2 * 1000 + 2500)
        problems, _ = book_problems(cap, {p: {u} for p, u in book.put_in.items()}, book.charged)
        self.assertEqual(problems, [], "the book before any restart")

    def check_recovered(self, db, book, before, what):
        after = capture(db, **book.ids())
        self.assertEqual(capture_differences(before, after)[:10], [],
                         f"the book after {what} differs from before")
        problems, _ = book_problems(after, {p: {u} for p, u in book.put_in.items()},
                                    book.charged)
        self.assertEqual(problems, [], f"the book's invariants after {what}")
        return after

    def retries_answer_the_original(self, db, book, what):
        """Idempotency keys survive: same contents -> the original reply, nothing taken."""
        before = capture(db, **book.ids())
        for name in ("pending", "paid", "cancelled", "expired"):
            args, placed = book.placements[book.named[name]]
            self.assertEqual(as_dict(call(db, *args)), placed,
                             f"after {what}: a retry of the {name} order's placement answers "
                             f"the original reply")
        order = book.named["paid"]
        args, _ = book.placements[order]
        other = list(args)
        other[other.index("POINTS") + 1] = 299
        self.assertEqual(call(db, *other), f"ERR order {order} exists with other contents")
        self.assertEqual(capture_differences(before, capture(db, **book.ids()))[:10], [],
                         f"after {what}: retries took something")

    def work_after_restart(self, db, book):
        """The recovered book is live: confirm, reuse a given-back coupon, like."""
        n = book.named
        self.settle(db, n["pending"], "CONFIRM", b"PAID")
        self.place(db, book, "reuse", n["u2"], HOLD_LONG_MS, [(n["late"], 2)], n["c_back"], 50)
        self.settle(db, n["pending2"], "CANCEL", b"CANCELLED")
        self.assertEqual(call(db, "LIKE.ADD", n["u2"], n["late"]), 1)
        cap = capture(db, **book.ids())
        self.assertEqual((cap["coupon"][n["c_held"]]["state"], cap["coupon"][n["c_back"]]["state"]),
                         (b"USED", b"HELD"))
        return cap

    # -- short holds across the restart

    def place_short(self, db, book, hold_ms, tag):
        """An order on its own product, user and coupon, so its expiry touches nothing else."""
        brand = book.named["alpha"]
        product = book.new_id()
        self.ok(call(db, "PRODUCT.PUT", product, brand, 500, f"short {tag}"), "PRODUCT.PUT")
        self.assertEqual(call(db, "STOCK.SET", product, 10), 10)
        user = book.new_id()
        self.assertEqual(call(db, "POINTS.CHARGE", user, 1000), 1000)
        coupon = f"short-{tag}-{book.new_id()}"
        self.ok(call(db, "COUPON.ISSUE", coupon, user, "FIXED", 100), "COUPON.ISSUE")
        order = f"short-{tag}-{book.new_id()}"
        placed = as_dict(call(db, *place_args(order, user, hold_ms, [(product, 3)], coupon, 40)))
        self.assertEqual(placed["status"], b"PENDING")
        short = {"order": order, "product": product, "user": user, "coupon": coupon,
                 "placed": placed}
        short["before"] = capture(db, products=[product], users=[user], coupons=[coupon],
                                  orders=[order])
        self.assertEqual(short["before"]["stock"][product], [7, 3])
        self.assertEqual(short["before"]["points"][user], 960)
        return short

    def check_short_kept(self, db, short, what):
        """Read right after the restart: still PENDING with the same deadline, unless the
        deadline has passed by now (a slow start)."""
        order = short["order"]
        read_at = now_ms()
        got = as_dict(call(db, "ORDER.GET", order))
        before = short["before"]["order"][order]
        if read_at + 100 < before["expires_ms"]:
            self.assertEqual(got, before, f"after {what}, before its deadline, the short hold "
                                          f"is the same PENDING order (expires_ms kept)")
            return True
        self.assertIn(got, (before, dict(before, status=b"EXPIRED")), what)
        return False

    def check_short_expires(self, db, short, what):
        """The sweep gives everything back by itself; the order ends EXPIRED."""
        product, user, coupon, order = (short[k] for k in ("product", "user", "coupon", "order"))
        fx.wait_until(lambda: self.stock(db, product) == [10, 0],
                      EXPIRY_DEADLINE_S + SHORT_HOLD_MS / 1000 + LATER_HOLD_MS / 1000,
                      f"after {what}: the short hold's units to go back by themselves")
        after = capture(db, products=[product], users=[user], coupons=[coupon], orders=[order])
        before = short["before"]
        self.assertEqual(after["order"][order],
                         dict(before["order"][order], status=b"EXPIRED"),
                         f"after {what}: the short hold ends EXPIRED, otherwise unchanged")
        self.assertEqual(after["points"][user], 1000, f"after {what}: points refunded")
        self.assertEqual((after["coupon"][coupon]["state"], after["coupon"][coupon]["order"]),
                         (b"AVAILABLE", b""), f"after {what}: coupon given back")
        self.assertEqual(after["orders_of"][user], [order.encode()])
        self.assertEqual(call(db, "ORDER.CONFIRM", order), f"ERR order {order} is EXPIRED")

    # -- the tests

    def test_clean_restart_keeps_the_book_and_the_deadlines(self):
        db = self.start(fsync=None)       # the default, everysec: shutdown must keep it all
        book = Book()
        self.first_half(db, book)
        self.second_half(db, book)
        before = capture(db, **book.ids())
        self.check_book_states(before, book)
        down = self.place_short(db, book, SHORT_HOLD_MS, "down")
        later = self.place_short(db, book, LATER_HOLD_MS, "later")
        self.stop()
        fx.wait_until(lambda: now_ms() > down["placed"]["expires_ms"] + 50,
                      SHORT_HOLD_MS / 1000 + 5, "the short hold's deadline to pass while down")
        db = self.start(fsync=None)
        self.check_short_kept(db, later, "a clean restart")
        self.check_recovered(db, book, before, "a clean restart")
        self.check_short_expires(db, down, "a clean restart (deadline passed while down)")
        self.check_short_expires(db, later, "a clean restart (deadline passed after it)")
        self.retries_answer_the_original(db, book, "a clean restart")
        before = self.work_after_restart(db, book)
        self.stop()
        db = self.start(fsync=None)
        self.check_recovered(db, book, before, "a second clean restart")
        self.stop()

    def test_kill_with_no_snapshot_replays_the_log(self):
        db = self.start()
        book = Book()
        self.first_half(db, book)
        self.second_half(db, book)
        before = capture(db, **book.ids())
        self.check_book_states(before, book)
        short = self.place_short(db, book, SHORT_HOLD_MS, "kill")
        self.kill()
        self.assertEqual(self.snapshot_files(), [], "nothing took a snapshot: WAL replay alone")
        db = self.start()
        self.check_short_kept(db, short, "a SIGKILL")
        self.check_recovered(db, book, before, "a SIGKILL (WAL only)")
        self.check_short_expires(db, short, "a SIGKILL")
        self.retries_answer_the_original(db, book, "a SIGKILL")
        before = self.work_after_restart(db, book)
        self.kill()
        db = self.start()
        self.check_recovered(db, book, before, "a second SIGKILL")
        self.stop()

    def kill_after_snapshot(self, take_snapshot, what):
        db = self.start()
        book = Book()
        self.first_half(db, book)
        take_snapshot(db)
        self.assertTrue(self.snapshot_files(), f"no snapshot file after {what}")
        self.second_half(db, book)         # changes the snapshot's orders, coupons, likes
        before = capture(db, **book.ids())
        self.check_book_states(before, book)
        self.kill()
        db = self.start()
        self.check_recovered(db, book, before, f"{what} then more changes then a SIGKILL")
        self.retries_answer_the_original(db, book, f"{what} and a SIGKILL")
        before = self.work_after_restart(db, book)
        self.stop()
        db = self.start()
        self.check_recovered(db, book, before, f"{what}, a SIGKILL and a clean restart")
        self.stop()

    def test_kill_after_save_replays_snapshot_and_log(self):
        def save(db):
            self.assertEqual(self.raw("SAVE"), "OK")
        self.kill_after_snapshot(save, "SAVE")

    def test_kill_after_bgsave_replays_snapshot_and_log(self):
        def bgsave(db):
            taken = int(self.info()["snapshots_taken"])
            self.assertEqual(self.raw("BGSAVE"), "Background saving started")

            def done():
                info = self.info()
                return (int(info["snapshots_taken"]) > taken
                        and info["rdb_bgsave_in_progress"] == "0")
            fx.wait_until(done, 10.0, "the BGSAVE to finish (INFO persistence)")
        self.kill_after_snapshot(bgsave, "BGSAVE")

    def test_snapshots_taken_during_the_load(self):
        self.server_args = ["--snapshot_wal_bytes=65536"]
        db = self.start()
        book = Book()
        self.first_half(db, book)
        self.bulk_load(book)
        self.second_half(db, book)
        before = capture(db, **book.ids())
        self.check_book_states(before, book)
        self.kill()
        db = self.start()
        self.check_recovered(db, book, before, "snapshots during the load and a SIGKILL")
        self.retries_answer_the_original(db, book, "snapshots during the load and a SIGKILL")
        self.stop()
        db = self.start()
        self.check_recovered(db, book, before, "and then a clean restart")
        self.stop()

    def bulk_load(self, book):
        """BULK_CLIENTS connections place, confirm, cancel and like at once, until the server
        has taken BULK_SNAPSHOTS snapshots by itself (it checks the log's size about once a
        second, so the load lasts a few seconds; bounded by BULK_TIMEOUT_S)."""
        db = self.clients[-1]
        brand = book.named["beta"]
        products = [self.product(db, book, brand, 100 + 10 * i, 10 ** 6) for i in range(3)]
        users = [self.user(db, book, 10 ** 9) for _ in range(BULK_CLIENTS)]
        coupons = [[self.coupon(db, book, user, "FIXED", 30) for _ in range(20)]
                   for user in users]
        made = [[] for _ in range(BULK_CLIENTS)]
        enough = threading.Event()

        def work(client, index):
            rng = random.Random(index)
            user, free = users[index], list(coupons[index])
            step = 0
            while step < BULK_ORDERS_MIN or not enough.is_set():
                step += 1
                order = f"bulk-{index}-{step}"
                items = [(p, rng.randint(1, 4)) for p in rng.sample(products, rng.randint(1, 2))]
                coupon = free.pop() if free and rng.random() < 0.1 else None
                reply = call(client, *place_args(order, user, HOLD_LONG_MS, items, coupon,
                                                 rng.randint(1, 50)))
                if isinstance(reply, Error):
                    raise AssertionError(f"bulk ORDER.PLACE {order}: -{reply}")
                made[index].append(order)
                roll = rng.random()
                if roll < 0.5:
                    verb = "CONFIRM"
                elif roll < 0.75:
                    verb = "CANCEL"
                    if coupon:
                        free.append(coupon)
                else:
                    verb = None
                if verb:
                    reply = call(client, f"ORDER.{verb}", order)
                    if isinstance(reply, Error):
                        raise AssertionError(f"bulk ORDER.{verb} {order}: -{reply}")
                if rng.random() < 0.2:
                    call(client, "LIKE.ADD" if rng.random() < 0.7 else "LIKE.DEL", user,
                         rng.choice(products))

        taken = int(self.info()["snapshots_taken"])
        threads = start_threads(self.server.port, BULK_CLIENTS, work)
        try:
            fx.wait_until(lambda: int(self.info()["snapshots_taken"]) >= taken + BULK_SNAPSHOTS
                          or not all(thread.is_alive() for thread in threads[0]),
                          BULK_TIMEOUT_S, f"{BULK_SNAPSHOTS} snapshots during the load",
                          interval_s=0.05)
        finally:
            enough.set()
            join_threads(threads)
        info = self.info()
        self.assertGreaterEqual(int(info["snapshots_taken"]), taken + BULK_SNAPSHOTS,
                                f"snapshots taken by the server during the load: {info}")
        for orders in made:
            book.orders += orders


def start_threads(port, count, work):
    """work(client, index) in `count` threads, each with its own connection."""
    errors = []

    def body(index):
        client = connect(port)
        try:
            work(client, index)
        except BaseException as error:  # noqa: BLE001  (re-raised by join_threads)
            errors.append(error)
        finally:
            disconnect(client)

    threads = [threading.Thread(target=body, args=(i,), daemon=True) for i in range(count)]
    for thread in threads:
        thread.start()
    return threads, errors


def join_threads(started):
    threads, errors = started
    for thread in threads:
        thread.join(120)
        if thread.is_alive():
            raise AssertionError("a load thread is still running after 120 s")
    if errors:
        raise errors[0]


# ------------------------------------------------------------------------ kills under load

class Problem(Exception):
    """A reply that contradicts the docs or the client's own acknowledged history."""


class Buyer:
    """One load client's user, coupons and acknowledged history, across every cycle."""

    def __init__(self, index, user, coupons):
        self.index = index
        self.user = user
        self.coupons = coupons                          # coupon -> (kind, value)
        self.coupon_state = {coupon: "AVAILABLE" for coupon in coupons}
        self.orders = {}        # order id -> record: spec + expires_ms + state
        self.placed = []        # order ids stored, in placement order
        self.pending = []       # order ids the client knows PENDING
        self.soldout = []       # order ids answered SOLDOUT: never stored
        self.spent = 0          # points of PENDING and PAID orders
        self.seq = 0
        self.retry = None       # (order id, spec): a placement in flight at the last kill
        # Per cycle:
        self.in_flight = None   # the request sent and not answered: (kind, ...)
        self.acked = 0
        self.restocked = collections.Counter()
        self.failure = None

    def new_cycle(self):
        self.in_flight = None
        self.acked = 0
        self.restocked = collections.Counter()
        self.failure = None


class LoadClient(threading.Thread):
    """Loops on one connection until the server dies; records acks and the request in flight."""

    def __init__(self, buyer, port, prices, cycle):
        super().__init__(daemon=True)
        self.buyer = buyer
        self.port = port
        self.prices = prices
        self.products = sorted(prices)
        self.rng = random.Random(f"{cycle}-{buyer.index}-{time.time()}")

    def run(self):
        buyer = self.buyer
        try:
            client = connect(self.port)
            client.execute_command("PING")
        except (redis.ConnectionError, redis.TimeoutError, OSError):
            return          # killed before this client sent anything
        try:
            if buyer.retry is not None:
                order, spec = buyer.retry
                buyer.retry = None
                self.send_place(client, order, spec)
            while True:
                roll = self.rng.random()
                if roll < 0.45:
                    self.place(client)
                elif roll < 0.82:
                    self.settle(client)
                elif roll < 0.88:
                    self.restock(client)
                else:
                    self.read(client)
        except (redis.ConnectionError, redis.TimeoutError, OSError):
            pass            # the server was killed: buyer.in_flight stays as it was
        except Problem as problem:
            buyer.failure = str(problem)
        except Exception:  # noqa: BLE001  (reported by the main thread)
            buyer.failure = traceback.format_exc()
        finally:
            disconnect(client)

    def call(self, client, flight, *args):
        """Sends one request; it is in flight until its reply has been read."""
        self.buyer.in_flight = flight
        reply = call(client, *args)
        self.buyer.in_flight = None
        self.buyer.acked += 1
        return reply

    def place(self, client):
        buyer, rng = self.buyer, self.rng
        buyer.seq += 1
        order = f"load-{buyer.index}-{buyer.seq}"
        chosen = rng.sample(self.products, rng.randint(1, 3))
        items = [(product, rng.randint(1, 3)) for product in chosen]
        total = sum(self.prices[product] * quantity for product, quantity in items)
        coupon, discount = None, 0
        available = [c for c, state in buyer.coupon_state.items() if state == "AVAILABLE"]
        if available and rng.random() < 0.3:
            coupon = rng.choice(available)
            discount = discount_of(*buyer.coupons[coupon], total)
        points = 0
        if total - discount > 0 and rng.random() < 0.3:
            points = rng.randint(1, min(50, total - discount))
        spec = {"items": items, "coupon": coupon, "points": points, "total": total,
                "discount": discount, "pay": total - discount - points,
                "hold": HOLD_LONG_MS}
        self.send_place(client, order, spec)

    def send_place(self, client, order, spec):
        buyer = self.buyer
        args = place_args(order, buyer.user, spec["hold"], spec["items"], spec["coupon"],
                          spec["points"] or None)
        sent_at = now_ms()
        reply = self.call(client, ("place", order, spec, sent_at), *args)
        if isinstance(reply, Error):
            words = reply.split(" ")
            products = {product for product, _ in spec["items"]}
            if (len(words) == 3 and words[0] == "SOLDOUT" and words[1].isdigit()
                    and int(words[1]) in products and words[2].isdigit()):
                if order in buyer.orders:
                    raise Problem(f"a retry of stored order {order} answered -{reply}, not the "
                                  f"original placement reply")
                buyer.soldout.append(order)
                return
            raise Problem(f"{args} -> -{reply}")
        placed = as_dict(reply)
        want = {"order": order.encode(), "status": b"PENDING", "total": spec["total"],
                "discount": spec["discount"], "points": spec["points"], "pay": spec["pay"]}
        if set(placed) != ORDER_PLACE_FIELDS or {k: placed[k] for k in want} != want:
            raise Problem(f"{args} -> {placed}, expected {want}")
        if order in buyer.orders:       # the retry of a placement stored before the kill
            if placed["expires_ms"] != buyer.orders[order]["expires_ms"]:
                raise Problem(f"a retry of stored order {order} answered {placed}, the order "
                              f"has expires_ms {buyer.orders[order]['expires_ms']}")
            return
        if not (sent_at + spec["hold"] - CLOCK_TOLERANCE_MS <= placed["expires_ms"]
                <= now_ms() + spec["hold"] + CLOCK_TOLERANCE_MS):
            raise Problem(f"{args}: expires_ms {placed['expires_ms']}, sent at {sent_at}")
        self.record(order, spec, placed["expires_ms"])

    def record(self, order, spec, expires_ms):
        buyer = self.buyer
        buyer.orders[order] = dict(spec, expires_ms=expires_ms, state="PENDING")
        buyer.placed.append(order)
        buyer.pending.append(order)
        buyer.spent += spec["points"]
        if spec["coupon"]:
            buyer.coupon_state[spec["coupon"]] = "HELD"

    def settle(self, client):
        buyer, rng = self.buyer, self.rng
        if buyer.pending and rng.random() < 0.9:
            index = rng.randrange(len(buyer.pending))
            order = buyer.pending[index]
        elif buyer.placed:
            order = rng.choice(buyer.placed)
        else:
            return
        verb, target = (("CONFIRM", "PAID") if rng.random() < 0.6 else ("CANCEL", "CANCELLED"))
        record = buyer.orders[order]
        reply = self.call(client, ("settle", order, target), f"ORDER.{verb}", order)
        if record["state"] != "PENDING":
            if reply != f"ERR order {order} is {record['state']}":
                raise Problem(f"ORDER.{verb} {order} ({record['state']}) -> {reply!r}")
            return
        if isinstance(reply, Error):
            raise Problem(f"ORDER.{verb} {order} (PENDING) -> -{reply}")
        fields = as_dict(reply)
        want = {"order": order.encode(), "user": buyer.user, "status": target.encode(),
                "total": record["total"], "discount": record["discount"],
                "points": record["points"], "pay": record["pay"],
                "coupon": (record["coupon"] or "").encode(), "expires_ms": record["expires_ms"]}
        if set(fields) != ORDER_FIELDS or {k: fields[k] for k in want} != want:
            raise Problem(f"ORDER.{verb} {order} -> {fields}, expected {want}")
        self.settled(order, target)

    def settled(self, order, state):
        buyer = self.buyer
        record = buyer.orders[order]
        record["state"] = state
        buyer.pending.remove(order)
        if state in ("CANCELLED", "EXPIRED"):
            buyer.spent -= record["points"]
        if record["coupon"]:
            buyer.coupon_state[record["coupon"]] = "USED" if state == "PAID" else "AVAILABLE"

    def restock(self, client):
        product, units = self.rng.choice(self.products), self.rng.randint(1, 30)
        reply = self.call(client, ("restock", product, units), "STOCK.ADD", product, units)
        if not isinstance(reply, int) or isinstance(reply, Error) or reply < units:
            raise Problem(f"STOCK.ADD {product} {units} -> {reply!r}")
        self.buyer.restocked[product] += units

    def read(self, client):
        """Acknowledged reads agree with the acknowledged writes (only this client touches its
        user's points and orders)."""
        buyer = self.buyer
        balance = self.call(client, ("read",), "POINTS.GET", buyer.user)
        if balance != LOAD_CHARGED - buyer.spent:
            raise Problem(f"POINTS.GET {buyer.user} -> {balance!r}, expected "
                          f"{LOAD_CHARGED - buyer.spent}")
        if buyer.placed:
            order = self.rng.choice(buyer.placed)
            fields = as_dict(self.call(client, ("read",), "ORDER.GET", order))
            if fields is None or fields["status"] != buyer.orders[order]["state"].encode():
                raise Problem(f"ORDER.GET {order} -> {fields}, the client saw "
                              f"{buyer.orders[order]['state']}")


def subset_sums(values):
    sums = {0}
    for value in values:
        sums |= {total + value for total in sums}
    return sums


class KillUnderLoadTest(DataDirTestCase):
    def test_sigkill_under_load_keeps_every_acknowledged_order(self):
        started = time.monotonic()
        rng = random.Random()
        db = self.start(fsync=LOAD_FSYNC)
        brand = 9000
        self.assertEqual(call(db, "BRAND.PUT", brand, "Load"), b"OK")
        prices, initial, restocked = {}, {}, collections.Counter()
        for index in range(LOAD_PRODUCTS):
            product = 9100 + index
            prices[product] = rng.randint(100, 1000)
            initial[product] = LOAD_SCARCE_UNITS if index < LOAD_SCARCE else LOAD_INITIAL_UNITS
            self.assertEqual(call(db, "PRODUCT.PUT", product, brand, prices[product],
                                  f"load {product}"), b"OK")
            self.assertEqual(call(db, "STOCK.SET", product, initial[product]), initial[product])
        buyers = []
        for index in range(CLIENTS):
            user = 9200 + index
            self.assertEqual(call(db, "POINTS.CHARGE", user, LOAD_CHARGED), LOAD_CHARGED)
            coupons = {}
            for number in range(LOAD_COUPONS_PER_CLIENT):
                coupon = f"load-{index}-c{number}"
                kind, value = ("FIXED", 50) if number % 2 else ("PERCENT", 10)
                self.assertEqual(call(db, "COUPON.ISSUE", coupon, user, kind, value), b"OK")
                coupons[coupon] = (kind, value)
            buyers.append(Buyer(index, user, coupons))

        acknowledged = 0
        stats = collections.Counter()
        cap = None
        for cycle in range(KILLS):
            for buyer in buyers:
                buyer.new_cycle()
            clients = [LoadClient(buyer, self.server.port, prices, cycle) for buyer in buyers]
            for client in clients:
                client.start()
            fx.wait_until(lambda: sum(b.acked for b in buyers) >= LOAD_RUNNING_ACKS
                          or any(b.failure for b in buyers) or not any(
                              c.is_alive() for c in clients),
                          20.0, "the load to run")
            time.sleep(rng.uniform(LOAD_SECONDS_MIN, LOAD_SECONDS_MAX))  # the crash point
            killed_at = now_ms()
            log = self.kill()
            for client in clients:
                client.join(JOIN_S)
                self.assertFalse(client.is_alive(), "a client did not notice the kill")
            for buyer in buyers:
                self.assertIsNone(buyer.failure, f"cycle {cycle}, client {buyer.index}; server "
                                                 f"log before the kill:\n{log}")
            acknowledged += sum(buyer.acked for buyer in buyers)
            db = self.start(fsync=LOAD_FSYNC)
            cap = self.check_recovered(db, buyers, prices, initial, restocked, killed_at, stats,
                                       f"after kill {cycle + 1}")

        # The end: a clean restart changes nothing, and everything is exact (nothing in flight).
        for buyer in buyers:
            buyer.new_cycle()
        self.stop()
        db = self.start(fsync=LOAD_FSYNC)
        after = self.check_recovered(db, buyers, prices, initial, restocked, now_ms(), stats,
                                     "after the final clean restart")
        self.assertEqual(capture_differences(cap, after)[:10], [],
                         "a clean restart changed the book")
        self.stop()

        states = collections.Counter(record["state"] for buyer in buyers
                                     for record in buyer.orders.values())
        coupons_used = sum(1 for buyer in buyers for record in buyer.orders.values()
                           if record["coupon"])
        self.assertGreater(acknowledged, KILLS * CLIENTS * 5, "the load hardly ran")
        for state in ("PENDING", "PAID", "CANCELLED"):
            self.assertGreater(states[state], 0, f"no {state} orders: {states}")
        self.assertGreater(coupons_used, 0, "no order used a coupon")
        self.assertGreater(sum(len(b.soldout) for b in buyers), 0, "no placement was SOLDOUT")
        print(f"\n{KILLS} kills, {acknowledged} acknowledged requests checked "
              f"(orders {dict(states)}, {coupons_used} with a coupon, "
              f"{sum(len(b.soldout) for b in buyers)} SOLDOUT, restocked "
              f"{sum(restocked.values())} units; in flight at the kills: {dict(stats)}; "
              f"{time.monotonic() - started:.1f} s)")

    def check_recovered(self, db, buyers, prices, initial, restocked, killed_at, stats, what):
        """Judges the recovered book against the acknowledged history, resolves each request in
        flight from what the server kept, and returns the capture."""
        orders = []
        for buyer in buyers:
            orders += list(buyer.orders) + buyer.soldout
            flight = buyer.in_flight
            if flight and flight[0] == "place" and flight[1] not in buyer.orders:
                orders.append(flight[1])
            elif buyer.retry and buyer.retry[0] not in buyer.orders:
                orders.append(buyer.retry[0])   # in flight at an earlier kill, not stored
        coupons = [coupon for buyer in buyers for coupon in buyer.coupons]
        cap = capture(db, products=sorted(prices), users=[b.user for b in buyers],
                      coupons=coupons, orders=orders)
        problems = []
        for buyer in buyers:
            problems += self.judge_buyer(buyer, cap, prices, killed_at, stats)

        # The units: acknowledged restocks, and any of those in flight.
        allowed = {}
        for product in prices:
            acked = sum(buyer.restocked[product] for buyer in buyers)
            flying = [buyer.in_flight[2] for buyer in buyers if buyer.in_flight
                      and buyer.in_flight[0] == "restock" and buyer.in_flight[1] == product]
            base = initial[product] + restocked[product] + acked
            allowed[product] = {base + extra for extra in subset_sums(flying)}
        book, implied = book_problems(cap, allowed, {b.user: LOAD_CHARGED for b in buyers})
        problems += book
        self.assertEqual(problems[:15], [], f"{what}: {len(problems)} problems")

        # The recovered state is the model of the next cycle.
        for product, units in implied.items():
            if units != initial[product] + restocked[product] + sum(
                    buyer.restocked[product] for buyer in buyers):
                stats["restock applied"] += 1
            restocked[product] = units - initial[product]
        for buyer in buyers:
            buyer.spent = LOAD_CHARGED - cap["points"][buyer.user]
            buyer.coupon_state = {coupon: cap["coupon"][coupon]["state"].decode()
                                  for coupon in buyer.coupons}
            buyer.pending = [order for order in buyer.placed
                             if buyer.orders[order]["state"] == "PENDING"]
            buyer.in_flight = None
            buyer.restocked = collections.Counter()
        return cap

    def judge_buyer(self, buyer, cap, prices, killed_at, stats):
        problems = []
        flight = buyer.in_flight
        flying_place = None
        if flight and flight[0] == "place":
            buyer.retry = (flight[1], flight[2])     # retried first in the next cycle
            if flight[1] not in buyer.orders:
                flying_place = flight
        settling = flight[1] if flight and flight[0] == "settle" else None
        if flight:
            stats[f"{flight[0]}"] += 1

        def contents(order, got, spec):
            items = sorted([product, quantity, prices[product]]
                           for product, quantity in spec["items"])
            want = {"order": order.encode(), "user": buyer.user, "total": spec["total"],
                    "discount": spec["discount"], "points": spec["points"], "pay": spec["pay"],
                    "coupon": (spec["coupon"] or "").encode()}
            have = {k: got[k] for k in want}
            if have != want or sorted(got["items"]) != items:
                return [f"order {order}: stored {got}, placed {want} with items {items}"]
            return []

        for order in buyer.placed:
            record, got = buyer.orders[order], cap["order"][order]
            if got is None:
                problems.append(f"acknowledged placement {order} is gone")
                continue
            problems += contents(order, got, record)
            if got["expires_ms"] != record["expires_ms"]:
                problems.append(f"order {order}: expires_ms {got['expires_ms']}, acknowledged "
                                f"{record['expires_ms']}")
            allowed = {record["state"]}
            if order == settling and record["state"] == "PENDING":
                allowed.add(flight[2])
            status = got["status"].decode()
            if status not in allowed:
                problems.append(f"order {order}: {status}, acknowledged {record['state']}"
                                f"{' (in flight: ' + flight[2] + ')' if order == settling else ''}")
                continue
            if status != record["state"]:
                stats["settle applied"] += 1
                record["state"] = status
        for order in buyer.soldout:
            if cap["order"][order] is not None:
                problems.append(f"order {order} was answered SOLDOUT but is stored")
        expected = [order.encode() for order in reversed(buyer.placed)]
        listed = cap["orders_of"][buyer.user]
        if flying_place:
            order, spec, sent_at = flying_place[1], flying_place[2], flying_place[3]
            got = cap["order"][order]
            if got is not None:
                stats["place applied"] += 1
                problems += contents(order, got, spec)
                if got["status"] != b"PENDING":
                    problems.append(f"order {order} in flight is {got['status']}")
                if not (sent_at + spec["hold"] - CLOCK_TOLERANCE_MS <= got["expires_ms"]
                        <= killed_at + spec["hold"] + CLOCK_TOLERANCE_MS):
                    problems.append(f"order {order} in flight: expires_ms {got['expires_ms']}")
                expected.insert(0, order.encode())
                buyer.orders[order] = dict(spec, expires_ms=got["expires_ms"], state="PENDING")
                buyer.placed.append(order)
        if listed != expected:
            problems.append(f"ORDER.LIST {buyer.user}: {len(listed)} orders "
                            f"{listed[:5]}..., acknowledged (+ in flight, if stored) "
                            f"{len(expected)} {expected[:5]}...")
        return problems


# ------------------------------------------------------------- points past the limit, WAL cuts

AMOUNT_MAX = 10 ** 12          # kAmountMax; kPointsMax, the balance + held limit, is the same
SEGMENT_HEADER_BYTES = 18      # docs/wal_format.md, "Segment header"
RECORD_HEADER_BYTES = 17       # docs/wal_format.md, "Record"
RECORD_BOOK = 7
RECORD_RANKING = 8
BOOK_TAG_POINTS = 4            # docs/wal_format.md, "Book entries"


def wal_checksum(data):
    """The low 32 bits of XXH3-64 (seed 0), as the server computes it (libxxhash)."""
    xxhash = ctypes.CDLL("libxxhash.so.0")
    xxhash.XXH3_64bits.restype = ctypes.c_uint64
    xxhash.XXH3_64bits.argtypes = [ctypes.c_char_p, ctypes.c_size_t]
    return xxhash.XXH3_64bits(data, len(data)) & 0xFFFFFFFF


def wal_segment(first_sequence, records):
    """A whole segment: its header, then (type, payload) records numbered from first_sequence."""
    header = b"PDWL" + struct.pack("<HQ", 1, first_sequence)
    data = header + struct.pack("<I", wal_checksum(header))
    for offset, (record_type, payload) in enumerate(records):
        body = struct.pack("<IBQ", len(payload), record_type, first_sequence + offset) + payload
        data += struct.pack("<I", wal_checksum(body)) + body
    return data


def varint(value):
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def points_entry(user, balance):
    payload = struct.pack("<QQ", user, balance)
    return bytes([BOOK_TAG_POINTS]) + varint(len(payload)) + payload


def wal_segments(data_dir):
    return sorted(name for name in os.listdir(data_dir)
                  if name.startswith("wal-") and name.endswith(".log"))


def wal_records(path):
    """(offset, end, type) of each record of a segment, up to its end or its zeros."""
    with open(path, "rb") as segment:
        data = segment.read()
    records = []
    offset = SEGMENT_HEADER_BYTES
    while offset + RECORD_HEADER_BYTES <= len(data):
        length, record_type, _ = struct.unpack_from("<IBQ", data, offset + 4)
        if record_type == 0:
            break
        records.append((offset, offset + RECORD_HEADER_BYTES + length, record_type))
        offset += RECORD_HEADER_BYTES + length
    return records


def cut_after_last_book_record(data_dir):
    """Cuts the log of a killed server right after its last book record, as a crash between
    that record and the ranking records after it would: those (and only those) go. Returns how
    many records were cut."""
    segments = wal_segments(data_dir)
    for index in range(len(segments) - 1, -1, -1):
        path = os.path.join(data_dir, segments[index])
        records = wal_records(path)
        books = [record for record in records if record[2] == RECORD_BOOK]
        if not books:
            continue
        end = books[-1][1]
        after = [record for record in records if record[0] >= end]
        assert all(record[2] == RECORD_RANKING for record in after), after
        for later in segments[index + 1:]:
            later_path = os.path.join(data_dir, later)
            assert all(record[2] == RECORD_RANKING for record in wal_records(later_path))
            after += wal_records(later_path)
            os.remove(later_path)
        with open(path, "r+b") as segment:
            segment.truncate(end)
        return len(after)
    raise AssertionError(f"no book record in {segments}")


def day_name(ms):
    return time.strftime("%Y%m%d", time.gmtime(ms / 1000))  # --ranking-tz is UTC by default


class PointsLimitTest(DataDirTestCase):
    """orders.md, "Points": a charge is refused when the balance plus the points held by the
    user's pending orders would pass 10^12, so no refund ever makes a balance pass it; every
    balance the server reaches, and every one a log written before that rule holds, replays
    from the WAL and loads from a snapshot."""

    def setUp(self):
        super().setUp()
        self.server_args = ["--snapshot_wal_bytes=0"]

    def test_held_points_count_against_the_limit_and_balances_survive_kill_and_save(self):
        db = self.start()
        self.assertEqual(call(db, "BRAND.PUT", 1, "b"), b"OK")
        self.assertEqual(call(db, "PRODUCT.PUT", 5, 1, AMOUNT_MAX, "dear"), b"OK")
        self.assertEqual(call(db, "STOCK.SET", 5, 10), 10)
        user = 77
        self.assertEqual(call(db, "POINTS.CHARGE", user, AMOUNT_MAX), AMOUNT_MAX)
        as_dict(call(db, *place_args("o1", user, HOLD_LONG_MS, [(5, 1)], points=AMOUNT_MAX)))
        self.assertEqual(call(db, "POINTS.GET", user), 0)
        # The sequence that once reached 3 x 10^12 (charge, place, charge, place, charge,
        # cancel both): the second charge is refused now, o1 holding 10^12 points.
        reply = call(db, "POINTS.CHARGE", user, AMOUNT_MAX)
        self.assertIsInstance(reply, Error, "a charge past balance + held 10^12")
        self.assertTrue(reply.startswith("LIMIT "), reply)
        self.assertIsInstance(call(db, "POINTS.CHARGE", user, 1), Error)
        reply = call(db, *place_args("o2", user, HOLD_LONG_MS, [(5, 1)], points=AMOUNT_MAX))
        self.assertTrue(isinstance(reply, Error) and reply.startswith("ERR "), reply)
        self.assertEqual(call(db, "ORDER.CANCEL", "o1")[5], b"CANCELLED")
        self.assertEqual(call(db, "POINTS.GET", user), AMOUNT_MAX)
        self.assertIsInstance(call(db, "POINTS.CHARGE", user, 1), Error)
        # Points spent by a confirm leave the hold: they make room.
        as_dict(call(db, *place_args("o3", user, HOLD_LONG_MS, [(5, 1)], points=AMOUNT_MAX // 2)))
        self.assertIsInstance(call(db, "POINTS.CHARGE", user, 1), Error)
        self.assertEqual(call(db, "ORDER.CONFIRM", "o3")[5], b"PAID")
        self.assertEqual(call(db, "POINTS.CHARGE", user, AMOUNT_MAX // 2), AMOUNT_MAX)
        # A pending order's points go back on expiry too, within the limit.
        as_dict(call(db, *place_args("o4", user, 1, [(5, 1)], points=AMOUNT_MAX)))
        fx.wait_until(lambda: as_dict(call(db, "ORDER.GET", "o4"))["status"] == b"EXPIRED",
                      EXPIRY_DEADLINE_S, "o4 to expire")
        self.assertEqual(call(db, "POINTS.GET", user), AMOUNT_MAX)
        self.kill()
        db = self.start()
        self.assertEqual(call(db, "POINTS.GET", user), AMOUNT_MAX, "after SIGKILL, WAL replay")
        self.assertIsInstance(call(db, "POINTS.CHARGE", user, 1), Error)
        self.assertIs(call(db, "SAVE"), True)
        self.kill()
        db = self.start()
        self.assertEqual(call(db, "POINTS.GET", user), AMOUNT_MAX, "after SAVE and SIGKILL")
        self.assertTrue(self.snapshot_files(), "SAVE wrote a snapshot")

    def test_balances_logged_before_the_limit_still_load(self):
        """A log written by a server without the rule may hold a balance past 10^12 (refunds
        after charges): up to 2^63-1, it replays, and a snapshot of it loads."""
        balances = {1: 3 * AMOUNT_MAX, 2: 2 ** 63 - 1, 3: 0}
        os.makedirs(self.data_dir)
        records = [(RECORD_BOOK, points_entry(user, balance)) for user, balance in balances.items()]
        with open(os.path.join(self.data_dir, "wal-%020d.log" % 1), "wb") as segment:
            segment.write(wal_segment(1, records))
        db = self.start()
        for user, balance in balances.items():
            self.assertEqual(call(db, "POINTS.GET", user), balance, f"user {user} from the WAL")
        reply = call(db, "POINTS.CHARGE", 1, 1)
        self.assertTrue(isinstance(reply, Error) and reply.startswith("LIMIT "), reply)
        self.assertIs(call(db, "SAVE"), True)
        self.kill()
        db = self.start()
        for user, balance in balances.items():
            self.assertEqual(call(db, "POINTS.GET", user), balance, f"user {user} from SAVE")


class RankingEventRetryTest(DataDirTestCase):
    """orders.md, "Ranking events": ORDER.CONFIRM, LIKE.ADD and LIKE.DEL log their book record,
    then apply their ranking events (each logged as ranking records). A crash between the two
    keeps the change and loses the events; the client's retry finds the change done, answers
    as before, and applies the same events again. Each crash is made exact: the server is
    SIGKILLed after the reply (--fsync=always: everything is on disk), and the log is cut right
    after the command's book record."""

    def setUp(self):
        super().setUp()
        self.server_args = ["--snapshot_wal_bytes=0"]

    def signals(self, db, day, product):
        reply = call(db, "RANK.SIGNALS", "all", day, product)
        if reply is None:
            return {"likes": 0, "order_sum": 0.0}
        fields = as_dict(reply)
        return {"likes": fields["likes"], "order_sum": float(fields["order_sum"])}

    def lose_the_ranking_records(self):
        """SIGKILL, cut the log after the last book record, restart."""
        self.kill()
        self.assertGreater(cut_after_last_book_record(self.data_dir), 0,
                           "the command logged ranking records after its book record")
        return self.start()

    def test_retries_apply_the_events_a_crash_lost(self):
        db = self.start()
        product, user = 8, 31
        self.assertEqual(call(db, "BRAND.PUT", 1, "b"), b"OK")
        self.assertEqual(call(db, "PRODUCT.PUT", product, 1, 2500, "ranked"), b"OK")
        self.assertEqual(call(db, "STOCK.SET", product, 10), 10)
        as_dict(call(db, *place_args("paid", user, HOLD_LONG_MS, [(product, 2)])))
        order_sum = math.log1p(2 * 2500)

        before = now_ms()
        self.assertEqual(call(db, "ORDER.CONFIRM", "paid")[5], b"PAID")
        day = day_name(before)
        if day_name(now_ms()) != day:
            self.skipTest("midnight UTC passed during the test")
        self.assertAlmostEqual(self.signals(db, day, product)["order_sum"], order_sum)
        db = self.lose_the_ranking_records()
        self.assertEqual(as_dict(call(db, "ORDER.GET", "paid"))["status"], b"PAID")
        self.assertEqual(self.signals(db, day, product)["order_sum"], 0.0, "the crash lost it")
        self.assertEqual(call(db, "ORDER.CONFIRM", "paid"), Error("ERR order paid is PAID"))
        self.assertAlmostEqual(self.signals(db, day, product)["order_sum"], order_sum)
        self.assertEqual(call(db, "ORDER.CONFIRM", "paid"), Error("ERR order paid is PAID"))
        self.assertAlmostEqual(self.signals(db, day, product)["order_sum"], order_sum,
                               msg="a second retry counts nothing more")

        self.assertEqual(call(db, "LIKE.ADD", user, product), 1)
        self.assertEqual(self.signals(db, day, product)["likes"], 1)
        db = self.lose_the_ranking_records()
        self.assertEqual(call(db, "LIKE.COUNT", product), 1)
        self.assertEqual(self.signals(db, day, product)["likes"], 0, "the crash lost it")
        self.assertEqual(call(db, "LIKE.ADD", user, product), 0)
        self.assertEqual(self.signals(db, day, product)["likes"], 1)
        self.assertEqual(call(db, "LIKE.ADD", user, product), 0)
        self.assertEqual(self.signals(db, day, product)["likes"], 1, "counted once")

        self.assertEqual(call(db, "LIKE.DEL", user, product), 1)
        self.assertEqual(self.signals(db, day, product)["likes"], 0)
        db = self.lose_the_ranking_records()
        self.assertEqual(call(db, "LIKE.COUNT", product), 0)
        self.assertEqual(self.signals(db, day, product)["likes"], 1, "the crash lost it")
        self.assertEqual(call(db, "LIKE.DEL", user, product), 0)
        self.assertEqual(self.signals(db, day, product)["likes"], 0)
        # The unlike is remembered in snapshots too, and a retry after it counts nothing more.
        self.assertIs(call(db, "SAVE"), True)
        self.kill()
        db = self.start()
        self.assertEqual(call(db, "LIKE.DEL", user, product), 0)
        self.assertEqual(call(db, "ORDER.CONFIRM", "paid"), Error("ERR order paid is PAID"))
        self.assertEqual(self.signals(db, day, product)["likes"], 0)
        self.assertAlmostEqual(self.signals(db, day, product)["order_sum"], order_sum)
        # Liking again is a new like with an event of its own.
        self.assertEqual(call(db, "LIKE.ADD", user, product), 1)
        self.assertEqual(self.signals(db, day, product)["likes"], 1)


if __name__ == "__main__":
    fx.main()
