"""Recovery at start and podium-check, on real data directories written by the real server.

- a clean directory checks sound (exit 0);
- a torn tail (a crash mid-write: a partial record at the end) is cut at start and logged, the
  data before it is all there, and podium-check calls it normal (exit 0);
- a flipped byte in the middle of the log stops the start with a message naming the segment
  and the offset; podium-check exits 1 naming them too; --truncate_corrupt_wal starts anyway
  and keeps what came before the damage; podium-check --repair --yes cuts the log, after which
  the directory checks sound;
- a damaged snapshot is reported by podium-check (exit 1) and stops the start;
- a second server on the same data directory, or on the same port, refuses to start.
"""

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import unittest

from podium_fixture import (RawConnection, ServerProcess, free_port, main, resp_call,
                            server_path)

RECORDS = 300


def check_path():
    path = os.environ.get("PODIUM_CHECK", "")
    if not path or not os.access(path, os.X_OK):
        raise RuntimeError("set PODIUM_CHECK=/path/to/podium-check (CTest does)")
    return path


def run_check(data_dir, *flags):
    result = subprocess.run([check_path(), f"--data_dir={data_dir}", *flags],
                            stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
    return result.returncode, result.stdout + result.stderr


class RecoveryTest(unittest.TestCase):
    def setUp(self):
        self.root = tempfile.mkdtemp(prefix="podium-recovery-")
        self.data_dir = os.path.join(self.root, "data")
        self.server = None

    def tearDown(self):
        if self.server is not None:
            self.server.kill()
            self.server.cleanup()
        shutil.rmtree(self.root, ignore_errors=True)

    def start(self, *extra):
        self.server = ServerProcess(["--fsync=always", f"--data_dir={self.data_dir}",
                                     "--snapshot_wal_bytes=0", *extra]).start()
        return self.server

    def kill(self):
        self.server.process.send_signal(signal.SIGKILL)
        self.server.process.wait()
        log = self.server.stderr_text()
        self.server.cleanup()
        self.server = None
        return log

    def write_records(self):
        """RECORDS acknowledged SETs (one WAL record each), then a SIGKILL: no snapshot."""
        self.start()
        with RawConnection(self.server.port) as connection:
            for i in range(RECORDS):
                self.assertEqual(resp_call(connection, "SET", f"k{i}", f"value-{i}"), "OK")
        self.kill()

    def segments(self):
        return sorted(n for n in os.listdir(self.data_dir) if n.startswith("wal-"))

    def records_end(self, path):
        """Where a segment's records end: a killed server leaves the writer's reserve of zeros
        after them (docs/wal_format.md, "Writing")."""
        with open(path, "rb") as segment:
            return len(segment.read().rstrip(b"\0"))

    def start_fails(self, *extra):
        """Runs the server on the directory and returns (exit status, output) of its refusal."""
        result = subprocess.run([server_path(), f"--port={free_port()}", f"--data_dir={self.data_dir}",
                                 *extra], capture_output=True, text=True, timeout=30)
        return result.returncode, result.stdout + result.stderr

    def count_keys(self):
        with RawConnection(self.server.port) as connection:
            return sum(1 for i in range(RECORDS)
                       if resp_call(connection, "GET", f"k{i}") == f"value-{i}".encode())

    def test_clean_directory_is_sound(self):
        self.start()
        with RawConnection(self.server.port) as connection:
            resp_call(connection, "ZADD", "board", "1", "a")
            resp_call(connection, "STOCK.SET", "7", "3")
        self.server.stop_and_check()
        self.server = None
        status, output = run_check(self.data_dir)
        self.assertEqual(status, 0, output)
        self.assertIn("sound", output)
        self.assertIn("1 stock counters", output)

    def test_a_client_that_shuts_down_its_side_gets_every_reply(self):
        """A client pipelines writes and big reads, then shuts down its side (an EOF) while
        replies wait for the log, are being written, or are held back by output back-pressure:
        every reply still arrives, in order, and then the server closes."""
        self.start()
        value = b"v" * 1000
        pairs = 10_000  # 10 MB of replies: past the output pause, and the input a waiting
        # connection holds before it stops reading
        request = (b"*3\r\n$6\r\nINCRBY\r\n$1\r\nc\r\n$1\r\n1\r\n"
                   b"*2\r\n$3\r\nGET\r\n$3\r\nbig\r\n")
        with RawConnection(self.server.port) as connection:
            self.assertEqual(resp_call(connection, "SET", "big", value), "OK")
            # The sender has its own socket object (the same connection), so the reader's
            # changing timeouts do not cut its sendall short.
            sender_socket = connection.sock.dup()
            sender_socket.settimeout(120)
            sender = threading.Thread(target=lambda: (sender_socket.sendall(request * pairs),
                                                      sender_socket.shutdown(socket.SHUT_WR)))
            sender.start()
            expected = b"".join(b":%d\r\n$1000\r\n%s\r\n" % (i, value)
                                for i in range(1, pairs + 1))
            replies = connection.recv_until(lambda data: len(data) >= len(expected), 60)
            sender.join()
            sender_socket.close()
            self.assertEqual(len(replies), len(expected))
            self.assertTrue(replies == expected, "replies differ from the expected ones")
            connection.recv_until(lambda data: False, 10)  # then the server closes
            self.assertTrue(connection.closed_by_peer)
        with RawConnection(self.server.port) as connection:
            self.assertEqual(resp_call(connection, "GET", "c"), str(pairs).encode())

    def test_a_second_server_on_the_same_directory_or_port_refuses_to_start(self):
        server = self.start()
        with RawConnection(server.port) as connection:
            self.assertEqual(resp_call(connection, "STOCK.SET", "7", "3"), 3)
        status, output = self.start_fails()  # another port, the same directory
        self.assertNotEqual(status, 0)
        self.assertIn("is in use by another podium-server", output)
        # The same port, no directory: SO_REUSEPORT must not let it join the first one's group.
        result = subprocess.run([server_path(), f"--port={server.port}", "--data_dir="],
                                capture_output=True, text=True, timeout=30)
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("Address already in use", result.stdout + result.stderr)
        with RawConnection(server.port) as connection:  # the first one is unharmed
            self.assertEqual(resp_call(connection, "STOCK.GET", "7"), 3)

    def test_torn_tail_is_cut_at_start(self):
        self.write_records()
        last = os.path.join(self.data_dir, self.segments()[-1])
        with open(last, "r+b") as segment:
            segment.seek(self.records_end(last))
            segment.write(b"\x11\x22\x33\x44\x40\x00\x00\x00\x02")  # a record header, cut short
        status, output = run_check(self.data_dir)
        self.assertEqual(status, 0, output)
        self.assertIn("torn tail", output)
        self.start()
        self.assertEqual(self.count_keys(), RECORDS)
        self.assertIn("torn write", self.server.stderr_text())

    def test_bad_checksum_in_the_middle_stops_the_start(self):
        self.write_records()
        name = self.segments()[-1]
        path = os.path.join(self.data_dir, name)
        offset = self.records_end(path) // 2
        with open(path, "r+b") as segment:
            segment.seek(offset)
            byte = segment.read(1)
            segment.seek(offset)
            segment.write(bytes([byte[0] ^ 0x40]))

        status, output = run_check(self.data_dir)
        self.assertEqual(status, 1, output)
        self.assertIn("DAMAGED", output)
        self.assertIn(name, output)

        status, output = self.start_fails()
        self.assertNotEqual(status, 0, output)
        self.assertIn(name, output)
        self.assertIn("offset", output)

        # The operator's choices: start anyway, cutting the log there...
        self.start("--truncate_corrupt_wal")
        kept = self.count_keys()
        self.assertGreater(kept, 0)
        self.assertLess(kept, RECORDS)
        self.assertIn("dropped", self.server.stderr_text())
        self.server.stop_and_check()
        self.server = None
        status, output = run_check(self.data_dir)
        self.assertEqual(status, 0, output)

    def test_repair_cuts_the_log(self):
        self.write_records()
        path = os.path.join(self.data_dir, self.segments()[-1])
        with open(path, "r+b") as segment:
            segment.seek(self.records_end(path) // 3)
            segment.write(b"\xff\xff\xff\xff")
        status, output = run_check(self.data_dir, "--repair")
        self.assertEqual(status, 1, output)  # not a terminal and no --yes: nothing done
        self.assertIn("--yes", output)
        status, output = run_check(self.data_dir, "--repair", "--yes")
        self.assertEqual(status, 0, output)
        self.assertIn("repaired", output)
        status, output = run_check(self.data_dir)
        self.assertEqual(status, 0, output)
        self.start()
        kept = self.count_keys()
        self.assertTrue(0 < kept < RECORDS, kept)

    def test_damaged_snapshot_is_reported_and_stops_the_start(self):
        self.start()
        with RawConnection(self.server.port) as connection:
            for i in range(50):
                resp_call(connection, "ZADD", "board", str(i), f"m{i}")
            self.assertEqual(resp_call(connection, "SAVE"), "OK")
        self.kill()
        snapshot = next(n for n in os.listdir(self.data_dir) if n.endswith(".snap"))
        path = os.path.join(self.data_dir, snapshot)
        with open(path, "r+b") as file:
            file.seek(40)
            byte = file.read(1)
            file.seek(40)
            file.write(bytes([byte[0] ^ 1]))
        status, output = run_check(self.data_dir)
        self.assertEqual(status, 1, output)
        self.assertIn(snapshot, output)
        status, output = self.start_fails()
        self.assertNotEqual(status, 0, output)
        self.assertIn(snapshot, output)


if __name__ == "__main__":
    main()
