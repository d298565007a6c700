#!/usr/bin/python3
"""The binary protocol, spoken by a client written from docs/protocol.md alone
(podium_fixture.BinaryClient): handshake, typed arguments, typed replies, status codes,
pipelining, and the page's own hex examples sent byte for byte.
"""

import os
import re
import struct
import sys
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

    def test_quit(self):
        self.assertEqual(self.ok("QUIT"), "OK")
        self.assertTrue(self.client.connection.wait_closed(5.0), "QUIT closes the connection")


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
        self.assertEqual(len(statuses), 10)

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
