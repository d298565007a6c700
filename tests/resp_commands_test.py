#!/usr/bin/python3
"""Podium's commands over RESP, through redis-py, against the real server.

The Redis-compatible commands are checked differentially: the same command sequence runs on
podium-server and on a real redis-server started beside it, and every reply (values and error
texts) must match. Scores are compared as numbers, because Podium prints the shortest text
that reads back as the same double while Redis 7.0 prints %.17g (docs/protocol.md, "RESP").
Podium's own commands (STOCK.*) and what depends on time, connections or memory are checked
against docs/protocol.md directly.
"""

import os
import signal
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import redis  # noqa: E402  (Debian's python3-redis)

import podium_fixture as fx  # noqa: E402

EXPIRY_DEADLINE_S = 5.0  # the server sweeps every 100 ms; a key gone 5 s late is a bug
QUICK_RUN_ATTEMPTS = 5  # a shared machine may stall a run for longer than a short TTL


def run_quickly(steps, budget_ms):
    """Runs steps() until one run takes less than budget_ms by the client's clock; returns
    (its result, its milliseconds). A test that sets a short TTL and reads the key back can
    only expect the key while less time has passed than the TTL; a run the machine stalled
    for longer proves nothing either way, so it is repeated, not failed."""
    for _ in range(QUICK_RUN_ATTEMPTS):
        start = time.monotonic()
        result = steps()
        elapsed_ms = (time.monotonic() - start) * 1000
        if elapsed_ms < budget_ms:
            return result, elapsed_ms
    raise AssertionError(f"{QUICK_RUN_ATTEMPTS} runs each took {budget_ms} ms or more")


def raw_client(port):
    """A redis-py client that returns replies as the server sent them (no response parsing)."""
    client = redis.Redis(host="127.0.0.1", port=port, socket_timeout=10)
    client.response_callbacks = {}
    return client


def outcome(client, args):
    try:
        return ("reply", client.execute_command(*args))
    except redis.ResponseError as error:
        return ("error", type(error).__name__, str(error))


def command_name(args):
    return args[0].upper() if isinstance(args[0], str) else args[0].decode().upper()


def has_word(args, word):
    return any(isinstance(arg, (str, bytes)) and
               (arg.upper() if isinstance(arg, str) else arg.decode("latin-1").upper()) == word
               for arg in args[1:])


def as_score(value):
    return None if value is None else float(value)


def normalize(args, result):
    """Scores as floats: where a reply holds scores, compare numbers rather than their text."""
    if result[0] != "reply":
        return result
    value = result[1]
    name = command_name(args)
    if name in ("ZSCORE", "ZINCRBY") or (name == "ZADD" and has_word(args, "INCR")):
        return ("reply", as_score(value))
    if name == "ZMSCORE" and isinstance(value, list):
        return ("reply", [as_score(item) for item in value])
    if (name in ("ZRANGE", "ZREVRANGE", "ZRANGEBYSCORE", "ZREVRANGEBYSCORE")
            and has_word(args, "WITHSCORES") and isinstance(value, list)):
        return ("reply", [as_score(item) if index % 2 else item
                          for index, item in enumerate(value)])
    return result


class DifferentialMixin:
    """assert_same_as_redis(commands): each command's reply from Podium equals Redis's."""

    def assert_same_as_redis(self, commands):
        for args in commands:
            podium = normalize(args, outcome(self.podium_raw, args))
            reference = normalize(args, outcome(self.redis_raw, args))
            self.assertEqual(podium, reference,
                             f"\ncommand: {' '.join(map(str, args))}\npodium: {podium}\n"
                             f"redis:  {reference}")


class CommandTestCase(fx.ServerTestCase, DifferentialMixin):
    WITH_REDIS = True

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.podium_raw = raw_client(cls.port)
        cls.redis_raw = raw_client(cls.redis_server.port)
        cls.podium = redis.Redis(host="127.0.0.1", port=cls.port, socket_timeout=10)

    @classmethod
    def tearDownClass(cls):
        for client in (cls.podium_raw, cls.redis_raw, cls.podium):
            client.close()
            client.connection_pool.disconnect()
        super().tearDownClass()

    def tearDown(self):
        self.assert_server_alive()


class ConnectionCommandsTest(CommandTestCase):
    def test_ping(self):
        self.assertTrue(self.podium.ping())
        self.assert_same_as_redis([("PING",), ("PING", "hello"), ("ping", b"\x00\r\nbin"),
                                   ("PING", "a", "b")])

    def test_echo(self):
        # redis-cli --pipe depends on ECHO (redis_tools_test covers that path).
        self.assert_same_as_redis([("ECHO", "hello"), ("ECHO", b"\x00\r\n\xff"), ("ECHO", ""),
                                   ("ECHO",), ("ECHO", "a", "b")])

    def test_config_get(self):
        # The settings Redis tools read at start; redis-server here also runs with --save ''.
        self.assert_same_as_redis([("CONFIG", "GET", "save"), ("CONFIG", "GET", "appendonly"),
                                   ("CONFIG", "GET", "no-such-parameter")])
        self.assertEqual(self.podium_raw.execute_command("CONFIG", "GET", "port"),
                         [b"port", str(self.port).encode()])
        self.assertEqual(self.podium_raw.execute_command("CONFIG", "GET", "maxclients"),
                         [b"maxclients", b"10000"])
        with self.assertRaises(redis.ResponseError):
            self.podium_raw.execute_command("CONFIG", "SET", "maxclients", "5")
        self.assertEqual(self.podium_raw.execute_command("CONFIG", "GET", "maxclients"),
                         [b"maxclients", b"10000"])

    def test_command_names_ignore_case(self):
        self.podium.set("case:key", "v")
        self.assertEqual(self.podium.execute_command("get", "case:key"), b"v")
        self.assertEqual(self.podium.execute_command("GeT", "case:key"), b"v")

    def test_unknown_command(self):
        self.assert_same_as_redis([("NOSUCHCOMMAND",), ("NOSUCHCOMMAND", "a", "b")])
        self.assertTrue(self.podium.ping(), "the connection stays usable after an unknown command")

    def test_command_count_and_info(self):
        count = self.podium_raw.execute_command("COMMAND", "COUNT")
        self.assertIsInstance(count, int)
        table = self.podium_raw.execute_command("COMMAND")
        self.assertEqual(len(table), count, "COMMAND lists as many commands as COMMAND COUNT says")
        listed = {entry[0].decode().upper() for entry in table}
        missing = sorted(set(fx.OPCODES) - listed)
        self.assertEqual(missing, [], "commands in docs/protocol.md missing from COMMAND")
        self.assertGreaterEqual(count, len(fx.OPCODES))
        entry = self.podium_raw.execute_command("COMMAND", "INFO", "get")[0]
        self.assertEqual(entry[0], b"get")
        self.assertEqual(entry[1], 2, "GET's arity, as Redis reports it")
        self.assertEqual(entry[3:6], [1, 1, 1], "GET's key positions")
        self.assertEqual(self.podium_raw.execute_command("COMMAND", "INFO", "nosuch"), [None])

    def test_quit_replies_ok_then_closes(self):
        with fx.RawConnection(self.port) as connection:
            connection.send(fx.resp_encode("QUIT"))
            self.assertTrue(connection.wait_closed(5.0), "QUIT closes the connection")
            self.assertEqual(connection.buffer, b"+OK\r\n")

    def test_inline_commands(self):
        with fx.RawConnection(self.port) as connection:
            connection.send(b"PING\r\n")
            self.assertEqual(connection.recv_until(lambda d: d.endswith(b"\r\n")), b"+PONG\r\n")
            connection.take()
            connection.send(b'SET "inline key" "a\\x41\\nb"\nGET "inline key"\r\n')
            connection.recv_until(fx.has_resp_replies(2))
            self.assertEqual(connection.take(), b"+OK\r\n$4\r\naA\nb\r\n")

    def test_pipelined_replies_arrive_in_order(self):
        with fx.RawConnection(self.port) as connection:
            requests = [fx.resp_encode("SET", f"pipe:{i}", str(i)) for i in range(500)]
            requests += [fx.resp_encode("GET", f"pipe:{i}") for i in range(500)]
            connection.send(b"".join(requests))
            connection.recv_until(fx.has_resp_replies(1000), 10.0)
            replies, rest = fx.resp_replies(connection.buffer)
            self.assertEqual(rest, b"")
            self.assertEqual(replies[:500], ["OK"] * 500)
            self.assertEqual(replies[500:], [str(i).encode() for i in range(500)])


    def test_pipelined_large_replies_all_arrive(self):
        # 200 GETs of a 16 KiB value: 3.2 MiB of replies for a client that reads them all.
        value = b"x" * 16384
        self.podium.set("pipe:large", value)
        with fx.RawConnection(self.port) as connection:
            connection.send(fx.resp_encode("GET", "pipe:large") * 200)
            try:
                connection.recv_until(fx.has_resp_replies(200), 10.0)
            except AssertionError:
                pass
            replies, _ = fx.resp_replies(connection.buffer)
            self.assertEqual(len(replies), 200,
                             f"only {len(replies)} of 200 pipelined replies arrived within 10 s")
            self.assertEqual(set(replies), {value})
        # The same through redis-py's pipeline, as an application would do it.
        with self.podium.pipeline(transaction=False) as pipe:
            for _ in range(200):
                pipe.get("pipe:large")
            self.assertEqual(pipe.execute(), [value] * 200)


class InfoTest(unittest.TestCase):
    """INFO on a server of its own, so that counts are exact."""

    def test_info_fields(self):
        with fx.running_server() as server:
            client = redis.Redis(host="127.0.0.1", port=server.port, socket_timeout=10)
            raw = raw_client(server.port)

            def info(*section):
                return fx.parse_info(raw.execute_command("INFO", *section))

            others = [fx.RawConnection(server.port) for _ in range(2)]
            for other in others:
                self.assertEqual(fx.resp_call(other, "PING"), "PONG")
            fields = fx.wait_until(
                lambda: (lambda f: f if f.get("connected_clients") == "3" else None)(info()),
                5.0, "connected_clients:3 with three clients open")
            baseline_memory = int(fields["used_memory"])
            # Sanitizer builds replace jemalloc and report no heap figures (mem_allocator:libc);
            # the Release run of this test checks them.
            memory_measured = fields["mem_allocator"] == "jemalloc"
            if memory_measured:
                self.assertGreater(baseline_memory, 0)
                # The server asks jemalloc for huge pages (docs/operations.md) unless the
                # environment's MALLOC_CONF may say otherwise, or the kernel has none.
                if ("MALLOC_CONF" not in os.environ and
                        os.path.exists("/sys/kernel/mm/transparent_hugepage/enabled")):
                    self.assertEqual(fields["mem_transparent_huge_pages"], "always")
            self.assertEqual(fields["keys_string"], "0")
            self.assertEqual(fields["keys_zset"], "0")

            for i in range(7):
                client.set(f"info:s{i}", "v")
            for i in range(5):
                client.get("info:s0")
            fields = info()
            self.assertEqual(fields["keys_string"], "7")
            self.assertTrue(fields.get("cmdstat_get", "").startswith("calls=5"), fields)
            self.assertTrue(fields.get("cmdstat_set", "").startswith("calls=7"), fields)

            # Keys with a TTL leave by the periodic sweep, without being touched.
            def set_hundred_and_count():
                with client.pipeline(transaction=False) as pipe:
                    for i in range(100):
                        pipe.set(f"info:ttl{i}", "v", px=1000)
                    pipe.execute()
                return info()["keys_string"]

            counted, _ = run_quickly(set_hundred_and_count, budget_ms=1000)
            self.assertEqual(counted, "107")
            fx.wait_until(lambda: info()["keys_string"] == "7", EXPIRY_DEADLINE_S,
                          "the expiry sweep to remove 100 expired keys nobody reads")

            section = info("clients")
            self.assertIn("connected_clients", section)
            self.assertNotIn("used_memory", section, "INFO <section> gives that section only")
            # Several sections at once, and "default", as Redis 7 takes them.
            sections = info("server", "CLIENTS")
            self.assertIn("uptime_in_seconds", sections)
            self.assertIn("connected_clients", sections)
            self.assertNotIn("used_memory", sections)
            self.assertIn("used_memory", info("default"))
            self.assertIn("keys_string", info("default"))
            for other in others:
                other.close()
            fx.wait_until(lambda: info()["connected_clients"] == "2", 5.0,
                          "connected_clients back to 2 (redis-py's two connections)")

            for i in range(3):
                client.zadd(f"info:z{i}", {"m": 1})
            with client.pipeline(transaction=False) as pipe:
                for start in range(0, 100_000, 10_000):
                    pipe.zadd("info:big", {f"member-{n}": n for n in range(start, start + 10_000)})
                pipe.execute()
            fields = info()
            self.assertEqual(fields["keys_zset"], "4")
            self.assertTrue(fields.get("cmdstat_zadd", "").startswith("calls=13"), fields)
            if memory_measured:
                self.assertGreater(int(fields["used_memory"]), baseline_memory + 100_000 * 8,
                                   "100k members must show in used_memory")
            client.close()
            raw.close()


class ShutdownTest(unittest.TestCase):
    def test_sigint_shuts_down_cleanly_after_a_snapshot(self):
        # SIGINT (Ctrl-C) as SIGTERM: the last clients served, a snapshot, exit status 0.
        server = fx.ServerProcess().start()
        try:
            client = redis.Redis(host="127.0.0.1", port=server.port, socket_timeout=10)
            self.assertTrue(client.set("kept", "v"))
            client.close()
            server.process.send_signal(signal.SIGINT)
            self.assertEqual(server.process.wait(timeout=fx.SERVER_STOP_TIMEOUT_S), 0)
            log = server.stderr_text()
            self.assertIn("signal 2: shutting down", log)
            self.assertRegex(log, r"snapshot \S+: \d+ bytes")
            self.assertIn("bye", log)
        finally:
            server.kill()
            server.cleanup()


class RecordCommandsTest(CommandTestCase):
    def test_key_and_member_size_limits_over_the_wire(self):
        # Podium's own bounds (docs/protocol.md, "Limits"): Redis has none to compare with.
        key = "k" * 1024
        self.assertEqual(self.podium_raw.execute_command("SET", key, "v"), b"OK")
        self.assertEqual(self.podium_raw.execute_command("GET", key), b"v")
        for args in (("SET", key + "k", "v"), ("GET", key + "k"), ("SET", "", "v"),
                     ("ZADD", key + "k", "1", "m")):
            with self.assertRaisesRegex(redis.ResponseError, "^LIMIT key must be 1 to 1024 bytes$"):
                self.podium_raw.execute_command(*args)
        self.assertEqual(self.podium_raw.execute_command("ZADD", "limits:z", "1", "m" * 1024), 1)
        with self.assertRaisesRegex(redis.ResponseError, "^LIMIT member is longer than 1024 bytes$"):
            self.podium_raw.execute_command("ZADD", "limits:z", "1", "m" * 1025)
        self.assertEqual(self.podium_raw.execute_command("ZCARD", "limits:z"), 1)  # unchanged

    def test_get_set_del_exists(self):
        self.assert_same_as_redis([
            ("GET", "r:missing"),
            ("SET", "r:a", "1"), ("GET", "r:a"),
            ("SET", "r:a", "two"), ("GET", "r:a"),
            ("SET", "r:bin", b"\x00\xff\r\n$3\r\n"), ("GET", "r:bin"),
            ("SET", "r:empty", ""), ("GET", "r:empty"),
            ("EXISTS", "r:a"), ("EXISTS", "r:a", "r:a", "r:missing", "r:bin"),
            ("DEL", "r:a", "r:missing", "r:bin"), ("GET", "r:a"), ("EXISTS", "r:a", "r:bin"),
            ("DEL", "r:a"),
            ("GET",), ("GET", "r:a", "r:b"), ("SET", "r:a"), ("DEL",), ("EXISTS",),
        ])

    def test_set_options(self):
        self.assert_same_as_redis([
            ("SET", "o:k", "v1", "NX"), ("SET", "o:k", "v2", "NX"), ("GET", "o:k"),
            ("SET", "o:k", "v3", "XX"), ("GET", "o:k"),
            ("SET", "o:new", "v", "XX"), ("GET", "o:new"),
            ("SET", "o:k", "v4", "EX", "100"), ("TTL", "o:k"),
            ("SET", "o:k", "v5", "PX", "200000"), ("TTL", "o:k"),
            ("SET", "o:k", "v6"), ("TTL", "o:k"),  # SET without EX/PX drops the TTL
            ("SET", "o:k", "v7", "ex", "50", "nx"), ("SET", "o:k", "v7", "xx", "px", "50000"),
            ("TTL", "o:k"), ("GET", "o:k"),
            ("SET", "o:k", "v", "EX", "0"), ("SET", "o:k", "v", "EX", "-5"),
            ("SET", "o:k", "v", "PX", "0"), ("SET", "o:k", "v", "EX", "abc"),
            ("SET", "o:k", "v", "EX", "1.5"), ("SET", "o:k", "v", "EX"),
            ("SET", "o:k", "v", "EX", "10", "PX", "10000"), ("SET", "o:k", "v", "NX", "XX"),
            ("SET", "o:k", "v", "BOGUS"), ("GET", "o:k"),
        ])

    def test_expire_ttl(self):
        self.assert_same_as_redis([
            ("EXPIRE", "e:missing", "10"), ("PEXPIRE", "e:missing", "10000"),
            ("TTL", "e:missing"), ("PTTL", "e:missing"),
            ("SET", "e:k", "v"), ("TTL", "e:k"), ("PTTL", "e:k"),
            ("EXPIRE", "e:k", "100"), ("TTL", "e:k"),
            ("EXPIRE", "e:k", "100", "NX"), ("EXPIRE", "e:k", "90", "XX"), ("TTL", "e:k"),
            ("EXPIRE", "e:k", "50", "GT"), ("EXPIRE", "e:k", "500", "GT"), ("TTL", "e:k"),
            ("EXPIRE", "e:k", "600", "LT"), ("EXPIRE", "e:k", "60", "LT"), ("TTL", "e:k"),
            ("PEXPIRE", "e:k", "200000"), ("TTL", "e:k"),
            ("EXPIRE", "e:k", "abc"), ("EXPIRE", "e:k", "10", "FOO"),
            ("EXPIRE", "e:k", "10", "NX", "XX"), ("EXPIRE", "e:k", "10", "GT", "LT"),
            ("EXPIRE", "e:k"), ("TTL",), ("TTL", "a", "b"),
            ("EXPIRE", "e:k", "-1"), ("GET", "e:k"), ("EXISTS", "e:k"),
            ("SET", "e:k2", "v"), ("PEXPIRE", "e:k2", "0"), ("EXISTS", "e:k2"),
        ])
        # PTTL counts down in milliseconds: a range, not an exact value.
        self.podium.set("e:pttl", "v", px=50_000)
        pttl = self.podium.pttl("e:pttl")
        self.assertTrue(45_000 < pttl <= 50_000, pttl)

    def test_keys_expire_by_themselves(self):
        def set_and_read():
            self.podium.set("x:px", "v", px=800)
            self.podium.set("x:ex", "v", ex=1)
            return self.podium.get("x:px"), self.podium.pttl("x:px"), self.podium.ttl("x:ex")

        (value, pttl, ttl), elapsed_ms = run_quickly(set_and_read, budget_ms=800)
        self.assertEqual(value, b"v")
        self.assertTrue(800 - elapsed_ms - 1 <= pttl <= 800, (pttl, elapsed_ms))
        self.assertIn(ttl, (0, 1))
        fx.wait_until(lambda: self.podium.get("x:px") is None, EXPIRY_DEADLINE_S,
                      "a key SET with PX 800 to expire")
        fx.wait_until(lambda: self.podium.exists("x:ex") == 0, EXPIRY_DEADLINE_S,
                      "a key SET with EX 1 to expire")
        self.assertEqual(self.podium.ttl("x:px"), -2)
        self.assertEqual(self.podium.pttl("x:ex"), -2)

    def test_sorted_set_expires(self):
        def add_expire_and_read():
            self.podium.zadd("x:zset", {"m": 1})
            return self.podium.pexpire("x:zset", 800), self.podium.pttl("x:zset")

        (expire_set, pttl), elapsed_ms = run_quickly(add_expire_and_read, budget_ms=800)
        self.assertEqual(expire_set, True)
        self.assertTrue(800 - elapsed_ms - 1 <= pttl <= 800, (pttl, elapsed_ms))
        fx.wait_until(lambda: self.podium.exists("x:zset") == 0, EXPIRY_DEADLINE_S,
                      "a sorted set with PEXPIRE 800 to expire")
        self.assertEqual(self.podium.zcard("x:zset"), 0)
        self.assertEqual(self.podium.zscore("x:zset", "m"), None)

    def test_key_does_not_expire_early(self):
        def set_and_read():
            self.podium.set("x:later", "v", px=1500)
            return self.podium.get("x:later"), self.podium.pttl("x:later")

        # Right after SET the key must be there with all but the time since then left.
        (value, pttl), elapsed_ms = run_quickly(set_and_read, budget_ms=500)
        self.assertEqual(value, b"v")
        self.assertTrue(1500 - elapsed_ms - 1 <= pttl <= 1500, (pttl, elapsed_ms))

    def test_counters(self):
        self.assert_same_as_redis([
            ("INCR", "c:a"), ("INCR", "c:a"), ("INCRBY", "c:a", "10"), ("DECRBY", "c:a", "5"),
            ("DECR", "c:a"), ("INCRBY", "c:a", "-30"), ("DECRBY", "c:a", "-3"), ("GET", "c:a"),
            ("DECR", "c:new"), ("DECRBY", "c:new2", "7"), ("INCRBY", "c:new3", "0"),
            ("INCRBY", "c:a", "abc"), ("INCRBY", "c:a", "1.5"), ("INCRBY", "c:a", ""),
            ("INCRBY", "c:a", "99999999999999999999"), ("INCRBY", "c:a", "+1"),
            ("INCRBY", "c:a", "01"), ("INCRBY", "c:a", " 1"), ("GET", "c:a"),
            ("SET", "c:max", "9223372036854775807"), ("INCR", "c:max"),
            ("INCRBY", "c:max", "1"), ("GET", "c:max"), ("DECR", "c:max"),
            ("SET", "c:min", "-9223372036854775808"), ("DECR", "c:min"),
            ("DECRBY", "c:min", "1"), ("INCRBY", "c:min", "-1"), ("GET", "c:min"),
            ("SET", "c:one", "1"), ("DECRBY", "c:one", "-9223372036854775808"),
            ("SET", "c:text", "hello"), ("INCR", "c:text"), ("INCRBY", "c:text", "1"),
            ("SET", "c:float", "1.5"), ("INCR", "c:float"),
            ("SET", "c:zero", "007"), ("INCR", "c:zero"),
            ("SET", "c:space", " 1"), ("INCR", "c:space"),
            ("SET", "c:plus", "+1"), ("INCR", "c:plus"),
            ("SET", "c:ttl", "10", "EX", "100"), ("INCR", "c:ttl"), ("TTL", "c:ttl"),
            ("INCR",), ("INCR", "a", "b"), ("INCRBY", "c:a"), ("DECRBY", "c:a", "1", "2"),
        ])


class StockCommandsTest(CommandTestCase):
    """STOCK.* are Podium's own: checked against docs/protocol.md, reply bytes and all."""

    def setUp(self):
        self.connection = fx.RawConnection(self.port)

    def tearDown(self):
        self.connection.close()
        super().tearDown()

    def stock(self, *args):
        return fx.resp_call(self.connection, *args)

    def assert_error(self, expected_prefix, *args):
        reply = self.stock(*args)
        self.assertIsInstance(reply, fx.RespError, f"{args} must fail, got {reply!r}")
        self.assertTrue(reply.startswith(expected_prefix),
                        f"{args}: got -{reply}, expected an error starting with "
                        f"{expected_prefix!r}")

    def test_reserve_release_add(self):
        self.assertEqual(self.stock("STOCK.SET", 1001, 10), 10)
        self.assertEqual(self.stock("STOCK.GET", 1001), 10)
        self.assertEqual(self.stock("STOCK.RESERVE", 1001, 3), 7)
        self.assertEqual(self.stock("STOCK.GET", 1001), 7)
        self.assertEqual(self.stock("STOCK.RELEASE", 1001, 2), 9)
        self.assertEqual(self.stock("STOCK.ADD", 1001, 6), 15)
        self.assertEqual(self.stock("STOCK.ADD", 1002, 4), 4, "STOCK.ADD creates a counter")
        self.assertEqual(self.stock("STOCK.GET", 1002), 4)
        self.assertEqual(self.stock("STOCK.SET", 1001, 5), 5, "STOCK.SET replaces the count")
        self.assertEqual(self.stock("stock.get", 1001), 5, "names match regardless of case")
        # Through redis-py's execute_command too, as an application would call it.
        self.assertEqual(self.podium.execute_command("STOCK.RESERVE", 1001, 2), 3)
        with self.assertRaises(redis.ResponseError) as caught:
            self.podium.execute_command("STOCK.RESERVE", 1001, 4)
        self.assertEqual(str(caught.exception), "SOLDOUT 3")

    def test_soldout_leaves_stock_unchanged(self):
        self.assertEqual(self.stock("STOCK.SET", 2001, 3), 3)
        self.assert_error("SOLDOUT 3", "STOCK.RESERVE", 2001, 5)
        self.assertEqual(self.stock("STOCK.GET", 2001), 3, "a SOLDOUT reservation takes nothing")
        self.assertEqual(self.stock("STOCK.RESERVE", 2001, 3), 0, "the last units can be taken")
        self.assert_error("SOLDOUT 0", "STOCK.RESERVE", 2001, 1)
        self.assertEqual(self.stock("STOCK.GET", 2001), 0)
        # The exact bytes of the contract (docs/protocol.md's example): "-SOLDOUT 3\r\n".
        self.assertEqual(self.stock("STOCK.SET", 1001, 3), 3)
        self.connection.send(b"*3\r\n$13\r\nSTOCK.RESERVE\r\n$4\r\n1001\r\n$1\r\n5\r\n")
        self.assertEqual(self.connection.recv_until(lambda d: d.endswith(b"\r\n")),
                         b"-SOLDOUT 3\r\n")
        self.connection.take()
        self.assertEqual(self.stock("STOCK.GET", 1001), 3)

    def test_unknown_product(self):
        self.assert_error("NOTFOUND", "STOCK.RESERVE", 3999, 1)
        self.assert_error("NOTFOUND", "STOCK.RELEASE", 3999, 1)
        # docs/protocol.md, "Commands": STOCK.GET answers nil for a product without a counter.
        self.assertIsNone(self.stock("STOCK.GET", 3999))
        self.assertEqual(self.stock("STOCK.ADD", 3999, 2), 2)
        self.assertEqual(self.stock("STOCK.GET", 3999), 2)

    def test_bad_arguments_change_nothing(self):
        self.assertEqual(self.stock("STOCK.SET", 4001, 10), 10)
        bad = [
            ("STOCK.SET", 4001, "abc"), ("STOCK.SET", 4001, "1.5"), ("STOCK.SET", 4001, -1),
            ("STOCK.SET", -1, 5), ("STOCK.SET", "x", 5), ("STOCK.ADD", 4001, "abc"),
            ("STOCK.ADD", 4001, -5), ("STOCK.RESERVE", 4001, -1), ("STOCK.RESERVE", 4001, 0),
            ("STOCK.RESERVE", 4001, "abc"), ("STOCK.RELEASE", 4001, -1),
            ("STOCK.RELEASE", 4001, "abc"), ("STOCK.RESERVE", "-4001", 1),
        ]
        for args in bad:
            self.assert_error("ERR ", *args)
            self.assertEqual(self.stock("STOCK.GET", 4001), 10, f"{args} changed the stock")
        self.assert_error("ERR syntax error", "STOCK.GET", 1, 2)  # only WITHHELD may follow
        for args in [("STOCK.GET",), ("STOCK.GET", 1, "WITHHELD", 2), ("STOCK.SET", 4001),
                     ("STOCK.RESERVE", 4001), ("STOCK.RESERVE", 4001, 1, 2)]:
            self.assert_error("ERR wrong number of arguments", *args)
        self.assertEqual(self.stock("STOCK.GET", 4001), 10)

    def test_no_oversell_under_concurrency(self):
        units, threads, attempts = 1500, 4, 500
        self.assertEqual(self.stock("STOCK.SET", 5001, units), units)
        counts = [[0, 0] for _ in range(threads)]  # [reserved, soldout] per thread

        def buyer(index):
            client = redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=10)
            for _ in range(attempts):
                try:
                    client.execute_command("STOCK.RESERVE", 5001, 1)
                    counts[index][0] += 1
                except redis.ResponseError as error:
                    if not str(error).startswith("SOLDOUT"):
                        raise
                    counts[index][1] += 1
            client.close()

        workers = [threading.Thread(target=buyer, args=(i,)) for i in range(threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(60)
        reserved = sum(count[0] for count in counts)
        soldout = sum(count[1] for count in counts)
        self.assertEqual(reserved + soldout, threads * attempts, "every request was answered")
        self.assertEqual(reserved, units, "exactly the units in stock were sold, never more")
        self.assertEqual(self.stock("STOCK.GET", 5001), 0)


class SortedSetCommandsTest(CommandTestCase):
    def test_zadd_options(self):
        self.assert_same_as_redis([
            ("ZADD", "z:a", "1", "a", "2", "b", "3", "c"), ("ZADD", "z:a", "1", "a"),
            ("ZADD", "z:a", "CH", "5", "a", "2", "b"),
            ("ZADD", "z:a", "NX", "10", "a", "4", "d"),
            ("ZADD", "z:a", "XX", "7", "a", "9", "e"),
            ("ZADD", "z:a", "XX", "CH", "8", "a", "9", "e"),
            ("ZADD", "z:a", "GT", "1", "a"), ("ZADD", "z:a", "GT", "CH", "100", "a"),
            ("ZADD", "z:a", "LT", "CH", "50", "a"), ("ZADD", "z:a", "LT", "60", "a"),
            ("ZADD", "z:a", "GT", "CH", "5", "newgt"), ("ZADD", "z:a", "lt", "ch", "5", "newlt"),
            ("ZADD", "z:a", "INCR", "5", "b"), ("ZADD", "z:a", "INCR", "-0.5", "b"),
            ("ZADD", "z:a", "NX", "INCR", "1", "b"), ("ZADD", "z:a", "XX", "INCR", "1", "nosuch"),
            ("ZADD", "z:a", "NX", "INCR", "1", "fresh"),
            ("ZADD", "z:a", "GT", "INCR", "-1", "b"), ("ZADD", "z:a", "LT", "INCR", "-1", "b"),
            ("ZADD", "z:a", "+inf", "top", "-inf", "bottom", "1.5", "x", "1e3", "y", "-2", "w"),
            ("ZADD", "z:a", "0.1", "p", "0.2", "q", "0.30000000000000004", "r"),
            ("ZRANGE", "z:a", "0", "-1", "WITHSCORES"), ("ZCARD", "z:a"),
            ("ZADD", "z:a", "NX", "XX", "1", "a"), ("ZADD", "z:a", "GT", "LT", "1", "a"),
            ("ZADD", "z:a", "NX", "GT", "1", "a"), ("ZADD", "z:a", "INCR", "1", "a", "2", "b"),
            ("ZADD", "z:a", "1"), ("ZADD", "z:a", "1", "a", "2"), ("ZADD", "z:a", "abc", "a"),
            ("ZADD", "z:a", "nan", "a"), ("ZADD", "z:a", "1", "a", "x", "b"), ("ZADD", "z:a"),
            ("ZADD", "z:a", "XX"), ("ZADD", "z:a", "INCR", "+inf", "top"),
            ("ZRANGE", "z:a", "0", "-1", "WITHSCORES"),
        ])

    def test_zincrby_zscore_zmscore(self):
        self.assert_same_as_redis([
            ("ZINCRBY", "z:i", "1", "a"), ("ZINCRBY", "z:i", "2.5", "a"),
            ("ZINCRBY", "z:i", "-10", "b"), ("ZINCRBY", "z:i", "1e300", "c"),
            ("ZINCRBY", "z:i", "0.1", "d"), ("ZINCRBY", "z:i", "0.2", "d"),
            ("ZSCORE", "z:i", "a"), ("ZSCORE", "z:i", "d"), ("ZSCORE", "z:i", "nosuch"),
            ("ZSCORE", "z:missing", "a"),
            ("ZMSCORE", "z:i", "a", "nosuch", "b", "d"), ("ZMSCORE", "z:missing", "a", "b"),
            ("ZINCRBY", "z:i", "abc", "a"), ("ZINCRBY", "z:i", "nan", "a"),
            ("ZINCRBY", "z:i", "+inf", "e"), ("ZINCRBY", "z:i", "-inf", "e"),
            ("ZSCORE", "z:i", "e"), ("ZINCRBY", "z:i", "1"), ("ZSCORE", "z:i"),
            ("ZMSCORE", "z:i"), ("ZRANGE", "z:i", "0", "-1", "WITHSCORES"),
        ])

    def test_ranks_and_ranges(self):
        setup = [("ZADD", "z:r", "1", "b", "1", "a", "1", "c", "2", "d", "0", "e", "-1.5", "f",
                  "3", "g", "3", "h")]
        self.assert_same_as_redis(setup + [
            ("ZRANK", "z:r", "a"), ("ZRANK", "z:r", "c"), ("ZREVRANK", "z:r", "a"),
            ("ZREVRANK", "z:r", "h"), ("ZRANK", "z:r", "nosuch"), ("ZRANK", "z:missing", "a"),
            ("ZREVRANK", "z:missing", "a"),
            ("ZRANGE", "z:r", "0", "-1"), ("ZRANGE", "z:r", "1", "2"),
            ("ZRANGE", "z:r", "-2", "-1"), ("ZRANGE", "z:r", "5", "100"),
            ("ZRANGE", "z:r", "3", "1"), ("ZRANGE", "z:r", "-100", "100"),
            ("ZRANGE", "z:r", "100", "200"), ("ZRANGE", "z:missing", "0", "-1"),
            ("ZRANGE", "z:r", "0", "-1", "WITHSCORES"), ("ZRANGE", "z:r", "0", "-1", "REV"),
            ("ZRANGE", "z:r", "0", "2", "REV", "WITHSCORES"),
            ("ZRANGE", "z:r", "(0", "1", "BYSCORE"), ("ZRANGE", "z:r", "0", "(1", "BYSCORE"),
            ("ZRANGE", "z:r", "-inf", "+inf", "BYSCORE", "LIMIT", "1", "3"),
            ("ZRANGE", "z:r", "+inf", "-inf", "BYSCORE", "REV", "LIMIT", "0", "2", "WITHSCORES"),
            ("ZRANGE", "z:r", "2", "1", "BYSCORE", "REV"),
            ("ZRANGE", "z:r", "0", "-1", "LIMIT", "0", "1"),
            ("ZRANGE", "z:r", "0", "-1", "BOGUS"), ("ZRANGE", "z:r", "a", "b"),
            ("ZRANGE", "z:r", "0"),
            ("ZREVRANGE", "z:r", "0", "-1"), ("ZREVRANGE", "z:r", "0", "1", "WITHSCORES"),
            ("ZREVRANGE", "z:r", "-3", "-2"), ("ZREVRANGE", "z:missing", "0", "-1"),
            ("ZREVRANGE", "z:r", "0", "-1", "BOGUS"),
            ("ZRANGEBYSCORE", "z:r", "1", "1"), ("ZRANGEBYSCORE", "z:r", "(1", "3"),
            ("ZRANGEBYSCORE", "z:r", "-inf", "+inf", "WITHSCORES"),
            ("ZRANGEBYSCORE", "z:r", "-inf", "+inf", "LIMIT", "1", "2"),
            ("ZRANGEBYSCORE", "z:r", "-inf", "+inf", "LIMIT", "2", "-1"),
            ("ZRANGEBYSCORE", "z:r", "-inf", "+inf", "WITHSCORES", "LIMIT", "0", "3"),
            ("ZRANGEBYSCORE", "z:r", "-inf", "+inf", "LIMIT", "-1", "2"),
            ("ZRANGEBYSCORE", "z:r", "-inf", "+inf", "LIMIT", "100", "2"),
            ("ZRANGEBYSCORE", "z:r", "2", "1"), ("ZRANGEBYSCORE", "z:r", "(1", "(1"),
            ("ZRANGEBYSCORE", "z:r", "abc", "1"), ("ZRANGEBYSCORE", "z:r", "1", "(x"),
            ("ZRANGEBYSCORE", "z:r", "-inf", "+inf", "LIMIT", "1"),
            ("ZRANGEBYSCORE", "z:missing", "-inf", "+inf"),
            ("ZREVRANGEBYSCORE", "z:r", "+inf", "-inf"),
            ("ZREVRANGEBYSCORE", "z:r", "1", "(0", "WITHSCORES"),
            ("ZREVRANGEBYSCORE", "z:r", "3", "-inf", "LIMIT", "1", "3", "WITHSCORES"),
            ("ZREVRANGEBYSCORE", "z:r", "1", "2"),
            ("ZCOUNT", "z:r", "-inf", "+inf"), ("ZCOUNT", "z:r", "(0", "1"),
            ("ZCOUNT", "z:r", "1", "(2"), ("ZCOUNT", "z:r", "5", "1"),
            ("ZCOUNT", "z:missing", "0", "1"), ("ZCOUNT", "z:r", "x", "1"),
            ("ZCARD", "z:r"), ("ZCARD", "z:missing"), ("ZCARD",), ("ZCARD", "a", "b"),
        ])

    def test_score_text_is_the_shortest_round_trip(self):
        # docs/protocol.md, "RESP": a float64 is the shortest text that reads back as the same
        # double (as Redis 7.2+ prints it), e.g. 1.1, 0.30000000000000004, 1e+20, inf, -inf.
        cases = {"1.1": b"1.1", "3": b"3", "-2.5": b"-2.5", "1e20": b"1e+20",
                 "+inf": b"inf", "-inf": b"-inf", "0.30000000000000004": b"0.30000000000000004"}
        for score, text in cases.items():
            self.podium_raw.execute_command("ZADD", "z:text", score, score)
            self.assertEqual(self.podium_raw.execute_command("ZSCORE", "z:text", score), text)
        self.podium_raw.execute_command("ZADD", "z:text", "0.1", "sum")
        self.assertEqual(self.podium_raw.execute_command("ZINCRBY", "z:text", "0.2", "sum"),
                         b"0.30000000000000004")

    def test_integer_like_members_keep_their_bytes(self):
        # Product ids are stored inline as integers; members that merely look like integers
        # must still come back byte for byte and sort as Redis sorts them on ties.
        self.assert_same_as_redis([
            ("ZADD", "z:n", "1", "42", "1", "042", "1", "-1", "1", "9", "1", "10", "1", "+5",
             "1", "18446744073709551616", "1", "9223372036854775807", "1", "0", "1", "00",
             "1", " 7", "1", "abc", "1", "4.0"),
            ("ZRANGE", "z:n", "0", "-1", "WITHSCORES"), ("ZSCORE", "z:n", "042"),
            ("ZRANK", "z:n", "10"), ("ZREM", "z:n", "42"), ("ZSCORE", "z:n", "042"),
            ("ZINCRBY", "z:n", "5", "00"), ("ZRANGE", "z:n", "0", "-1", "REV"),
        ])

    def test_zrem(self):
        self.assert_same_as_redis([
            ("ZADD", "z:d", "1", "a", "2", "b", "3", "c"),
            ("ZREM", "z:d", "a", "nosuch"), ("ZREM", "z:d", "a"), ("ZREM", "z:missing", "a"),
            ("ZREM", "z:d", "b", "b"), ("ZRANGE", "z:d", "0", "-1"), ("ZREM", "z:d", "c"),
            ("EXISTS", "z:d"), ("ZCARD", "z:d"), ("ZREM", "z:d"),
        ])

    def test_zunionstore(self):
        self.assert_same_as_redis([
            ("ZADD", "{u}1", "1", "a", "2", "b", "3", "c"),
            ("ZADD", "{u}2", "10", "b", "20", "c", "30", "d"),
            ("ZUNIONSTORE", "{u}out", "2", "{u}1", "{u}2"),
            ("ZRANGE", "{u}out", "0", "-1", "WITHSCORES"),
            ("ZUNIONSTORE", "{u}out", "2", "{u}1", "{u}2", "WEIGHTS", "2", "3"),
            ("ZRANGE", "{u}out", "0", "-1", "WITHSCORES"),
            ("ZUNIONSTORE", "{u}out", "2", "{u}1", "{u}2", "AGGREGATE", "MIN"),
            ("ZRANGE", "{u}out", "0", "-1", "WITHSCORES"),
            ("ZUNIONSTORE", "{u}out", "2", "{u}1", "{u}2", "WEIGHTS", "1", "-1", "AGGREGATE",
             "max"),
            ("ZRANGE", "{u}out", "0", "-1", "WITHSCORES"),
            ("ZUNIONSTORE", "{u}out", "2", "{u}1", "{u}2", "AGGREGATE", "SUM", "WEIGHTS", "0.5",
             "2"),
            ("ZRANGE", "{u}out", "0", "-1", "WITHSCORES"),
            ("ZUNIONSTORE", "{u}out", "2", "{u}1", "{u}missing"),
            ("ZRANGE", "{u}out", "0", "-1", "WITHSCORES"),
            ("ZUNIONSTORE", "{u}out", "1", "{u}1"), ("ZRANGE", "{u}out", "0", "-1", "WITHSCORES"),
            ("ZUNIONSTORE", "{u}1", "2", "{u}1", "{u}2"),  # destination is also a source
            ("ZRANGE", "{u}1", "0", "-1", "WITHSCORES"),
            ("ZADD", "{u}inf", "0", "zero", "+inf", "up"), ("ZADD", "{u}ninf", "-inf", "up"),
            ("ZUNIONSTORE", "{u}out", "1", "{u}inf", "WEIGHTS", "inf"),
            ("ZRANGE", "{u}out", "0", "-1", "WITHSCORES"),
            ("ZUNIONSTORE", "{u}out", "2", "{u}inf", "{u}ninf"),
            ("ZRANGE", "{u}out", "0", "-1", "WITHSCORES"),
            ("SET", "{u}str", "v"), ("ZUNIONSTORE", "{u}str", "1", "{u}2"),
            ("ZRANGE", "{u}str", "0", "-1", "WITHSCORES"),
            ("ZUNIONSTORE", "{u}out", "1", "{u}missing"), ("EXISTS", "{u}out"),
            ("ZUNIONSTORE", "{u}out", "0", "{u}1"), ("ZUNIONSTORE", "{u}out", "3", "{u}1", "{u}2"),
            ("ZUNIONSTORE", "{u}out", "-1", "{u}1"), ("ZUNIONSTORE", "{u}out", "x", "{u}1"),
            ("ZUNIONSTORE", "{u}out", "2", "{u}1", "{u}2", "WEIGHTS", "1"),
            ("ZUNIONSTORE", "{u}out", "2", "{u}1", "{u}2", "WEIGHTS", "1", "x"),
            ("ZUNIONSTORE", "{u}out", "2", "{u}1", "{u}2", "AGGREGATE", "AVG"),
            ("ZUNIONSTORE", "{u}out", "2", "{u}1", "{u}2", "AGGREGATE"),
            ("ZUNIONSTORE", "{u}out", "1"), ("ZUNIONSTORE", "{u}out"),
        ])

    def test_zunionstore_large_sets(self):
        # Sources past the server's inline bound (4096 entries) are merged on a worker thread
        # while the connection waits; the result and the reply order must not change.
        first = ["ZADD", "{big}1"]
        second = ["ZADD", "{big}2"]
        for n in range(20_000):
            first += [str(n % 1000), f"m{n}"]
            second += [str(n * 0.5), f"m{n + 10_000}"]
        self.assert_same_as_redis([
            tuple(first), tuple(second),
            ("ZUNIONSTORE", "{big}out", "2", "{big}1", "{big}2"),
            ("ZCARD", "{big}out"), ("ZRANGE", "{big}out", "0", "-1", "WITHSCORES"),
            ("ZUNIONSTORE", "{big}out", "2", "{big}1", "{big}2", "WEIGHTS", "2", "-1",
             "AGGREGATE", "MAX"),
            ("ZRANGE", "{big}out", "0", "-1", "WITHSCORES"),
            ("ZUNIONSTORE", "{big}1", "2", "{big}1", "{big}2", "AGGREGATE", "MIN"),
            ("ZREVRANGE", "{big}1", "0", "99", "WITHSCORES"), ("ZCARD", "{big}1"),
        ])
        with fx.RawConnection(self.port) as connection:
            connection.send(fx.resp_encode("ZUNIONSTORE", "{big}piped", "2", "{big}1", "{big}2")
                            + fx.resp_encode("ZCARD", "{big}piped")
                            + fx.resp_encode("ZSCORE", "{big}piped", "m29999")
                            + fx.resp_encode("PING"))
            connection.recv_until(fx.has_resp_replies(4), 10.0)
            replies, rest = fx.resp_replies(connection.buffer)
            self.assertEqual(replies, [30_000, 30_000, b"19999", "PONG"])  # 2 x 9999.5
            self.assertEqual(rest, b"")
        # Big replies queued before the deferred union in the same write go out while it
        # runs; its own reply must still come whole, after them.
        value = b"v" * 100_000
        self.podium.set("{big}value", value)
        with fx.RawConnection(self.port) as connection:
            connection.send(fx.resp_encode("GET", "{big}value") * 3
                            + fx.resp_encode("ZUNIONSTORE", "{big}after", "2", "{big}1", "{big}2")
                            + fx.resp_encode("ZCARD", "{big}after"))
            connection.recv_until(fx.has_resp_replies(5), 10.0)
            replies, rest = fx.resp_replies(connection.buffer)
            self.assertEqual(replies, [value] * 3 + [30_000, 30_000])
            self.assertEqual(rest, b"")

    def test_zunionstore_big_source_while_it_changes(self):
        # A big union copies its source in slices on a worker thread while other clients go on
        # writing to it. Members of group "up" only gain, of group "down" only lose, some by
        # 1e6 at a time: they jump past the copy's cursor both ways, which a plain resumed scan
        # would miss or count twice. The union of one source with weight 1 is that source as
        # of one moment: every member there once, each score between its scores read before
        # the union and after it.
        members = 100_000
        pipe = self.podium.pipeline(transaction=False)
        for start in range(0, members, 10_000):
            pipe.zadd("{live}src", {f"{'up' if n % 2 else 'down'}{n}": n
                                    for n in range(start, start + 10_000)})
        pipe.execute()
        before = dict(self.podium.zrange("{live}src", 0, -1, withscores=True))
        stop = threading.Event()
        writes_during_union = []
        union_running = threading.Event()
        first_write = threading.Event()

        def writer():
            client = redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=10)
            n = 0
            while not stop.is_set():
                n += 1
                member = f"up{(n * 7919 * 2 + 1) % members}" if n % 2 else \
                    f"down{(n * 7919 * 2) % members}"
                step = 1_000_000 if n % 3 == 0 else 1
                client.zincrby("{live}src", step if member.startswith("up") else -step, member)
                first_write.set()
                if union_running.is_set():
                    writes_during_union.append(n)
            client.close()

        thread = threading.Thread(target=writer)
        thread.start()
        try:
            self.assertTrue(first_write.wait(30.0), "the writer's first increment")
            union_running.set()
            size = self.podium.execute_command("ZUNIONSTORE", "{live}dst", "1", "{live}src")
            union_running.clear()
        finally:
            stop.set()
            thread.join()
        after = dict(self.podium.zrange("{live}src", 0, -1, withscores=True))
        union = dict(self.podium.zrange("{live}dst", 0, -1, withscores=True))
        self.assertEqual(size, members)
        self.assertEqual(len(union), members)
        self.assertGreater(len(writes_during_union), 0, "the writer stalled through the union")
        moved = 0
        for member, score in union.items():
            low, high = sorted((before[member], after[member]))
            self.assertTrue(low <= score <= high, (member, before[member], score, after[member]))
            moved += before[member] != after[member]
        self.assertGreater(moved, 100)
        # A small union over that big destination: the old set is freed off the event loop.
        self.podium.zadd("{live}small", {"a": 1, "b": 2, "c": 3})
        self.assertEqual(
            self.podium.execute_command("ZUNIONSTORE", "{live}dst", "1", "{live}small"), 3)
        self.assertEqual(self.podium.zrange("{live}dst", 0, -1, withscores=True),
                         [(b"a", 1.0), (b"b", 2.0), (b"c", 3.0)])

    def test_wrongtype(self):
        self.assert_same_as_redis([
            ("SET", "w:str", "v"), ("ZADD", "w:zset", "1", "m"),
            ("ZADD", "w:str", "1", "a"), ("ZINCRBY", "w:str", "1", "a"), ("ZSCORE", "w:str", "a"),
            ("ZMSCORE", "w:str", "a"), ("ZRANK", "w:str", "a"), ("ZREVRANK", "w:str", "a"),
            ("ZRANGE", "w:str", "0", "-1"), ("ZREVRANGE", "w:str", "0", "-1"),
            ("ZRANGEBYSCORE", "w:str", "-inf", "+inf"), ("ZREVRANGEBYSCORE", "w:str", "+inf", "0"),
            ("ZCARD", "w:str"), ("ZCOUNT", "w:str", "0", "1"), ("ZREM", "w:str", "a"),
            ("ZUNIONSTORE", "w:out", "1", "w:str"),
            ("GET", "w:zset"), ("INCR", "w:zset"), ("DECR", "w:zset"),
            ("INCRBY", "w:zset", "1"), ("DECRBY", "w:zset", "1"), ("SET", "w:zset", "v", "GET"),
            ("ZCARD", "w:zset"), ("EXISTS", "w:zset", "w:str"), ("TTL", "w:zset"),
            ("EXPIRE", "w:zset", "100"), ("TTL", "w:zset"),
            ("SET", "w:zset", "now a string"), ("GET", "w:zset"), ("ZCARD", "w:zset"),
            ("DEL", "w:zset", "w:str"), ("EXISTS", "w:zset", "w:str"),
        ])


if __name__ == "__main__":
    fx.main()
