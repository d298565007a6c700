"""Shared pieces of Podium's black-box tests: real processes, real sockets.

- ServerProcess starts the real `podium-server` on a free port, waits until it accepts TCP
  connections (bounded poll, not a fixed sleep), and on stop sends SIGTERM and requires a clean
  exit (status 0) within a few seconds: clean shutdown is part of the contract.
- RedisProcess starts a real `redis-server` the same way, as the reference for differential
  tests of the Redis-compatible commands.
- RawConnection sends arbitrary bytes and reads until a predicate holds, a deadline passes or
  the peer closes: for bad input, where a client library would refuse to go.
- RESP helpers (encode, parse) and a binary-protocol client written from docs/protocol.md
  alone (handshake, request frames with bytes/int64/float64 arguments, reply frames), so the
  tests also prove that the document is enough to write a client.

The server binary comes from the PODIUM_SERVER environment variable (CTest sets it) or from
`--server PATH` on the command line. Only the standard library is used here.
"""

import contextlib
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import unittest

PYTHON = "/usr/bin/python3"
SERVER_START_TIMEOUT_S = 10.0
SERVER_STOP_TIMEOUT_S = 5.0
POLL_INTERVAL_S = 0.01


def check_path():
    """The podium-check binary under test: $PODIUM_CHECK (CTest sets it)."""
    path = os.environ.get("PODIUM_CHECK", "")
    if not path or not os.access(path, os.X_OK):
        raise RuntimeError("set PODIUM_CHECK=/path/to/podium-check (CTest does)")
    return path


def run_check(*args, env=None, timeout_s=60):
    """(exit status, stdout + stderr) of podium-check with `args`, stdin not a terminal."""
    result = subprocess.run([check_path(), *args], stdin=subprocess.DEVNULL, capture_output=True,
                            text=True, timeout=timeout_s, env=env)
    return result.returncode, result.stdout + result.stderr


def server_path():
    """The podium-server binary under test: --server PATH or $PODIUM_SERVER."""
    if "--server" in sys.argv:
        index = sys.argv.index("--server")
        path = sys.argv[index + 1]
        del sys.argv[index:index + 2]  # leave unittest's own arguments alone
        os.environ["PODIUM_SERVER"] = path
    path = os.environ.get("PODIUM_SERVER", "")
    if not path:
        raise RuntimeError("set PODIUM_SERVER=/path/to/podium-server (CTest does) or pass --server")
    if not os.access(path, os.X_OK):
        raise RuntimeError(f"PODIUM_SERVER={path!r} is not an executable file")
    return path


def free_port():
    """A TCP port nobody listens on right now: bind port 0, read it, close.

    Another process could take it before the server binds it; ServerProcess retries then.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until(predicate, timeout_s, what, interval_s=POLL_INTERVAL_S):
    """Polls predicate() until it returns a true value (returned), or fails naming `what`."""
    deadline = time.monotonic() + timeout_s
    last = None
    while True:
        last = predicate()
        if last:
            return last
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout_s:.1f} s waiting for {what} "
                                 f"(last value: {last!r})")
        time.sleep(interval_s)


def can_connect(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


class _Process:
    """A child process listening on one TCP port; stderr goes to a file for diagnostics."""

    name = "process"

    def __init__(self):
        self.port = None
        self.process = None
        self._stderr = None
        self._workdir = None

    def _command(self, port):
        raise NotImplementedError

    def start(self):
        attempts = 3
        for attempt in range(attempts):
            self._workdir = tempfile.mkdtemp(prefix=f"{self.name}-")
            self._stderr = open(os.path.join(self._workdir, "stderr.log"), "w+b")
            self.port = free_port()
            self.process = subprocess.Popen(self._command(self.port), cwd=self._workdir,
                                            stdin=subprocess.DEVNULL, stdout=self._stderr,
                                            stderr=self._stderr)
            if self._wait_ready():
                return self
            log = self.stderr_text()
            if self.process.poll() is not None and "bind" in log.lower() and attempt + 1 < attempts:
                self.cleanup()
                continue  # the port was taken between free_port() and bind: try another
            self.kill()
            self.cleanup()
            raise AssertionError(f"{self.name} did not accept connections on port {self.port} "
                                 f"within {SERVER_START_TIMEOUT_S} s; exit status "
                                 f"{self.process.returncode}; its output:\n{log}")
        raise AssertionError("unreachable")

    def _wait_ready(self):
        deadline = time.monotonic() + SERVER_START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            if can_connect(self.port):
                return True
            time.sleep(POLL_INTERVAL_S)
        return False

    def stderr_text(self):
        if self._stderr is None:
            return ""
        self._stderr.flush()
        self._stderr.seek(0)
        return self._stderr.read().decode("utf-8", "replace")

    def alive(self):
        return self.process is not None and self.process.poll() is None

    def stop(self):
        """SIGTERM, then the exit status (None if it had to be killed)."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=SERVER_STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.kill()
                return None
        return self.process.returncode

    def kill(self):
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def cleanup(self):
        """Removes the working directory (data, logs). Call after stop or kill."""
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None
        if self._workdir is not None:
            shutil.rmtree(self._workdir, ignore_errors=True)
            self._workdir = None


class ServerProcess(_Process):
    """The real podium-server: `--port <free> --threads 2 [extra flags]`."""

    name = "podium-server"

    def __init__(self, extra_args=(), threads=2):
        super().__init__()
        self.extra_args = list(extra_args)
        self.threads = threads

    def _command(self, port):
        return [server_path(), f"--port={port}", f"--threads={self.threads}",
                f"--data_dir={os.path.join(self._workdir, 'data')}"] + self.extra_args

    def stop_and_check(self):
        """Stops the server and raises unless it exited with status 0 in time."""
        if self.process is None:
            return
        status = self.stop()
        log = self.stderr_text()
        self.cleanup()
        if status != 0:
            if status is None:
                how = f"did not exit within {SERVER_STOP_TIMEOUT_S:.0f} s of SIGTERM"
            else:
                how = f"exited with status {status} after SIGTERM"
            raise AssertionError(f"podium-server {how}; its output:\n{log}")


class RedisProcess(_Process):
    """A real redis-server with persistence off, the reference for differential tests."""

    name = "redis-server"

    def _command(self, port):
        return ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                "--appendonly", "no", "--daemonize", "no", "--dir", self._workdir]


@contextlib.contextmanager
def running_server(extra_args=(), threads=2):
    """Yields a started ServerProcess; on exit requires a clean SIGTERM shutdown."""
    server = ServerProcess(extra_args, threads).start()
    try:
        yield server
    except BaseException:
        server.kill()
        server.cleanup()
        raise
    server.stop_and_check()


class ServerTestCase(unittest.TestCase):
    """Starts one podium-server for the class (SERVER_ARGS) and checks its clean shutdown."""

    SERVER_ARGS = ()
    WITH_REDIS = False

    @classmethod
    def setUpClass(cls):
        cls.server = ServerProcess(cls.SERVER_ARGS).start()
        cls.port = cls.server.port
        cls.redis_server = None
        if cls.WITH_REDIS:
            try:
                cls.redis_server = RedisProcess().start()
            except BaseException:
                cls.server.kill()
                cls.server.cleanup()
                raise

    @classmethod
    def tearDownClass(cls):
        if cls.redis_server is not None:
            cls.redis_server.stop()
            cls.redis_server.cleanup()
        cls.server.stop_and_check()

    def assert_server_alive(self):
        self.assertTrue(self.server.alive(),
                        "podium-server died; its output:\n" + self.server.stderr_text())


# ----------------------------------------------------------------------------- raw sockets

class RawConnection:
    """A TCP client for arbitrary bytes. Reads are bounded by deadlines, never open-ended."""

    def __init__(self, port, timeout_s=5.0):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout_s)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buffer = b""
        self.closed_by_peer = False

    def send(self, data):
        self.sock.sendall(data)

    def _read_some(self, timeout_s):
        """Reads what arrives within timeout_s into self.buffer. False once the peer closed."""
        if self.closed_by_peer:
            return False
        self.sock.settimeout(max(timeout_s, 0.001))
        try:
            chunk = self.sock.recv(1 << 16)
        except socket.timeout:
            return True
        except (ConnectionResetError, BrokenPipeError):
            self.closed_by_peer = True
            return False
        if not chunk:
            self.closed_by_peer = True
            return False
        self.buffer += chunk
        return True

    def recv_until(self, predicate, timeout_s=5.0):
        """Reads until predicate(buffer) is true; returns the buffer (kept). Stops early at EOF.

        Raises AssertionError on timeout, with what had arrived.
        """
        deadline = time.monotonic() + timeout_s
        while not predicate(self.buffer):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"timed out after {timeout_s} s; received {self.buffer!r}")
            if not self._read_some(remaining) and not predicate(self.buffer):
                return self.buffer
        return self.buffer

    def recv_exactly(self, size, timeout_s=5.0):
        """Returns the next `size` bytes (consumed from the buffer)."""
        self.recv_until(lambda data: len(data) >= size, timeout_s)
        if len(self.buffer) < size:
            raise AssertionError(f"peer closed after {self.buffer!r}, wanted {size} bytes")
        data, self.buffer = self.buffer[:size], self.buffer[size:]
        return data

    def take(self):
        data, self.buffer = self.buffer, b""
        return data

    def wait_closed(self, timeout_s=5.0):
        """True if the peer closes within timeout_s (bytes read meanwhile stay in buffer)."""
        deadline = time.monotonic() + timeout_s
        while not self.closed_by_peer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            self._read_some(remaining)
        return True

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


# ------------------------------------------------------------------------------------ RESP

class RespError(str):
    """A RESP error reply (`-...`), the text without the dash."""


class RespSimple(str):
    """A RESP simple string (`+...`)."""


class Incomplete(Exception):
    pass


def resp_encode(*args):
    """A RESP multibulk request; str arguments are UTF-8, ints and floats become text."""
    parts = [b"*%d\r\n" % len(args)]
    for arg in args:
        if isinstance(arg, str):
            arg = arg.encode()
        elif isinstance(arg, (int, float)):
            arg = repr(arg).encode()
        parts.append(b"$%d\r\n%s\r\n" % (len(arg), arg))
    return b"".join(parts)


def resp_parse(data, pos=0):
    """Parses one RESP2 reply at data[pos:]; returns (value, next_pos) or raises Incomplete."""
    end = data.find(b"\r\n", pos)
    if end < 0:
        raise Incomplete()
    kind, line = data[pos:pos + 1], data[pos + 1:end]
    pos = end + 2
    if kind == b"+":
        return RespSimple(line.decode("utf-8", "surrogateescape")), pos
    if kind == b"-":
        return RespError(line.decode("utf-8", "surrogateescape")), pos
    if kind == b":":
        return int(line), pos
    if kind == b"$":
        size = int(line)
        if size < 0:
            return None, pos
        if len(data) < pos + size + 2:
            raise Incomplete()
        if data[pos + size:pos + size + 2] != b"\r\n":
            raise ValueError(f"bulk string not followed by CRLF in {data!r}")
        return data[pos:pos + size], pos + size + 2
    if kind == b"*":
        count = int(line)
        if count < 0:
            return None, pos
        items = []
        for _ in range(count):
            item, pos = resp_parse(data, pos)
            items.append(item)
        return items, pos
    raise ValueError(f"not a RESP reply at {pos}: {data[pos - len(line) - 3:][:40]!r}")


def resp_replies(data):
    """Every complete reply in data, and the bytes of an incomplete tail."""
    replies, pos = [], 0
    while pos < len(data):
        try:
            value, pos = resp_parse(data, pos)
        except Incomplete:
            break
        replies.append(value)
    return replies, data[pos:]


def has_resp_replies(count):
    """A predicate for RawConnection.recv_until: `count` complete replies have arrived."""
    return lambda data: len(resp_replies(data)[0]) >= count


def resp_call(connection, *args, timeout_s=5.0):
    """Sends one request on a RawConnection and returns its reply."""
    connection.send(resp_encode(*args))
    connection.recv_until(has_resp_replies(1), timeout_s)
    value, pos = resp_parse(connection.buffer)
    connection.buffer = connection.buffer[pos:]
    return value


def discard_server(server, db, root):
    """Ends a test that ran a server of its own on a data directory under `root`, whatever
    state the test left them in: closes its client (if any), kills the server (if any, as a
    test may have stopped it already) and removes `root`."""
    if db is not None:
        db.close()
    if server is not None:
        server.kill()
        server.cleanup()
    shutil.rmtree(root, ignore_errors=True)


def wait_serving(port, timeout_s=15.0):
    """Waits until the server on `port` answers PING with PONG: a server that accepts
    connections answers BUSY while it still loads its data directory."""

    def pong():
        try:
            with RawConnection(port) as connection:
                return resp_call(connection, "PING") == "PONG"
        except (OSError, AssertionError, Incomplete):
            return False

    wait_until(pong, timeout_s, f"PING to answer PONG on port {port}")


def parse_info(text):
    """INFO's `field:value` lines as a dict of strings (section headers skipped)."""
    if isinstance(text, bytes):
        text = text.decode()
    fields = {}
    for line in text.splitlines():
        if line and not line.startswith("#") and ":" in line:
            key, value = line.split(":", 1)
            fields[key] = value
    return fields


def info_fields(port):
    """INFO of the server on `port`, over a fresh raw connection."""
    with RawConnection(port) as connection:
        reply = resp_call(connection, "INFO")
    if not isinstance(reply, bytes):
        raise AssertionError(f"INFO replied {reply!r}")
    return parse_info(reply)


# --------------------------------------------------------------------- binary protocol
# Everything below comes from docs/protocol.md: "Handshake", "Request frame", "Arguments",
# "Reply frame", "Values", "Status codes" and "Opcodes".

MAGIC = b"\xB0PDM"
PROTOCOL_VERSION = 1
CLIENT_HELLO = MAGIC + struct.pack("<HH", PROTOCOL_VERSION, 0)

OPCODES = {
    "PING": 1, "AUTH": 2, "INFO": 3, "COMMAND": 4, "QUIT": 5, "ECHO": 6, "CONFIG": 7,
    "SAVE": 8, "BGSAVE": 9, "LASTSAVE": 10,
    "GET": 16, "SET": 17, "DEL": 18, "EXISTS": 19, "EXPIRE": 20, "PEXPIRE": 21, "TTL": 22,
    "PTTL": 23, "INCRBY": 24, "DECRBY": 25, "INCR": 26, "DECR": 27,
    "STOCK.SET": 64, "STOCK.ADD": 65, "STOCK.GET": 66, "STOCK.RESERVE": 67,
    "STOCK.RELEASE": 68,
    "ZADD": 96, "ZINCRBY": 97, "ZSCORE": 98, "ZMSCORE": 99, "ZRANK": 100, "ZREVRANK": 101,
    "ZRANGE": 102, "ZREVRANGE": 103, "ZRANGEBYSCORE": 104, "ZREVRANGEBYSCORE": 105,
    "ZCARD": 106, "ZCOUNT": 107, "ZREM": 108, "ZUNIONSTORE": 109,
    "BRAND.PUT": 160, "PRODUCT.PUT": 161, "PRODUCT.GET": 162, "PRODUCT.LIST": 163,
    "POINTS.GET": 168, "POINTS.CHARGE": 169, "COUPON.ISSUE": 172, "COUPON.GET": 173,
    "ORDER.PLACE": 176, "ORDER.CONFIRM": 177, "ORDER.CANCEL": 178, "ORDER.GET": 179,
    "ORDER.LIST": 180, "LIKE.ADD": 184, "LIKE.DEL": 185, "LIKE.COUNT": 186, "LIKE.LIST": 187,
    "RANK.EVENT": 224, "RANK.EVENTS": 225, "RANK.WEIGHTS": 226, "RANK.TOP": 227, "RANK.OF": 228,
    "RANK.OFMANY": 229, "RANK.CARD": 230, "RANK.SIGNALS": 231,
    "RANK.SCAN": 232, "RANK.PUBLISH": 233,
}

STATUS_OK = 0
STATUS_ERR = 1
STATUS_WRONGTYPE = 2
STATUS_NOAUTH = 3
STATUS_UNKNOWN_COMMAND = 4
STATUS_SOLDOUT = 5
STATUS_NOT_FOUND = 6
STATUS_LIMIT = 7
STATUS_PROTOCOL = 8
STATUS_BUSY = 9
STATUS_WRONGPASS = 10

ARG_BYTES, ARG_INT64, ARG_FLOAT64 = 0, 1, 2
(VALUE_NIL, VALUE_INT64, VALUE_FLOAT64, VALUE_BYTES, VALUE_ARRAY, VALUE_SIMPLE,
 VALUE_ERROR) = range(7)

REQUEST_HEADER = struct.Struct("<IIHHH")  # length, request_id, opcode, flags, argc
REPLY_HEADER = struct.Struct("<IIHH")     # length, request_id, status, flags


class SimpleString(str):
    """A simple-string value (type 5), such as OK or PONG."""


class ErrorValue(str):
    """An error value (type 6): the message; the code is the reply's status."""


class Reply:
    __slots__ = ("request_id", "status", "flags", "value")

    def __init__(self, request_id, status, flags, value):
        self.request_id, self.status, self.flags, self.value = request_id, status, flags, value

    def __repr__(self):
        return (f"Reply(request_id={self.request_id}, status={self.status}, "
                f"flags={self.flags}, value={self.value!r})")


def encode_argument(arg):
    """bytes/str -> bytes (type 0); int -> int64 (type 1); float -> float64 (type 2)."""
    if isinstance(arg, str):
        arg = arg.encode()
    if isinstance(arg, (bytes, bytearray)):
        return struct.pack("<BI", ARG_BYTES, len(arg)) + bytes(arg)
    if isinstance(arg, bool):
        raise TypeError("no boolean arguments in protocol version 1")
    if isinstance(arg, int):
        return struct.pack("<Bq", ARG_INT64, arg)
    if isinstance(arg, float):
        return struct.pack("<Bd", ARG_FLOAT64, arg)
    raise TypeError(f"cannot encode {arg!r}")


def encode_request(request_id, opcode, args=(), flags=0):
    if isinstance(opcode, str):
        opcode = OPCODES[opcode.upper()]
    body = b"".join(encode_argument(arg) for arg in args)
    length = REQUEST_HEADER.size - 4 + len(body)
    return REQUEST_HEADER.pack(length, request_id, opcode, flags, len(args)) + body


def decode_value(data, pos):
    """One value at data[pos:]: (python value, next pos). Raises Incomplete or ValueError."""
    if pos >= len(data):
        raise Incomplete()
    kind = data[pos]
    pos += 1

    def need(size):
        if len(data) < pos + size:
            raise Incomplete()

    if kind == VALUE_NIL:
        return None, pos
    if kind == VALUE_INT64:
        need(8)
        return struct.unpack_from("<q", data, pos)[0], pos + 8
    if kind == VALUE_FLOAT64:
        need(8)
        return struct.unpack_from("<d", data, pos)[0], pos + 8
    if kind in (VALUE_BYTES, VALUE_SIMPLE, VALUE_ERROR):
        need(4)
        size = struct.unpack_from("<I", data, pos)[0]
        pos += 4
        need(size)
        raw = bytes(data[pos:pos + size])
        pos += size
        if kind == VALUE_BYTES:
            return raw, pos
        text = raw.decode("utf-8", "replace")
        return (SimpleString(text) if kind == VALUE_SIMPLE else ErrorValue(text)), pos
    if kind == VALUE_ARRAY:
        need(4)
        count = struct.unpack_from("<I", data, pos)[0]
        pos += 4
        items = []
        for _ in range(count):
            item, pos = decode_value(data, pos)
            items.append(item)
        return items, pos
    raise ValueError(f"unknown value type {kind} at offset {pos - 1}")


def decode_reply(data):
    """One reply frame from the start of data: (Reply, frame size), or None if incomplete.

    Raises ValueError if the value does not fill the frame exactly.
    """
    if len(data) < 4:
        return None
    length = struct.unpack_from("<I", data, 0)[0]
    if len(data) < 4 + length:
        return None
    _, request_id, status, flags = REPLY_HEADER.unpack_from(data, 0)
    frame = data[:4 + length]
    value, end = decode_value(frame, REPLY_HEADER.size)
    if end != len(frame):
        raise ValueError(f"reply value ends at {end} but the frame is {len(frame)} bytes: "
                         f"{frame!r}")
    return Reply(request_id, status, flags, value), len(frame)


class BinaryClient:
    """A client of the binary protocol from docs/protocol.md alone."""

    def __init__(self, port, timeout_s=5.0):
        self.connection = RawConnection(port, timeout_s)
        self.timeout_s = timeout_s
        self.next_id = 1

    def handshake(self, hello=CLIENT_HELLO):
        """Sends a hello; returns (magic, version, status) of the server's 8-byte answer."""
        self.connection.send(hello)
        answer = self.connection.recv_exactly(8, self.timeout_s)
        magic = answer[:4]
        version, status = struct.unpack("<HH", answer[4:])
        return magic, version, status

    def send(self, opcode, *args, request_id=None, flags=0):
        if request_id is None:
            request_id = self.next_id
            self.next_id += 1
        self.connection.send(encode_request(request_id, opcode, args, flags))
        return request_id

    def read_reply(self, timeout_s=None):
        timeout_s = self.timeout_s if timeout_s is None else timeout_s
        self.connection.recv_until(lambda data: decode_reply(data) is not None, timeout_s)
        decoded = decode_reply(self.connection.buffer)
        if decoded is None:
            raise AssertionError(f"connection closed before a whole reply: "
                                 f"{self.connection.buffer!r}")
        reply, size = decoded
        self.connection.buffer = self.connection.buffer[size:]
        return reply

    def call(self, opcode, *args):
        request_id = self.send(opcode, *args)
        reply = self.read_reply()
        if reply.request_id != request_id:
            raise AssertionError(f"reply to request {request_id} carries id {reply.request_id}")
        return reply

    def close(self):
        self.connection.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def main():
    """unittest.main() after taking --server PATH off the command line."""
    server_path()
    unittest.main(verbosity=2)
