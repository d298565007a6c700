#!/usr/bin/python3
"""Bad input and misbehaving clients against the real podium-server.

Every case runs on a connection of its own while a second, well-behaved redis-py client keeps
getting correct answers (checked after each case): a malformed request gets its error and its
connection closed (docs/protocol.md, "Errors and disconnects"), and nobody else notices.
Memory is watched through INFO used_memory, so a server that buffers what a peer declares or
what a slow reader does not read fails here rather than in production.
"""

import contextlib
import os
import random
import resource
import socket
import struct
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import redis  # noqa: E402

import podium_fixture as fx  # noqa: E402

CLOSE_DEADLINE_S = 5.0        # a protocol error closes the connection at once; 5 s is generous
MEMORY_GROWTH_BYTES_MAX = 64 << 20  # what one misbehaving client may cost the server, at most
IDLE_CONNECTIONS = 1000
SLOW_READ_BYTES_PER_S = 2 << 20  # a slow reader's pace: an 8 MiB reply takes 4 s
SLOW_READ_CHUNK_BYTES = 16 << 10
FILE_DESCRIPTORS_WANTED = 4096

# 1000 idle connections need more descriptors than a default soft limit of 1024, in this
# process and in the server it starts (which inherits the limit).
_soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
if _soft != resource.RLIM_INFINITY and _soft < FILE_DESCRIPTORS_WANTED:
    _wanted = FILE_DESCRIPTORS_WANTED if _hard == resource.RLIM_INFINITY else min(
        _hard, FILE_DESCRIPTORS_WANTED)
    resource.setrlimit(resource.RLIMIT_NOFILE, (_wanted, _hard))


def protocol_error_line(message):
    return b"-ERR Protocol error: " + message + b"\r\n"


@contextlib.contextmanager
def slow_reader(port):
    """A socket with a small receive buffer, so that what the server sends it waits mostly on
    the server's side until the test reads."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, SLOW_READ_CHUNK_BYTES)
    sock.settimeout(CLOSE_DEADLINE_S)
    try:
        sock.connect(("127.0.0.1", port))
        yield sock
    finally:
        sock.close()


def read_paced(sock, size):
    """Reads `size` bytes at SLOW_READ_BYTES_PER_S, a small read at a time; returns what came
    (less if the peer closed). The waits between reads are the slowness under test."""
    received = bytearray()
    started = time.monotonic()
    while len(received) < size:
        time.sleep(max(0.0, started + len(received) / SLOW_READ_BYTES_PER_S - time.monotonic()))
        try:
            chunk = sock.recv(min(SLOW_READ_CHUNK_BYTES, size - len(received)))
        except (ConnectionResetError, BrokenPipeError):
            break
        if not chunk:
            break
        received += chunk
    return bytes(received)


class GoodClientMixin:
    """A well-behaved client that must keep getting right answers whatever others do."""

    def start_good_client(self, port, password=None):
        self.good = redis.Redis(host="127.0.0.1", port=port, password=password, socket_timeout=10)
        self.good.set("good:key", "stable")
        self.good.delete("good:counter")
        self.good_count = 0

    def check_good(self):
        self.assertTrue(self.server_process().alive(),
                        "podium-server died; its output:\n" + self.server_process().stderr_text())
        self.assertTrue(self.good.ping())
        self.good_count += 1
        self.assertEqual(self.good.incr("good:counter"), self.good_count)
        self.assertEqual(self.good.get("good:key"), b"stable")

    def info(self, section=None):
        return self.good.info(section) if section else self.good.info()

    def used_memory(self):
        return int(self.info("memory")["used_memory"])

    def assert_memory_growth_below(self, growth_bytes, bound_bytes, message):
        """Memory bounds hold only where the server reports its heap: a jemalloc build (the
        Release run). Sanitizer builds replace the allocator and report used_memory:0, so there
        the bound is not checked (their run checks memory safety instead)."""
        if self.info("memory")["mem_allocator"] != "jemalloc":
            return
        self.assertLess(growth_bytes, bound_bytes, message)

    def connected_clients(self):
        return int(self.info("clients")["connected_clients"])


class BadInputTest(fx.ServerTestCase, GoodClientMixin):
    def server_process(self):
        return self.server

    def setUp(self):
        self.start_good_client(self.port)
        # The previous test's connections, its good client included, may still be closing.
        fx.wait_until(lambda: self.connected_clients() == 1, 10.0,
                      "the server to count only this test's good client")
        self.clients_baseline = 1

    def tearDown(self):
        self.check_good()
        fx.wait_until(lambda: self.connected_clients() <= self.clients_baseline, 10.0,
                      "every connection the test opened to be closed on the server too")
        self.good.close()

    def assert_protocol_error_and_close(self, data, expected_reply):
        """Sends data on a new connection; the reply must be expected_reply, then EOF."""
        with fx.RawConnection(self.port) as connection:
            connection.send(data)
            self.assertTrue(connection.wait_closed(CLOSE_DEADLINE_S),
                            f"{data[:60]!r}: connection still open after {CLOSE_DEADLINE_S} s; "
                            f"received {connection.buffer!r}")
            self.assertEqual(connection.buffer, expected_reply, f"reply to {data[:60]!r}")
        self.check_good()

    # ---------------------------------------------------------------------- RESP framing

    def test_random_bytes(self):
        for seed in range(40):
            rng = random.Random(seed)
            size = rng.choice([1, 2, 7, 64, 1000, 20_000])
            data = bytes(rng.getrandbits(8) for _ in range(size))
            if seed % 2 == 0:
                data = b"*" + data  # take the multibulk path more often
            with fx.RawConnection(self.port) as connection:
                try:
                    connection.send(data)
                    connection.sock.shutdown(socket.SHUT_WR)  # EOF: the server must close
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the server already closed on a protocol error: fine
                self.assertTrue(connection.wait_closed(CLOSE_DEADLINE_S),
                                f"seed {seed}: still open after EOF")
            self.check_good()

    def test_mutated_valid_requests(self):
        valid = (fx.resp_encode("SET", "mut:k", "value") + fx.resp_encode("GET", "mut:k") +
                 fx.resp_encode("ZADD", "mut:z", "1", "m") + fx.resp_encode("INCRBY", "mut:c", "5"))
        for seed in range(40):
            rng = random.Random(1000 + seed)
            data = bytearray(valid)
            for _ in range(rng.randint(1, 4)):
                data[rng.randrange(len(data))] = rng.getrandbits(8)
            with fx.RawConnection(self.port) as connection:
                try:
                    connection.send(bytes(data))
                    connection.sock.shutdown(socket.SHUT_WR)
                except (BrokenPipeError, ConnectionResetError):
                    pass
                self.assertTrue(connection.wait_closed(CLOSE_DEADLINE_S), f"seed {seed}")
                replies, _ = fx.resp_replies(connection.buffer)
                self.assertLessEqual(len(replies), 4, f"seed {seed}: more replies than requests")
            self.check_good()

    def test_huge_multibulk_count(self):
        self.assert_protocol_error_and_close(b"*2000000000\r\n",
                                             protocol_error_line(b"invalid multibulk length"))

    def test_negative_bulk_length(self):
        self.assert_protocol_error_and_close(b"*2\r\n$3\r\nGET\r\n$-10\r\n",
                                             protocol_error_line(b"invalid bulk length"))

    def test_bulk_length_past_limit_closes_before_the_bytes(self):
        # 8 MiB + 1: refused as soon as the length line arrives; the bytes are never sent.
        self.assert_protocol_error_and_close(b"*3\r\n$3\r\nSET\r\n$7\r\nbig:val\r\n$8388609\r\n",
                                             protocol_error_line(b"invalid bulk length"))
        self.assertIsNone(self.good.get("big:val"))

    def test_bulk_at_the_limit_is_accepted(self):
        value = b"v" * (8 << 20)
        self.assertTrue(self.good.set("big:max", value))
        self.assertEqual(self.good.get("big:max"), value)
        self.good.delete("big:max")

    def test_junk_after_bulk(self):
        self.assert_protocol_error_and_close(
            b"*1\r\n$4\r\nPINGxx\r\n", protocol_error_line(b"expected CRLF after bulk string"))

    def test_other_framing_errors(self):
        cases = [
            (b"*1\r\nx\r\n", protocol_error_line(b"expected '$', got 'x'")),
            (b"*abc\r\n", protocol_error_line(b"invalid multibulk length")),
            (b"*65538\r\n", protocol_error_line(b"invalid multibulk length")),
            (b"*1\r\n$abc\r\n", protocol_error_line(b"invalid bulk length")),
            (b"*" + b"1" * 40, protocol_error_line(b"too big mbulk count string")),
            (b"*1\r\n$" + b"1" * 40, protocol_error_line(b"too big bulk count string")),
            (b'SET "abc\r\n', protocol_error_line(b"unbalanced quotes in request")),
            (b"a" * (70 << 10), protocol_error_line(b"too big inline request")),
        ]
        for data, expected in cases:
            self.assert_protocol_error_and_close(data, expected)

    def test_empty_requests_are_ignored(self):
        with fx.RawConnection(self.port) as connection:
            connection.send(b"*0\r\n*-1\r\n\r\n\n*1\r\n$4\r\nPING\r\n")
            self.assertEqual(connection.recv_until(fx.has_resp_replies(1)), b"+PONG\r\n")

    def test_truncated_requests_then_close(self):
        full = fx.resp_encode("SET", "trunc:resp", "value")
        frame = fx.encode_request(1, "SET", [b"trunc:bin", b"value"])
        for cut in (1, 5, len(full) - 1):
            with fx.RawConnection(self.port) as connection:
                connection.send(full[:cut])
            self.check_good()
        for cut in (1, 4, 13, len(frame) - 1):
            with fx.RawConnection(self.port) as connection:
                connection.send(fx.CLIENT_HELLO + frame[:cut])
            self.check_good()
        fx.wait_until(lambda: self.connected_clients() <= self.clients_baseline, 10.0,
                      "truncated connections closed on the server")
        self.assertIsNone(self.good.get("trunc:resp"), "a truncated request was executed")
        self.assertIsNone(self.good.get("trunc:bin"), "a truncated frame was executed")

    def test_unknown_resp_command_keeps_connection(self):
        with fx.RawConnection(self.port) as connection:
            connection.send(fx.resp_encode("FOO", "bar"))
            connection.recv_until(fx.has_resp_replies(1))
            self.assertEqual(connection.take(),
                             b"-ERR unknown command 'FOO', with args beginning with: 'bar' \r\n")
            self.assertEqual(fx.resp_call(connection, "PING"), "PONG")

    def test_big_request_buffers_are_not_kept(self):
        """A client that sent one big request and then idles does not keep what the request
        needed: the bytes held while it arrived are freed once it has run."""
        before = self.used_memory()
        with fx.RawConnection(self.port) as connection:
            connection.send(fx.resp_encode("FOO", *([b"x" * (8 << 20)] * 4)))  # bulks <= 8 MiB
            connection.recv_until(fx.has_resp_replies(1))
            self.assertTrue(connection.take().startswith(b"-ERR unknown command 'FOO'"))
            self.assertEqual(fx.resp_call(connection, "PING"), "PONG")
            self.assert_memory_growth_below(
                self.used_memory() - before, 8 << 20,
                "a connection kept the buffer of a 32 MiB request it no longer needs")

    # -------------------------------------------------------------------- binary framing

    def binary_connection(self):
        client = fx.BinaryClient(self.port)
        magic, version, status = client.handshake()
        self.assertEqual((magic, version, status), (fx.MAGIC, 1, fx.STATUS_OK))
        return client

    def assert_bad_hello(self, hello):
        with fx.RawConnection(self.port) as connection:
            # A SET pipelined after the hello must not run when the hello is refused.
            connection.send(hello + fx.encode_request(1, "SET", [b"hello:after", b"x"]))
            self.assertTrue(connection.wait_closed(CLOSE_DEADLINE_S), f"{hello!r}: still open")
            answer = connection.buffer
            self.assertEqual(len(answer), 8, f"{hello!r}: answer {answer!r}")
            self.assertEqual(answer[:4], fx.MAGIC)
            self.assertEqual(struct.unpack("<H", answer[6:8])[0], fx.STATUS_PROTOCOL)
        self.assertIsNone(self.good.get("hello:after"))
        self.check_good()

    def test_binary_bad_handshakes(self):
        self.assert_bad_hello(b"\xB0PDX\x01\x00\x00\x00")   # bad magic
        self.assert_bad_hello(b"\xB0\x00\x00\x00\x01\x00\x00\x00")
        self.assert_bad_hello(b"\xB0PDM\x00\x00\x00\x00")   # version 0
        self.assert_bad_hello(b"\xB0PDM\x01\x00\x01\x00")   # reserved flags set

    def test_binary_newer_version_is_answered_with_ours(self):
        with fx.BinaryClient(self.port) as client:
            self.assertEqual(client.handshake(fx.MAGIC + struct.pack("<HH", 7, 0)),
                             (fx.MAGIC, 1, fx.STATUS_OK))
            self.assertEqual(client.call("PING").value, "PONG")

    def test_binary_4gib_frame_closed_without_allocating(self):
        before = self.used_memory()
        for _ in range(5):
            with self.binary_connection() as client:
                client.connection.send(b"\xFF\xFF\xFF\xFF" + b"\x01\x00\x00\x00\x10\x00")
                self.assertTrue(client.connection.wait_closed(CLOSE_DEADLINE_S),
                                "a frame declaring 4 GiB must close the connection at once")
                reply, size = fx.decode_reply(client.connection.buffer)
                self.assertEqual(size, len(client.connection.buffer))
                self.assertEqual((reply.request_id, reply.status), (0, fx.STATUS_PROTOCOL))
                self.assertIsInstance(reply.value, fx.ErrorValue)
            self.check_good()
        self.assert_memory_growth_below(self.used_memory() - before, 16 << 20,
                                        "used_memory jumped after frames that declared 4 GiB")

    def test_binary_frame_past_request_limit(self):
        with self.binary_connection() as client:
            length = (64 << 20) - 4 + 1  # frame size 64 MiB + 1
            client.connection.send(struct.pack("<IIHHH", length, 9, fx.OPCODES["SET"], 0, 2))
            self.assertTrue(client.connection.wait_closed(CLOSE_DEADLINE_S))
            reply, _ = fx.decode_reply(client.connection.buffer)
            self.assertEqual((reply.request_id, reply.status), (0, fx.STATUS_PROTOCOL))

    def test_binary_malformed_frames(self):
        ping = fx.encode_request(1, "PING")
        cases = {
            "reserved flags set": fx.encode_request(1, "PING", flags=1),
            "unknown argument type": struct.pack("<IIHHH", 10 + 2, 1, 1, 0, 1) + b"\x07\x00",
            "argc larger than the arguments": struct.pack("<IIHHH", 10, 1, 1, 0, 3),
            "bytes after the last argument": struct.pack("<IIHHH", 10 + 3, 1, 1, 0, 0) + b"xyz",
            "argument longer than the frame": struct.pack("<IIHHH", 10 + 5, 1, 1, 0, 1)
            + b"\x00\xff\x00\x00\x00",
            "frame shorter than a header": struct.pack("<I", 3) + b"abc",
        }
        for what, frame in cases.items():
            with self.binary_connection() as client:
                client.connection.send(frame + ping)  # the PING after it must not be answered
                self.assertTrue(client.connection.wait_closed(CLOSE_DEADLINE_S), what)
                decoded = fx.decode_reply(client.connection.buffer)
                self.assertIsNotNone(decoded, f"{what}: no error reply before the close")
                reply, size = decoded
                self.assertEqual((reply.request_id, reply.status), (0, fx.STATUS_PROTOCOL), what)
                self.assertEqual(size, len(client.connection.buffer),
                                 f"{what}: something was answered after the protocol error")
            self.check_good()

    def test_binary_unknown_opcode_keeps_connection(self):
        with self.binary_connection() as client:
            for opcode in (0, 999, 0xFFFF):
                request_id = client.send(opcode)
                reply = client.read_reply()
                self.assertEqual(reply.request_id, request_id)
                self.assertEqual(reply.status, fx.STATUS_UNKNOWN_COMMAND, f"opcode {opcode}")
                self.assertIsInstance(reply.value, fx.ErrorValue)
                self.assertEqual(client.call("PING").value, "PONG")

    def test_many_idle_connections(self):
        before = self.used_memory()
        connections = []
        try:
            for _ in range(IDLE_CONNECTIONS):
                connections.append(socket.create_connection(("127.0.0.1", self.port), timeout=5))
            expected = self.clients_baseline + IDLE_CONNECTIONS
            fx.wait_until(lambda: self.connected_clients() == expected, 10.0,
                          f"{IDLE_CONNECTIONS} idle clients counted")
            self.check_good()
            for sock in connections[::100]:  # idle is not dead: a sample still gets answers
                sock.sendall(b"PING\r\n")
                self.assertEqual(sock.recv(16), b"+PONG\r\n")
            self.assert_memory_growth_below(self.used_memory() - before,
                                            MEMORY_GROWTH_BYTES_MAX, "idle connections")
        finally:
            for sock in connections:
                sock.close()
        fx.wait_until(lambda: self.connected_clients() <= self.clients_baseline, 10.0,
                      "all idle connections closed on the server")
        self.check_good()


class SlowReaderTest(fx.ServerTestCase, GoodClientMixin):
    """Clients that pipeline requests and never read the replies, on a server of their own:
    the server may hold such a connection until its stall timeout (limits.h), and that must
    not disturb the other tests' connection counts."""

    def server_process(self):
        return self.server

    def setUp(self):
        self.start_good_client(self.port)

    def tearDown(self):
        self.check_good()
        self.good.close()

    def hog(self, request, requests_total):
        """Pipelines up to `requests_total` copies of request without reading a byte of the
        replies, and fails if used_memory meanwhile grows by MEMORY_GROWTH_BYTES_MAX or the
        good client stops getting right answers. Sending stops once the server has stopped
        reading (no progress for 1 s): TCP flow control then holds the rest.
        """
        baseline = self.used_memory()
        peak = baseline
        batch = request * 1000
        sent = 0
        hog = socket.create_connection(("127.0.0.1", self.port))
        hog.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 << 10)
        hog.settimeout(0.2)
        last_progress = time.monotonic()
        pending = b""
        try:
            while sent < requests_total and time.monotonic() - last_progress < 1.0:
                if not pending:
                    pending = batch
                try:
                    written = hog.send(pending)
                except socket.timeout:
                    written = 0
                except (BrokenPipeError, ConnectionResetError):
                    break  # the server dropped the hog: allowed
                if written:
                    pending = pending[written:]
                    if not pending:
                        sent += 1000
                    last_progress = time.monotonic()
                peak = max(peak, self.used_memory())
                self.check_good()
            for _ in range(5):  # the server has stopped here: memory must stay flat
                peak = max(peak, self.used_memory())
                self.check_good()
        finally:
            hog.close()
        self.assert_memory_growth_below(
            peak - baseline, MEMORY_GROWTH_BYTES_MAX,
            f"used_memory grew by {(peak - baseline) >> 20} MiB for a client that "
            f"does not read ({sent} requests sent)")

    def test_client_that_never_reads_zrevrange(self):
        with self.good.pipeline(transaction=False) as pipe:
            pipe.zadd("hog:board", {f"product:{n}": n for n in range(1000)})
            pipe.execute()
        self.assertEqual(self.good.zcard("hog:board"), 1000)
        self.hog(fx.resp_encode("ZREVRANGE", "hog:board", "0", "-1"), 200_000)

    def test_client_that_never_reads_get(self):
        self.good.set("hog:value", b"x" * 16384)
        self.hog(fx.resp_encode("GET", "hog:value"), 200_000)

    def test_client_that_shuts_down_its_side_gets_every_reply(self):
        """A client asks for 20 MB of replies, shuts down its sending side at once, and only
        then reads, through a small receive window: the EOF reaches the server while replies
        are still queued or being written, and every byte of them must still arrive. Ten
        rounds, since where the EOF lands among the writes varies."""
        value = b"x" * 10_000
        count = 2000
        reply = b"$10000\r\n" + value + b"\r\n"
        for _ in range(10):
            sock = socket.socket()
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            sock.settimeout(30)
            sock.connect(("127.0.0.1", self.port))
            with sock:
                sock.sendall(fx.resp_encode("SET", "hc", value) +
                             fx.resp_encode("GET", "hc") * count)
                sock.shutdown(socket.SHUT_WR)
                received = 0
                while True:
                    chunk = sock.recv(1 << 20)
                    if not chunk:
                        break
                    received += len(chunk)
            self.assertEqual(received, len(b"+OK\r\n") + count * len(reply))


class DeferredWorkTest(unittest.TestCase):
    """ZUNIONSTORE of large sources runs on a worker thread while its connection waits: the
    client leaving, or the server stopping, meanwhile must be harmless."""

    SOURCE_MEMBERS = 200_000

    def fill(self, client):
        for key in ("{d}1", "{d}2"):
            with client.pipeline(transaction=False) as pipe:
                for start in range(0, self.SOURCE_MEMBERS, 20_000):
                    pipe.zadd(key, {f"{key}:{n}": n for n in range(start, start + 20_000)})
                pipe.execute()

    def test_client_leaves_during_union(self):
        with fx.running_server() as server:
            good = redis.Redis(host="127.0.0.1", port=server.port, socket_timeout=30)
            self.fill(good)
            for _ in range(5):
                with fx.RawConnection(server.port) as connection:
                    connection.send(fx.resp_encode("ZUNIONSTORE", "{d}out", "2", "{d}1", "{d}2"))
                self.assertTrue(good.ping())
                self.assertTrue(server.alive(), server.stderr_text())
            fx.wait_until(lambda: good.info("clients")["connected_clients"] == 1, 10.0,
                          "connections closed during a union to be gone")
            self.assertEqual(good.zunionstore("{d}out", ["{d}1", "{d}2"]),
                             2 * self.SOURCE_MEMBERS)
            good.close()

    def test_shutdown_during_union(self):
        server = fx.ServerProcess().start()
        try:
            good = redis.Redis(host="127.0.0.1", port=server.port, socket_timeout=30)
            self.fill(good)
            good.close()
            connection = fx.RawConnection(server.port)
            connection.send(fx.resp_encode("ZUNIONSTORE", "{d}out", "2", "{d}1", "{d}2"))
        except BaseException:
            server.kill()
            server.cleanup()
            raise
        server.stop_and_check()  # SIGTERM while the worker may still be merging: exit 0
        connection.close()


class ClientLimitFlagsTest(unittest.TestCase):
    """The per-client limits are flags: a request past --max-request-bytes is a protocol error
    that closes its connection; a client that reads none of its replies is paused at
    --client-output-pause-bytes and disconnected after --client-output-stall-sec."""

    def test_request_size_and_output_limits(self):
        flags = ["--max_request_bytes=65536", "--client_output_pause_bytes=65536",
                 "--client_output_stall_sec=1"]
        with fx.running_server(flags) as server:
            good = fx.RawConnection(server.port)
            self.assertEqual(fx.resp_call(good, "SET", "small", "v" * 60_000), "OK")
            with fx.RawConnection(server.port) as big:
                big.send(fx.resp_encode("SET", "big", "v" * 70_000))
                self.assertTrue(big.wait_closed(CLOSE_DEADLINE_S))
                self.assertTrue(big.buffer.startswith(b"-ERR Protocol error"), big.buffer[:80])
            self.assertEqual(fx.resp_call(good, "EXISTS", "big"), 0)

            def connected(count):
                return fx.parse_info(fx.resp_call(good, "INFO", "clients")).get(
                    "connected_clients") == str(count)
            fx.wait_until(lambda: connected(1), 10.0, "the closed connection to be counted out")
            hog = socket.create_connection(("127.0.0.1", server.port))
            hog.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 << 10)
            hog.settimeout(0.2)
            fx.wait_until(lambda: connected(2), 10.0, "the server to count the hog")
            request = fx.resp_encode("GET", "small") * 200  # 12 MB of replies, none read
            started = time.monotonic()
            try:
                hog.send(request)
            except socket.timeout:
                pass
            # Disconnected once stalled past 1 s (the loops check once a second); the good
            # client is served throughout.
            def hog_closed():
                self.assertEqual(fx.resp_call(good, "PING"), "PONG")
                return connected(1)
            fx.wait_until(hog_closed, 10.0, "the hog to be disconnected")
            self.assertGreaterEqual(time.monotonic() - started, 1.0)
            hog.close()
            good.close()

    def test_slow_reader_is_not_stalled(self):
        """--client-output-stall-sec counts only time in which a paused client reads nothing: a
        client that reads an 8 MiB reply slowly but steadily (about 4 s, past a stall limit of
        1 s, while the server's one write of the reply is in flight) keeps its connection; one
        that stops reading partway is disconnected."""
        flags = ["--client_output_pause_bytes=65536", "--client_output_stall_sec=1"]
        value = b"v" * (8 << 20)
        reply = b"$%d\r\n%s\r\n" % (len(value), value)
        with fx.running_server(flags) as server:
            good = fx.RawConnection(server.port)
            self.assertEqual(fx.resp_call(good, "SET", "big", value, timeout_s=30), "OK")

            def connected():
                return int(fx.parse_info(fx.resp_call(good, "INFO", "clients"))
                           ["connected_clients"])
            with slow_reader(server.port) as reader:
                reader.sendall(fx.resp_encode("GET", "big") + fx.resp_encode("PING"))
                started = time.monotonic()
                received = read_paced(reader, len(reply) + len(b"+PONG\r\n"))
                elapsed = time.monotonic() - started
                self.assertEqual(len(received), len(reply) + len(b"+PONG\r\n"),
                                 f"disconnected after {len(received)} bytes in {elapsed:.1f} s")
                self.assertEqual(received, reply + b"+PONG\r\n")
                self.assertGreater(elapsed, 3.0, "the reply was not read slowly")
            fx.wait_until(lambda: connected() == 1, 10.0, "the slow reader to be counted out")

            with slow_reader(server.port) as reader:
                reader.sendall(fx.resp_encode("GET", "big"))
                self.assertEqual(len(read_paced(reader, 1 << 20)), 1 << 20)
                stopped = time.monotonic()  # and reads nothing more
                fx.wait_until(lambda: connected() == 1, 10.0,
                              "the reader that stopped to be disconnected")
                self.assertGreaterEqual(time.monotonic() - stopped, 1.0)
            good.close()


class MaxClientsTest(unittest.TestCase):
    def test_eleventh_client_is_refused(self):
        with fx.running_server(["--maxclients=10"]) as server:
            first = fx.RawConnection(server.port)
            fx.wait_until(lambda: fx.parse_info(fx.resp_call(first, "INFO", "clients"))
                          .get("connected_clients") == "1", 10.0, "the readiness probe to go")
            clients = [first]
            for _ in range(9):
                clients.append(fx.RawConnection(server.port))
                self.assertEqual(fx.resp_call(clients[-1], "PING"), "PONG")
            with fx.RawConnection(server.port) as eleventh:
                self.assertTrue(eleventh.wait_closed(CLOSE_DEADLINE_S))
                self.assertEqual(eleventh.buffer, b"-ERR max number of clients reached\r\n")
            info = fx.parse_info(fx.resp_call(first, "INFO"))
            self.assertEqual(info["rejected_connections"], "1")
            for client in clients:  # the ten admitted are still served
                self.assertEqual(fx.resp_call(client, "PING"), "PONG")
            clients.pop().close()
            fx.wait_until(lambda: fx.parse_info(fx.resp_call(first, "INFO", "clients"))
                          .get("connected_clients") == "9", 10.0, "a slot to free up")
            with fx.RawConnection(server.port) as replacement:
                self.assertEqual(fx.resp_call(replacement, "PING"), "PONG")
            for client in clients:
                client.close()


class RequirePassTest(unittest.TestCase):
    def test_authentication(self):
        with fx.running_server(["--requirepass=secret"]) as server:
            port = server.port
            with fx.RawConnection(port) as connection:
                for args in [("GET", "k"), ("SET", "k", "v"), ("INFO",), ("ZCARD", "z"),
                             ("STOCK.GET", "1"), ("COMMAND", "COUNT")]:
                    reply = fx.resp_call(connection, *args)
                    self.assertIsInstance(reply, fx.RespError, args)
                    self.assertTrue(reply.startswith("NOAUTH"), f"{args}: -{reply}")
                # Redis 7 checks a command's arity before authentication.
                self.assertEqual(fx.resp_call(connection, "GET"),
                                 "ERR wrong number of arguments for 'get' command")
                self.assertEqual(fx.resp_call(connection, "PING"), "PONG")
                reply = fx.resp_call(connection, "AUTH", "wrong")
                self.assertIsInstance(reply, fx.RespError)
                self.assertEqual(reply, "WRONGPASS invalid username-password pair or user is "
                                        "disabled.")
                reply = fx.resp_call(connection, "AUTH", "a", "b", "c")
                self.assertEqual(reply, "ERR syntax error")
                self.assertTrue(fx.resp_call(connection, "GET", "k").startswith("NOAUTH"))
                self.assertEqual(fx.resp_call(connection, "AUTH", "secret"), "OK")
                self.assertIsNone(fx.resp_call(connection, "GET", "k"))
                # Authenticated: the full request size applies again.
                self.assertEqual(fx.resp_call(connection, "SET", "k", "v" * 10_000), "OK")
                self.assertEqual(fx.resp_call(connection, "AUTH", "default", "secret"), "OK")
                config = fx.resp_call(connection, "CONFIG", "GET", "requirepass")
                self.assertNotIn(b"secret", b"".join(config), "CONFIG GET shows the password")

            with fx.RawConnection(port) as connection:
                connection.send(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5000\r\n")  # bytes never sent
                self.assertTrue(connection.wait_closed(CLOSE_DEADLINE_S),
                                "a large request before AUTH must close the connection")
                self.assertTrue(connection.buffer.startswith(b"-ERR Protocol error"),
                                connection.buffer)

            with fx.BinaryClient(port) as client:
                self.assertEqual(client.handshake()[2], fx.STATUS_OK)
                self.assertEqual(client.call("GET", b"k").status, fx.STATUS_NOAUTH)
                client.connection.send(struct.pack("<IIHHH", 5000, 3, fx.OPCODES["SET"], 0, 2))
                self.assertTrue(client.connection.wait_closed(CLOSE_DEADLINE_S))
                reply, _ = fx.decode_reply(client.connection.buffer)
                self.assertEqual(reply.status, fx.STATUS_PROTOCOL)

            with fx.BinaryClient(port) as client:
                client.handshake()
                self.assertEqual(client.call("AUTH", b"secret").value, "OK")
                self.assertEqual(client.call("GET", b"k").value, b"v" * 10_000)

            # AUTH and a big frame in one write: the frame is judged by the limit in force when
            # it runs (after AUTH), whatever the server decoded ahead.
            big = fx.encode_request(2, "SET", [b"k2", b"w" * 10_000])
            with fx.BinaryClient(port) as client:
                client.handshake()
                client.connection.send(fx.encode_request(1, "AUTH", [b"secret"]) + big +
                                       fx.encode_request(3, "GET", [b"k2"]))
                replies = [client.read_reply() for _ in range(3)]
                self.assertEqual([(r.request_id, r.status) for r in replies],
                                 [(1, fx.STATUS_OK), (2, fx.STATUS_OK), (3, fx.STATUS_OK)])
                self.assertEqual(replies[2].value, b"w" * 10_000)
            with fx.BinaryClient(port) as client:
                client.handshake()
                client.connection.send(fx.encode_request(1, "AUTH", [b"wrong"]) + big)
                self.assertEqual(client.read_reply().status, fx.STATUS_WRONGPASS)
                self.assertTrue(client.connection.wait_closed(CLOSE_DEADLINE_S),
                                "a big frame after a failed AUTH closes the connection")
                reply, _ = fx.decode_reply(client.connection.buffer)
                self.assertEqual(reply.status, fx.STATUS_PROTOCOL)

            with fx.RawConnection(port) as connection:
                connection.send(fx.resp_encode("QUIT"))
                self.assertTrue(connection.wait_closed(CLOSE_DEADLINE_S))
                self.assertEqual(connection.buffer, b"+OK\r\n")

            with self.assertRaises(redis.AuthenticationError):
                redis.Redis(host="127.0.0.1", port=port, socket_timeout=5).get("k")
            # Podium answers WRONGPASS, as Redis 6+ does; redis-py 4.3 maps no class to it.
            wrong = redis.Redis(host="127.0.0.1", port=port, password="wrong", socket_timeout=5)
            with self.assertRaisesRegex((redis.AuthenticationError, redis.ResponseError),
                                        "^WRONGPASS invalid username-password pair"):
                wrong.get("k")
            good = redis.Redis(host="127.0.0.1", port=port, password="secret", socket_timeout=5)
            self.assertEqual(good.get("k"), b"v" * 10_000)
            good.close()


class IdleTimeoutTest(unittest.TestCase):
    def test_idle_client_is_closed(self):
        with fx.running_server(["--idle_timeout_sec=1"]) as server:
            with fx.RawConnection(server.port) as idle, fx.RawConnection(server.port) as busy:
                self.assertEqual(fx.resp_call(idle, "PING"), "PONG")
                started = time.monotonic()
                # The busy client sends a request every 300 ms and must never be dropped.
                while not idle.closed_by_peer and time.monotonic() - started < 5.0:
                    self.assertEqual(fx.resp_call(busy, "PING"), "PONG")
                    idle.wait_closed(0.3)
                elapsed = time.monotonic() - started
                self.assertTrue(idle.closed_by_peer, "an idle client outlived --idle_timeout_sec=1 "
                                                     "by 4 s")
                self.assertGreaterEqual(elapsed, 0.9, "closed before it had been idle 1 s")
                self.assertEqual(idle.buffer, b"")
                self.assertEqual(fx.resp_call(busy, "PING"), "PONG")


if __name__ == "__main__":
    fx.main()
