#!/usr/bin/python3
"""The binary protocol, spoken by a client written from docs/protocol.md alone
(podium_fixture.BinaryClient): handshake, typed arguments, typed replies, status codes,
pipelining, the page's own hex examples sent byte for byte, and the RANK.* opcodes end to end
with their reply values compared byte for byte with the page's "Commands" shapes.
"""

import math
import os
import re
import struct
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import podium_fixture as fx  # noqa: E402

PROTOCOL_DOC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "docs",
                            "protocol.md")


def doc_hex_examples():
    """The `<!-- hex:name -->` blocks of docs/protocol.md as {name: bytes}."""
    with open(PROTOCOL_DOC, encoding="utf-8") as doc:
        text = doc.read()
    examples = {}
    for name, block in re.findall(r"<!-- hex:([\w-]+) -->\s*```[^\n]*\n(.*?)```", text, re.S):
        data = bytearray()
        for line in block.splitlines():
            data += bytes.fromhex(line.split("#", 1)[0])
        examples[name] = bytes(data)
    return examples


DAY_MS = 86_400_000


# Reply values built from docs/protocol.md "Values", to compare a reply's bytes with.
def v_nil():
    return bytes([fx.VALUE_NIL])


def v_int(number):
    return struct.pack("<Bq", fx.VALUE_INT64, number)


def v_float(number):
    return struct.pack("<Bd", fx.VALUE_FLOAT64, number)


def v_bytes(data):
    return struct.pack("<BI", fx.VALUE_BYTES, len(data)) + data


def v_array(*items):
    return struct.pack("<BI", fx.VALUE_ARRAY, len(items)) + b"".join(items)


def now_ms():
    return int(time.time() * 1000)


def day_name(ms):
    """The day `yyyyMMdd` of ms in UTC (the server's default --ranking-tz)."""
    return time.strftime("%Y%m%d", time.gmtime(ms / 1000))


class BinaryProtocolTest(fx.ServerTestCase):
    def setUp(self):
        self.client = fx.BinaryClient(self.port)
        self.assertEqual(self.client.handshake(), (fx.MAGIC, 1, fx.STATUS_OK))

    def tearDown(self):
        self.client.close()
        self.assert_server_alive()

    def call(self, opcode, *args):
        reply = self.client.call(opcode, *args)
        self.assertEqual(reply.flags, 0, "reserved reply flags must be 0")
        return reply

    def ok(self, opcode, *args):
        """The value of a reply that must succeed."""
        reply = self.call(opcode, *args)
        self.assertEqual(reply.status, fx.STATUS_OK, f"{opcode} {args}: {reply}")
        self.assertNotIsInstance(reply.value, fx.ErrorValue, "status 0 never carries an error")
        return reply.value

    def error(self, status, opcode, *args):
        """The message of a reply that must fail with `status`."""
        reply = self.call(opcode, *args)
        self.assertEqual(reply.status, status, f"{opcode} {args}: {reply}")
        self.assertIsInstance(reply.value, fx.ErrorValue, "a non-zero status carries an error")
        return reply.value

    def test_handshake_bytes(self):
        with fx.RawConnection(self.port) as connection:
            connection.send(b"\xB0\x50\x44\x4D\x01\x00\x00\x00")
            self.assertEqual(connection.recv_exactly(8), b"\xB0\x50\x44\x4D\x01\x00\x00\x00")

    def test_handshake_and_first_request_in_one_write(self):
        with fx.RawConnection(self.port) as connection:
            connection.send(fx.CLIENT_HELLO + fx.encode_request(5, "PING"))
            self.assertEqual(connection.recv_exactly(8), fx.MAGIC + b"\x01\x00\x00\x00")
            connection.recv_until(lambda data: fx.decode_reply(data) is not None)
            reply, _ = fx.decode_reply(connection.buffer)
            self.assertEqual((reply.request_id, reply.status, reply.value), (5, 0, "PONG"))

    def test_ping(self):
        value = self.ok("PING")
        self.assertIsInstance(value, fx.SimpleString)
        self.assertEqual(value, "PONG")
        self.assertEqual(self.ok("PING", b"hi\x00there"), b"hi\x00there")

    def test_echo(self):
        self.assertEqual(self.ok("ECHO", b"bytes\x00\xff"), b"bytes\x00\xff")
        self.error(fx.STATUS_ERR, "ECHO")

    def test_config_get(self):
        self.assertEqual(self.ok("CONFIG", b"GET", b"appendonly"), [b"appendonly", b"no"])
        self.assertEqual(self.ok("CONFIG", b"GET", b"port"), [b"port", b"%d" % self.port])
        self.error(fx.STATUS_ERR, "CONFIG", b"SET", b"port", b"1")

    def test_set_get_and_numbers(self):
        self.assertEqual(self.ok("SET", b"bin:k", b"v\x00\xff"), "OK")
        self.assertEqual(self.ok("GET", b"bin:k"), b"v\x00\xff")
        self.assertIsNone(self.ok("GET", b"bin:missing"))
        self.assertEqual(self.ok("SET", b"bin:n", 41), "OK", "an int64 value is stored as text")
        self.assertEqual(self.ok("GET", b"bin:n"), b"41")
        self.assertEqual(self.ok("INCRBY", b"bin:n", 1), 42)
        self.assertEqual(self.ok("INCRBY", b"bin:n", b"-2"), 40, "numbers may come as text")
        self.assertEqual(self.ok("INCR", b"bin:n"), 41)
        self.error(fx.STATUS_ERR, "INCRBY", b"bin:n", 1.0)  # float64 for an integer: ERR
        self.assertEqual(self.ok("GET", b"bin:n"), b"41", "a failed command changes nothing")
        self.assertEqual(self.ok("SET", b"bin:ttl", b"v", b"EX", 100), "OK")
        self.assertIn(self.ok("TTL", b"bin:ttl"), (99, 100))
        self.assertEqual(self.ok("EXISTS", b"bin:k", b"bin:n", b"bin:missing"), 2)
        self.assertEqual(self.ok("DEL", b"bin:k", b"bin:missing"), 1)
        self.assertIsNone(self.ok("SET", b"bin:n", b"x", b"NX"), "nil when NX prevented it")
        message = self.error(fx.STATUS_ERR, "GET")
        self.assertIn("wrong number of arguments", message)

    def test_zincrby_with_int64_member_and_float64_increment(self):
        self.assertEqual(self.ok("ZINCRBY", b"bin:board", 2.5, 42), 2.5)
        self.assertEqual(self.ok("ZINCRBY", b"bin:board", 1, 42), 3.5)
        self.assertEqual(self.ok("ZINCRBY", b"bin:board", b"0.5", b"42"), 4.0,
                         "int64 member 42 and bytes member '42' are the same member")
        self.assertEqual(self.ok("ZINCRBY", b"bin:board", -1.25, 7), -1.25)
        self.assertEqual(self.ok("ZSCORE", b"bin:board", b"42"), 4.0)
        self.assertEqual(self.ok("ZRANGE", b"bin:board", 0, -1, b"WITHSCORES"),
                         [b"7", -1.25, b"42", 4.0])
        self.assertEqual(self.ok("ZREVRANK", b"bin:board", 42), 0)
        self.assertIsNone(self.ok("ZRANK", b"bin:board", b"nosuch"))
        self.assertEqual(self.ok("ZMSCORE", b"bin:board", b"7", b"nosuch"), [-1.25, None])
        self.assertEqual(self.ok("ZCARD", b"bin:board"), 2)
        self.error(fx.STATUS_ERR, "ZINCRBY", b"bin:board", float("nan"), 42)
        self.assertEqual(self.ok("ZSCORE", b"bin:board", 42), 4.0)
        self.assertEqual(self.ok("ZADD", b"bin:board", b"INCR", float("inf"), 9), float("inf"))
        self.assertEqual(self.ok("ZADD", b"bin:board", 1.0, b"a", 2, b"b"), 2)

    def test_status_codes(self):
        self.assertEqual(self.ok("SET", b"bin:str", b"v"), "OK")
        self.error(fx.STATUS_WRONGTYPE, "ZADD", b"bin:str", 1.0, b"m")
        message = self.error(fx.STATUS_UNKNOWN_COMMAND, 999)
        self.assertIn("unknown command", message)
        self.assertEqual(self.ok("PING"), "PONG", "an unknown opcode leaves the connection usable")
        self.error(fx.STATUS_NOT_FOUND, "STOCK.RESERVE", 987654, 1)

    def test_stock_reserve_soldout(self):
        self.assertEqual(self.ok("STOCK.SET", 555, 3), 3)
        self.assertEqual(self.ok("STOCK.RESERVE", 555, 1), 2)
        self.assertEqual(self.error(fx.STATUS_SOLDOUT, "STOCK.RESERVE", 555, 5), "2",
                         "SOLDOUT's message is the number of units available")
        self.assertEqual(self.ok("STOCK.GET", 555), 2, "a SOLDOUT reservation takes nothing")
        self.assertEqual(self.ok("STOCK.RELEASE", 555, 1), 3)
        self.assertEqual(self.ok("STOCK.ADD", 555, b"7"), 10)

    def test_pipelined_requests_answered_in_order(self):
        ids = [0, 0xFFFFFFFF, 7, 7, 1] + list(range(1000, 1195))
        frames = []
        expected = []
        for index, request_id in enumerate(ids):
            key = b"bin:pipe:%d" % (index // 3)
            if index % 3 == 0:
                frames.append(fx.encode_request(request_id, "SET", [key, b"%d" % index]))
                expected.append("OK")
            elif index % 3 == 1:
                frames.append(fx.encode_request(request_id, "GET", [key]))
                expected.append(b"%d" % (index - 1))
            else:
                frames.append(fx.encode_request(request_id, "PING", [b"%d" % index]))
                expected.append(b"%d" % index)
        self.client.connection.send(b"".join(frames))
        for request_id, value in zip(ids, expected):
            reply = self.client.read_reply()
            self.assertEqual((reply.request_id, reply.status, reply.value), (request_id, 0, value))

    def test_pipelined_large_replies_all_arrive(self):
        value = b"x" * 16384
        self.assertEqual(self.ok("SET", b"bin:large", value), "OK")
        self.client.connection.send(b"".join(fx.encode_request(i, "GET", [b"bin:large"])
                                             for i in range(200)))
        received = 0
        for i in range(200):  # 3.2 MiB of replies to a client that reads them all
            try:
                reply = self.client.read_reply(timeout_s=10)
            except AssertionError:
                break  # reported below with the count
            self.assertEqual((reply.request_id, reply.status), (i, 0))
            self.assertEqual(reply.value, value)
            received += 1
        self.assertEqual(received, 200, f"only {received} of 200 pipelined replies arrived "
                                        f"within 10 s")

    def test_nested_and_text_replies(self):
        info = self.ok("INFO", b"server")
        self.assertIsInstance(info, bytes)
        self.assertIn(b"tcp_port:%d" % self.port, info)
        entry = self.ok("COMMAND", b"INFO", b"zadd")
        self.assertEqual(entry[0][0], b"zadd")
        self.assertIsInstance(entry[0][2], list, "flags are an array inside the entry")

    # A connection decodes a few binary requests ahead of the one it runs (docs/protocol.md,
    # "Pipelining"); these check that what was decoded ahead runs exactly as if it had not been.

    def test_pipelined_increments_match_a_model(self):
        members = [b"m%d" % i for i in range(7)] + [3, 11, 2**40]
        model = {}
        frames, expected = [], []
        for i in range(600):
            member = members[(i * 7 + i // 5) % len(members)]
            key = b"bin:ahead" if i % 11 else b"bin:ahead:other"
            if i % 4 == 3:
                frames.append(fx.encode_request(i, "ZSCORE", [key, member]))
                expected.append(model.get((key, member)))
            else:
                delta = float(i % 9) - 3.0
                model[(key, member)] = model.get((key, member), 0.0) + delta
                frames.append(fx.encode_request(i, "ZINCRBY", [key, delta, member]))
                expected.append(model[(key, member)])
        self.client.connection.send(b"".join(frames))
        for i, value in enumerate(expected):
            reply = self.client.read_reply()
            self.assertEqual((reply.request_id, reply.status, reply.value), (i, 0, value))

    def test_requests_after_quit_in_the_same_write_do_not_run(self):
        self.client.connection.send(fx.encode_request(1, "SET", [b"bin:quit", b"before"]) +
                                    fx.encode_request(2, "QUIT") +
                                    fx.encode_request(3, "SET", [b"bin:quit", b"after"]) +
                                    fx.encode_request(4, "ZINCRBY", [b"bin:quit:z", 1.0, b"m"]))
        self.assertEqual(self.client.read_reply().value, "OK")
        self.assertEqual(self.client.read_reply().value, "OK")
        self.assertTrue(self.client.connection.wait_closed(5.0), "QUIT closes the connection")
        with fx.BinaryClient(self.port) as other:
            other.handshake()
            self.assertEqual(other.call("GET", b"bin:quit").value, b"before")
            self.assertIsNone(other.call("ZSCORE", b"bin:quit:z", b"m").value)

    def test_requests_after_a_bad_frame_in_the_same_write_do_not_run(self):
        self.client.connection.send(
            fx.encode_request(1, "ZINCRBY", [b"bin:bad", 1.0, b"m"]) +
            fx.encode_request(2, "ZINCRBY", [b"bin:bad", 1.0, b"m"]) +
            fx.encode_request(3, "ZINCRBY", [b"bin:bad", 1.0, b"m"], flags=0x8000) +
            fx.encode_request(4, "ZINCRBY", [b"bin:bad", 1.0, b"m"]))
        self.assertEqual(self.client.read_reply().value, 1.0)
        self.assertEqual(self.client.read_reply().value, 2.0)
        self.assertEqual(self.client.read_reply().status, fx.STATUS_PROTOCOL)
        self.assertTrue(self.client.connection.wait_closed(5.0), "a bad frame closes it")
        with fx.BinaryClient(self.port) as other:
            other.handshake()
            self.assertEqual(other.call("ZSCORE", b"bin:bad", b"m").value, 2.0)

    def test_requests_after_a_deferred_command_see_its_result(self):
        source = b"bin:defer:src"
        members = 5000  # past the union's inline limit: it runs on a worker thread
        self.client.connection.send(b"".join(
            fx.encode_request(i, "ZADD", [source, float(i), b"s%d" % i]) for i in range(members)))
        for i in range(members):
            self.assertEqual(self.client.read_reply().value, 1)
        destination = b"bin:defer:dst"
        self.client.connection.send(
            fx.encode_request(1, "ZINCRBY", [destination, 1.0, b"s7"]) +
            fx.encode_request(2, "ZUNIONSTORE", [destination, 1, source]) +
            fx.encode_request(3, "ZINCRBY", [destination, 0.5, b"s7"]) +
            fx.encode_request(4, "ZSCORE", [destination, b"s7"]) +
            fx.encode_request(5, "ZCARD", [destination]))
        replies = [self.client.read_reply() for _ in range(5)]
        self.assertEqual([(r.request_id, r.status) for r in replies],
                         [(i, fx.STATUS_OK) for i in range(1, 6)])
        self.assertEqual([r.value for r in replies], [1.0, members, 7.5, 7.5, members])

    def test_quit(self):
        self.assertEqual(self.ok("QUIT"), "OK")
        self.assertTrue(self.client.connection.wait_closed(5.0), "QUIT closes the connection")

    # ------------------------------------------------------------------------- RANK.*

    def raw(self, opcode, *args):
        """(status, value bytes) of one exchange, the frame cut with struct alone."""
        request_id = self.client.send(opcode, *args)
        connection = self.client.connection
        length = struct.unpack("<I", connection.recv_exactly(4))[0]
        frame = connection.recv_exactly(length)
        got_id, status, flags = struct.unpack_from("<IHH", frame)
        self.assertEqual((got_id, flags), (request_id, 0), f"{opcode} {args}")
        return status, frame[8:]

    def raw_ok(self, opcode, *args):
        status, value = self.raw(opcode, *args)
        self.assertEqual(status, fx.STATUS_OK, f"{opcode} {args}: {value!r}")
        return value

    def raw_error(self, status, opcode, *args):
        """The message of a reply that must fail with `status`, its error value checked."""
        got, value = self.raw(opcode, *args)
        self.assertEqual(got, status, f"{opcode} {args}: {value!r}")
        self.assertEqual(value[0], fx.VALUE_ERROR, value)
        self.assertEqual(struct.unpack_from("<I", value, 1)[0], len(value) - 5, value)
        return value[5:].decode()

    def rank_board(self, ns):
        """Events of a board whose scores the weights (0.1 view, 0.2 like, 0.7 order) fix:
        10: an order of 2 x 1500; 20: two likes; 30: three views; 4e9 (past 2^31): a like;
        50 and 40: a view each (equal scores: the higher product id first). Returns
        (ts, day, the order's score as computed here)."""
        ts = now_ms()
        events = [(b"o", b"ORDER", 10, 2, 1500), (b"l1", b"LIKE", 20), (b"l2", b"LIKE", 20),
                  (b"v1", b"VIEW", 30), (b"v2", b"VIEW", 30), (b"v3", b"VIEW", 30),
                  (b"l3", b"LIKE", 4_000_000_000), (b"v4", b"VIEW", 40), (b"v5", b"VIEW", 50)]
        for event_id, kind, product, *amounts in events:
            self.assertEqual(self.raw_ok("RANK.EVENT", ns, event_id, kind, product, ts, *amounts),
                             v_int(1), event_id)
        return ts, day_name(ts), 0.7 * math.log1p(2 * 1500)

    def test_rank_event_applies_an_id_once(self):
        ns, ts = b"bin-rank-event", now_ms()
        day = day_name(ts)
        self.assertEqual(self.raw("RANK.EVENT", ns, b"e1", b"VIEW", 7, ts), (0, v_int(1)))
        self.assertEqual(self.raw("RANK.EVENT", ns, b"e1", b"VIEW", 7, ts), (0, v_int(0)))
        self.assertEqual(self.raw("RANK.EVENT", ns, b"e1", b"ORDER", 8, ts, 1, 10), (0, v_int(0)),
                         "the id, not the content, decides")
        # Numbers as int64 or as text (protocol.md "Arguments"): the same product, one more view.
        self.assertEqual(self.raw("RANK.EVENT", ns, b"e2", b"VIEW", b"7", b"%d" % ts),
                         (0, v_int(1)))
        self.assertEqual(self.raw("RANK.EVENT", ns, b"e3", b"ORDER", 7, ts, b"2", 500),
                         (0, v_int(1)))
        self.assertEqual(self.raw_ok("RANK.CARD", ns, day.encode()), v_int(1))
        signals = self.ok("RANK.SIGNALS", ns, day, 7)
        self.assertEqual(signals[:4], [b"views", 2, b"likes", 0])
        self.assertAlmostEqual(signals[5], math.log1p(1000), places=12)
        self.assertIsNone(self.ok("RANK.SIGNALS", ns, day, 8), "the duplicate counted nothing")
        # Errors change nothing, and a refused id is not remembered.
        for args, word in (((b"x", b"VIEW", 7, ts + 3_600_000), "future"),
                           ((b"x", b"VIEW", 7, ts - 3 * DAY_MS), None),
                           ((b"x", b"ORDER", 7, ts), None),            # no qty, unit_price
                           ((b"x", b"VIEW", 7, ts, 1, 1), None),       # amounts on a view
                           ((b"x", b"ORDER", 7, ts, 0, 1), None),      # qty 1..10^6
                           ((b"x", b"ORDER", 7, ts, 1_000_001, 1), None),
                           ((b"x", b"ORDER", 7, ts, 1, 10 ** 12 + 1), None),
                           ((b"x", b"BUY", 7, ts), None), ((b"x", b"VIEW", -1, ts), None),
                           ((b"x", b"VIEW", 7, float(ts)), None)):     # float64 for an integer
            message = self.raw_error(fx.STATUS_ERR, "RANK.EVENT", ns, *args)
            if word:
                self.assertIn(word, message)
        self.assertEqual(self.ok("RANK.SIGNALS", ns, day, 7)[:4], [b"views", 2, b"likes", 0])
        self.assertEqual(self.raw("RANK.EVENT", ns, b"x", b"VIEW", 7, ts), (0, v_int(1)))

    def test_rank_events_one_result_per_event(self):
        ns, ts = b"bin-rank-events", now_ms()
        day = day_name(ts)
        status, value = self.raw("RANK.EVENTS", ns, 4,
                                 b"b1", b"VIEW", 7, ts, 0, 0,
                                 b"b1", b"VIEW", 7, ts, 0, 0,
                                 b"b2", b"ORDER", 8, ts + 3_600_000, 2, 10,
                                 b"b3", b"LIKE", 9, ts, 0, 0)
        # An array of 4: 1, 0, an error value for the future event (the others still apply), 1;
        # status 0: the error is inside the array, not at the top level.
        self.assertEqual(status, fx.STATUS_OK, value)
        head = struct.pack("<BI", fx.VALUE_ARRAY, 4) + v_int(1) + v_int(0)
        self.assertEqual(value[:len(head)], head)
        rest = value[len(head):]
        self.assertEqual(rest[0], fx.VALUE_ERROR)
        size = struct.unpack_from("<I", rest, 1)[0]
        self.assertIn("future", rest[5:5 + size].decode())
        self.assertEqual(rest[5 + size:], v_int(1))
        self.assertEqual(self.raw_ok("RANK.CARD", ns, day), v_int(2))
        self.assertIsNone(self.ok("RANK.SIGNALS", ns, day, 8))
        self.assertEqual(self.raw_ok("RANK.EVENTS", ns, 1, b"b2", b"ORDER", 8, ts, 2, 10),
                         v_array(v_int(1)), "the refused event's id was not remembered")
        # A malformed field refuses the whole batch with ERR: nothing of it applies.
        for fields in ((b"m1", b"VIEW", 7, ts, 0, 0, b"m2", b"VIEW", 7, ts, 1, 0),
                       (b"m1", b"VIEW", 7, ts, 0, 0, b"m2", b"BUY", 7, ts, 0, 0),
                       (b"m1", b"VIEW", 7, ts, 0, 0, b"m2", b"VIEW", 7, ts, 0.0, 0)):
            self.raw_error(fx.STATUS_ERR, "RANK.EVENTS", ns, 2, *fields)
        self.raw_error(fx.STATUS_ERR, "RANK.EVENTS", ns, 2, b"m1", b"VIEW", 7, ts, 0, 0)
        self.assertEqual(self.ok("RANK.SIGNALS", ns, day, 7)[:2], [b"views", 1])
        self.assertEqual(self.raw_ok("RANK.EVENTS", ns, 2, b"m1", b"VIEW", 7, ts, 0, 0,
                                     b"m2", b"LIKE", 7, ts, 0, 0),
                         v_array(v_int(1), v_int(1)))
        self.assertEqual(self.ok("RANK.SIGNALS", ns, day, 7)[:4], [b"views", 2, b"likes", 1])

    def test_rank_top_pairs_in_rank_order(self):
        ns = b"bin-rank-top"
        _, day, order_score = self.rank_board(ns)
        value = self.raw_ok("RANK.TOP", ns, day.encode(), 0, 100)
        # The order's score: a float64, as the doc's formula gives it (to rounding); its bytes
        # are then taken from the reply, everything else is compared byte for byte.
        self.assertEqual(value[:5], struct.pack("<BI", fx.VALUE_ARRAY, 12))
        self.assertEqual(value[5:14], v_int(10))
        self.assertEqual(value[14], fx.VALUE_FLOAT64)
        got = struct.unpack_from("<d", value, 15)[0]
        self.assertAlmostEqual(got, order_score, places=12)
        pairs = [(10, got), (20, 0.2 * 2), (30, 0.1 * 3), (4_000_000_000, 0.2), (50, 0.1),
                 (40, 0.1)]
        self.assertEqual(value, v_array(*[v for product, score in pairs
                                          for v in (v_int(product), v_float(score))]))
        self.assertEqual(self.raw_ok("RANK.TOP", ns, day, 2, 2),
                         v_array(*[v for product, score in pairs[2:4]
                                   for v in (v_int(product), v_float(score))]))
        self.assertEqual(self.raw_ok("RANK.TOP", ns, day, b"5", b"100"),
                         v_array(v_int(40), v_float(0.1)), "numbers as text")
        self.assertEqual(self.raw_ok("RANK.TOP", ns, day, 6, 10), v_array())
        self.assertEqual(self.raw_ok("RANK.TOP", ns, day, 0, 0), v_array())
        # A day without events, a week or month never published: empty boards, not errors.
        for window in (b"20200101", b"2026W49", b"202612"):
            self.assertEqual(self.raw_ok("RANK.TOP", ns, window, 0, 100), v_array(), window)
        self.assertEqual(self.raw_ok("RANK.TOP", b"bin-rank-none", day, 0, 100), v_array())

    def test_rank_of_ofmany_card_and_signals(self):
        ns = b"bin-rank-of"
        _, day, _ = self.rank_board(ns)
        top = self.ok("RANK.TOP", ns, day, 0, 1)
        order_score = top[1]
        self.assertIs(type(order_score), float)
        self.assertEqual(self.raw_ok("RANK.OF", ns, day, 10),
                         v_array(v_int(1), v_float(order_score)))
        self.assertEqual(self.raw_ok("RANK.OF", ns, day, 30),
                         v_array(v_int(3), v_float(0.1 * 3)))
        self.assertEqual(self.raw_ok("RANK.OF", ns, day, b"4000000000"),
                         v_array(v_int(4), v_float(0.2)))
        self.assertEqual(self.raw_ok("RANK.OF", ns, day, 40), v_array(v_int(6), v_float(0.1)))
        self.assertEqual(self.raw_ok("RANK.OF", ns, day, 999), v_nil())
        self.assertEqual(self.raw_ok("RANK.OF", ns, b"20200101", 10), v_nil())
        self.assertEqual(self.raw_ok("RANK.OFMANY", ns, day, 50, 999, 10),
                         v_array(v_array(v_int(5), v_float(0.1)), v_nil(),
                                 v_array(v_int(1), v_float(order_score))))
        self.assertEqual(self.raw_ok("RANK.OFMANY", ns, day, 999), v_array(v_nil()))
        self.assertEqual(self.raw_ok("RANK.CARD", ns, day), v_int(6))
        self.assertEqual(self.raw_ok("RANK.CARD", ns, b"20200101"), v_int(0))
        self.assertEqual(self.raw_ok("RANK.CARD", ns, b"2026W49"), v_int(0))

        weights = v_array(v_float(0.1), v_float(0.2), v_float(0.7), v_float(0.1))
        value = self.raw_ok("RANK.SIGNALS", ns, day, 10)
        order_sum = self.ok("RANK.SIGNALS", ns, day, 10)[5]
        self.assertIs(type(order_sum), float)
        self.assertAlmostEqual(order_sum, math.log1p(2 * 1500), places=12)
        self.assertEqual(value, v_array(v_bytes(b"views"), v_int(0), v_bytes(b"likes"), v_int(0),
                                        v_bytes(b"order_sum"), v_float(order_sum),
                                        v_bytes(b"carried"), v_float(0.0),
                                        v_bytes(b"score"), v_float(order_score),
                                        v_bytes(b"weights"), weights))
        self.assertEqual(self.raw_ok("RANK.SIGNALS", ns, day, 30),
                         v_array(v_bytes(b"views"), v_int(3), v_bytes(b"likes"), v_int(0),
                                 v_bytes(b"order_sum"), v_float(0.0),
                                 v_bytes(b"carried"), v_float(0.0),
                                 v_bytes(b"score"), v_float(0.1 * 3),
                                 v_bytes(b"weights"), weights))
        self.assertEqual(self.raw_ok("RANK.SIGNALS", ns, day, 999), v_nil())

    def test_rank_weights_scan_and_publish(self):
        ns = b"bin-rank-more"
        ts, day, _ = self.rank_board(ns)
        self.assertEqual(self.raw_ok("RANK.WEIGHTS", ns),
                         v_array(v_bytes(b"view"), v_float(0.1), v_bytes(b"like"), v_float(0.2),
                                 v_bytes(b"order"), v_float(0.7), v_bytes(b"carry"),
                                 v_float(0.1), v_bytes(b"rescoring"), v_int(0)))
        # RANK.SCAN: [next cursor, flat product, views, likes, order_sum ...]; 6 products ask
        # for fewer than 100, so one reply holds the whole day and its cursor is 0.
        reply = self.ok("RANK.SCAN", ns, day, 0, 100)
        self.assertEqual(len(reply), 2)
        self.assertEqual(reply[0], 0)
        flat = reply[1]
        rows = {tuple(flat[i:i + 4]) for i in range(0, len(flat), 4)}
        self.assertEqual(len(flat), 24)
        for row in rows:
            self.assertEqual([type(x) for x in row], [int, int, int, float], row)
        order_sum = next(row[3] for row in rows if row[0] == 10)
        self.assertAlmostEqual(order_sum, math.log1p(3000), places=12)
        self.assertEqual(rows, {(10, 0, 0, order_sum), (20, 0, 2, 0.0), (30, 3, 0, 0.0),
                                (4_000_000_000, 0, 1, 0.0), (40, 1, 0, 0.0), (50, 1, 0, 0.0)})
        self.assertEqual(self.raw_ok("RANK.SCAN", ns, day_name(ts + 10 * DAY_MS), 0, 100),
                         v_array(v_int(0), v_array()), "a day in the future: [0, []]")
        self.raw_error(fx.STATUS_ERR, "RANK.SCAN", ns, b"20200101", 0, 100)  # no longer kept
        # RANK.PUBLISH: int64, the products on the new board; RANK.TOP then reads it.
        self.assertEqual(self.raw_ok("RANK.PUBLISH", ns, b"2026W49", 5, 1.25, 6, 2.5), v_int(2))
        self.assertEqual(self.raw_ok("RANK.TOP", ns, b"2026W49", 0, 10),
                         v_array(v_int(6), v_float(2.5), v_int(5), v_float(1.25)))
        self.raw_error(fx.STATUS_ERR, "RANK.PUBLISH", ns, day, 5, 1.0)

    def test_rank_errors_for_bad_windows_and_counts(self):
        ns = b"bin-rank-bad"
        _, day, _ = self.rank_board(ns)
        board = self.raw_ok("RANK.TOP", ns, day, 0, 100)
        self.assertEqual(board[:5], struct.pack("<BI", fx.VALUE_ARRAY, 12))
        for args in ((day, 0, 101), (day, -1, 10), (day, 0, -1), (day, 0, 10.0),
                     (b"2026-12-06", 0, 10), (b"yesterday", 0, 10), (b"20261301", 0, 10),
                     (b"2026W60", 0, 10), (b"202613", 0, 10), (b"", 0, 10)):
            self.raw_error(fx.STATUS_ERR, "RANK.TOP", ns, *args)
        for window in (b"2026-12-06", b"2026W60", b"202613", b"x"):
            self.raw_error(fx.STATUS_ERR, "RANK.OF", ns, window, 10)
            self.raw_error(fx.STATUS_ERR, "RANK.OFMANY", ns, window, 10, 20)
            self.raw_error(fx.STATUS_ERR, "RANK.CARD", ns, window)
            self.raw_error(fx.STATUS_ERR, "RANK.SIGNALS", ns, window, 10)
        for window in (b"2026W49", b"202612"):  # a day only: periods keep scores only
            self.raw_error(fx.STATUS_ERR, "RANK.SIGNALS", ns, window, 10)
        self.raw_error(fx.STATUS_ERR, "RANK.OF", ns, day, -1)
        self.raw_error(fx.STATUS_ERR, "RANK.OF", ns, day, 10.0)
        message = self.raw_error(fx.STATUS_ERR, "RANK.TOP", ns, day)
        self.assertIn("wrong number of arguments", message)
        self.assertEqual(self.raw_ok("RANK.TOP", ns, day, 0, 100), board,
                         "errors change nothing and leave the connection usable")


class ProtocolDocExamplesTest(unittest.TestCase):
    """docs/protocol.md's examples, byte for byte, against a fresh server."""

    def test_client_tables_match_the_doc(self):
        """The fixture's client copies the page's opcode and status tables: keep them equal."""
        with open(PROTOCOL_DOC, encoding="utf-8") as doc:
            text = doc.read()
        opcodes = {name: int(number) for number, name in
                   re.findall(r"^\| (\d+) \| `([A-Z.]+)` \|", text, re.M)}
        self.assertEqual(opcodes, fx.OPCODES)
        statuses = {name: int(code) for code, name in
                    re.findall(r"^\| (\d+) \| ([A-Z_]+) \| ", text, re.M)}
        for name, code in statuses.items():
            self.assertEqual(getattr(fx, "STATUS_" + name), code, name)
        self.assertEqual(len(statuses), 11)

    def test_hex_examples(self):
        examples = doc_hex_examples()
        for name in ("client-hello", "server-hello", "zincrby-request", "zincrby-reply",
                     "reserve-request", "reserve-reply"):
            self.assertIn(name, examples, f"docs/protocol.md lost its hex:{name} example")
        with fx.running_server() as server, fx.RawConnection(server.port) as connection:
            connection.send(examples["client-hello"])
            self.assertEqual(connection.recv_exactly(8), examples["server-hello"])

            # ZINCRBY board 1 42 (request id 7) on a new set -> float64 1.0
            connection.send(examples["zincrby-request"])
            self.assertEqual(connection.recv_exactly(len(examples["zincrby-reply"])),
                             examples["zincrby-reply"])

            # STOCK.RESERVE 1001 5 (request id 8) with 3 units left -> SOLDOUT "3"
            connection.send(fx.encode_request(1, "STOCK.SET", [1001, 3]))
            connection.recv_until(lambda data: fx.decode_reply(data) is not None)
            reply, _ = fx.decode_reply(connection.take())
            self.assertEqual((reply.status, reply.value), (fx.STATUS_OK, 3))
            connection.send(examples["reserve-request"])
            self.assertEqual(connection.recv_exactly(len(examples["reserve-reply"])),
                             examples["reserve-reply"])
            self.assertEqual(connection.buffer, b"", "nothing after the documented reply")

        # The same exchanges over RESP, as the page writes them.
        with fx.running_server() as server, fx.RawConnection(server.port) as connection:
            connection.send(b"*4\r\n$7\r\nZINCRBY\r\n$5\r\nboard\r\n$1\r\n1\r\n$2\r\n42\r\n")
            connection.recv_until(fx.has_resp_replies(1))
            self.assertEqual(connection.take(), b"$1\r\n1\r\n")
            connection.send(fx.resp_encode("STOCK.SET", "1001", "3"))
            connection.recv_until(fx.has_resp_replies(1))
            self.assertEqual(connection.take(), b":3\r\n")
            connection.send(b"*3\r\n$13\r\nSTOCK.RESERVE\r\n$4\r\n1001\r\n$1\r\n5\r\n")
            connection.recv_until(fx.has_resp_replies(1))
            self.assertEqual(connection.take(), b"-SOLDOUT 3\r\n")

    def test_reply_layout_of_each_value_type(self):
        """Decodes replies with struct alone, following the tables, not the fixture's decoder."""
        with fx.running_server() as server, fx.RawConnection(server.port) as connection:
            connection.send(fx.CLIENT_HELLO)
            connection.recv_exactly(8)

            def exchange(request_id, opcode, *args):
                connection.send(fx.encode_request(request_id, opcode, args))
                length = struct.unpack("<I", connection.recv_exactly(4))[0]
                frame = connection.recv_exactly(length)
                got_id, status, flags = struct.unpack_from("<IHH", frame)
                self.assertEqual((got_id, flags), (request_id, 0))
                return status, frame[8:]

            self.assertEqual(exchange(1, "PING"), (0, b"\x05" + struct.pack("<I", 4) + b"PONG"))
            self.assertEqual(exchange(2, "GET", b"missing"), (0, b"\x00"))
            self.assertEqual(exchange(3, "INCRBY", b"n", 5), (0, b"\x01" + struct.pack("<q", 5)))
            self.assertEqual(exchange(4, "GET", b"n"), (0, b"\x03" + struct.pack("<I", 1) + b"5"))
            self.assertEqual(exchange(5, "ZADD", b"z", 1.5, b"m"),
                             (0, b"\x01" + struct.pack("<q", 1)))
            self.assertEqual(exchange(6, "ZSCORE", b"z", b"m"),
                             (0, b"\x02" + struct.pack("<d", 1.5)))
            self.assertEqual(exchange(7, "ZRANGE", b"z", 0, -1, b"WITHSCORES"),
                             (0, b"\x04" + struct.pack("<I", 2) + b"\x03" + struct.pack("<I", 1)
                              + b"m" + b"\x02" + struct.pack("<d", 1.5)))
            status, value = exchange(8, "INCR", b"z")
            self.assertEqual(status, fx.STATUS_WRONGTYPE)
            self.assertEqual(value[0], 6)
            self.assertEqual(struct.unpack_from("<I", value, 1)[0], len(value) - 5)


if __name__ == "__main__":
    fx.main()
