#!/usr/bin/python3
"""Redis's own tools against podium-server: redis-cli (one-shot and --pipe) and
redis-benchmark (plain, with a custom ZINCRBY command, and pipelined).

design.md promises that redis-cli and redis-benchmark work for the commands that map; these
tests run the Debian binaries unchanged and check both their output and the state they leave.
"""

import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import redis  # noqa: E402

import podium_fixture as fx  # noqa: E402

TOOL_TIMEOUT_S = 60
PIPE_TIMEOUT_S = 5  # redis-cli --pipe gives up after this long without a reply
# "SET: 81234.57 requests per second, p50=0.199 msec"; a custom command is named by its words.
BENCHMARK_RESULT = re.compile(rb"^\s*([^\n]+?): ([0-9.]+) requests per second", re.M)


class RedisToolsTest(fx.ServerTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.client = redis.Redis(host="127.0.0.1", port=cls.port, socket_timeout=10)

    @classmethod
    def tearDownClass(cls):
        cls.client.close()
        super().tearDownClass()

    def tearDown(self):
        self.assert_server_alive()

    def run_tool(self, *args, stdin=None):
        completed = subprocess.run(list(args), input=stdin, capture_output=True,
                                   timeout=TOOL_TIMEOUT_S)
        return completed

    def cli(self, *args):
        completed = self.run_tool("redis-cli", "-p", str(self.port), *args)
        self.assertEqual(completed.returncode, 0, f"redis-cli {args}: {completed.stderr!r}")
        return completed.stdout

    def benchmark(self, *args):
        completed = self.run_tool("redis-benchmark", "-p", str(self.port), *args)
        self.assertEqual(completed.returncode, 0,
                         f"redis-benchmark {args} exited {completed.returncode}: "
                         f"{completed.stderr[-2000:]!r}")
        # -q prints a progress line per test, overwritten with \r; the result ends each test.
        lines = completed.stdout.replace(b"\r", b"\n")
        results = {name.strip().decode(): float(rate)
                   for name, rate in BENCHMARK_RESULT.findall(lines)}
        return results, completed

    def test_cli_one_shot_commands(self):
        self.assertEqual(self.cli("PING"), b"PONG\n")
        self.assertEqual(self.cli("SET", "cli:key", "hello world"), b"OK\n")
        self.assertEqual(self.cli("GET", "cli:key"), b"hello world\n")
        self.assertEqual(self.cli("GET", "cli:missing"), b"\n")
        self.assertEqual(self.cli("INCRBY", "cli:counter", "5"), b"5\n")
        self.assertEqual(self.cli("ZADD", "cli:board", "1", "a", "2.5", "b", "3", "c"), b"3\n")
        self.assertEqual(self.cli("ZINCRBY", "cli:board", "10", "a"), b"11\n")
        self.assertEqual(self.cli("ZREVRANGE", "cli:board", "0", "-1", "WITHSCORES"),
                         b"a\n11\nc\n3\nb\n2.5\n")
        self.assertEqual(self.cli("ZCARD", "cli:board"), b"3\n")
        self.assertEqual(self.cli("STOCK.SET", "77", "3"), b"3\n")
        # redis-cli prints an error reply's text and a blank line when stdout is not a tty.
        self.assertEqual(self.cli("STOCK.RESERVE", "77", "5"), b"SOLDOUT 3\n\n")
        self.assertEqual(self.cli("STOCK.GET", "77"), b"3\n")

    def test_cli_pipe_loads_10k_zadds(self):
        commands = b"".join(fx.resp_encode("ZADD", "pipe:board", str(i % 97), f"member:{i}")
                            for i in range(10_000))
        completed = self.run_tool("redis-cli", "-p", str(self.port), "--pipe", "--pipe-timeout",
                                  str(PIPE_TIMEOUT_S), stdin=commands)
        self.assertEqual(self.client.zcard("pipe:board"), 10_000, "not every ZADD landed")
        self.assertEqual(self.client.zscore("pipe:board", "member:9999"), 9999 % 97)
        output = completed.stdout + completed.stderr
        summary = re.findall(rb"errors: \d+, replies: \d+", output)
        tail = b"\n".join(output.splitlines()[-3:])
        # redis-cli ends --pipe with ECHO of 20 random bytes and waits until they come back, so
        # the server needs ECHO for --pipe to finish.
        self.assertEqual(summary, [b"errors: 0, replies: 10000"],
                         f"redis-cli --pipe exited {completed.returncode}; last lines: {tail!r}")
        self.assertEqual(completed.returncode, 0, tail)

    def test_benchmark_default_commands(self):
        before = int(self.client.get("counter:__rand_int__") or 0)
        results, completed = self.benchmark("-n", "20000", "-c", "20", "-t", "ping,set,get,incr",
                                            "-q")
        # redis-benchmark reads CONFIG GET save/appendonly at start and warns when it cannot.
        self.assertNotIn(b"Could not fetch server CONFIG", completed.stderr)
        for name in ("PING_INLINE", "PING_MBULK", "SET", "GET", "INCR"):
            self.assertIn(name, results, f"no result for {name}: {results}")
            self.assertGreater(results[name], 0, name)
        # Without -r every INCR hits one key: exactly 20000 increments must have landed.
        self.assertEqual(int(self.client.get("counter:__rand_int__")), before + 20_000)
        self.assertEqual(self.client.get("key:__rand_int__"), b"VXK",
                         "redis-benchmark SETs its default 3-byte value")

    def test_benchmark_zincrby_random_members(self):
        requests = 20_000
        results, _ = self.benchmark("-n", str(requests), "-c", "20", "-r", "1000", "-q",
                                    "ZINCRBY", "bench:board", "1", "__rand_int__")
        self.assertEqual(list(results), ["ZINCRBY bench:board 1 __rand_int__"])
        self.assertGreater(next(iter(results.values())), 0)
        members = self.client.zrange("bench:board", 0, -1, withscores=True)
        self.assertTrue(0 < len(members) <= 1000, len(members))
        for member, _ in members:  # __rand_int__ is 12 zero-padded digits, kept byte for byte
            self.assertRegex(member, rb"^\d{12}$")
        self.assertEqual(sum(score for _, score in members), requests,
                         "every ZINCRBY added exactly 1")
        self.assertEqual(self.client.zcard("bench:board"), len(members))

    def test_benchmark_pipelined(self):
        before = int(self.client.get("counter:__rand_int__") or 0)
        results, _ = self.benchmark("-n", "50000", "-c", "10", "-P", "16", "-t",
                                    "ping,set,get,incr", "-q")
        for name in ("PING_INLINE", "PING_MBULK", "SET", "GET", "INCR"):
            self.assertIn(name, results, f"no result for {name}: {results}")
            self.assertGreater(results[name], 0, name)
        self.assertEqual(int(self.client.get("counter:__rand_int__")), before + 50_000)


if __name__ == "__main__":
    fx.main()
