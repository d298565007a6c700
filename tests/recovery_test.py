"""Recovery at start and podium-check, on real data directories written by the real server.

- a clean directory checks sound (exit 0);
- a torn tail (a crash mid-write: a partial record at the end) is cut at start and logged, the
  data before it is all there, and podium-check calls it normal (exit 0);
- a flipped byte in the middle of the log stops the start with a message naming the segment
  and the offset; podium-check exits 1 naming them too; --truncate_corrupt_wal starts anyway
  and keeps what came before the damage; podium-check --repair --yes cuts the log, after which
  the directory checks sound;
- a damaged newest snapshot gives way to the previous one and the log after it (set aside as
  .damaged); one that nothing can stand in for is reported by podium-check (exit 1) and stops
  the start;
- a log that does not continue the snapshot (records missing in between) stops the start, and
  podium-check calls it damage;
- a record whose checksum is good but whose effect does not decode stops the start naming the
  segment and offset; podium-check names them too, --repair and --truncate_corrupt_wal cut there;
- what a cut drops is reported in records and their bytes, not in the writer's reserve of zeros;
- podium-check --repair refuses while a server holds the directory's LOCK;
- a second server on the same data directory, or on the same port, refuses to start;
- a stray segment (another server's, an empty file) is skipped with a warning, not cut at;
- the empty sorted-set member replays after a crash.
"""

import ctypes
import os
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import threading
import time
import unittest

from podium_fixture import (RawConnection, ServerProcess, free_port, info_fields, main,
                            resp_call, run_check, server_path)

RECORDS = 300
SEGMENT_HEADER_BYTES = 18  # docs/wal_format.md, "Segment header"
RECORD_HEADER_BYTES = 17   # docs/wal_format.md, "Record"


def wal_records(path):
    """(offset, bytes, sequence) of each record of a segment, up to its end or its zeros."""
    with open(path, "rb") as segment:
        data = segment.read()
    records = []
    offset = SEGMENT_HEADER_BYTES
    while offset + RECORD_HEADER_BYTES <= len(data):
        length, record_type, sequence = struct.unpack_from("<IBQ", data, offset + 4)
        if record_type == 0:
            break
        records.append((offset, RECORD_HEADER_BYTES + length, sequence))
        offset += RECORD_HEADER_BYTES + length
    return records


def wal_checksum(data):
    """The low 32 bits of XXH3-64 (seed 0), as the server computes it (libxxhash)."""
    xxhash = ctypes.CDLL("libxxhash.so.0")
    xxhash.XXH3_64bits.restype = ctypes.c_uint64
    xxhash.XXH3_64bits.argtypes = [ctypes.c_char_p, ctypes.c_size_t]
    return xxhash.XXH3_64bits(data, len(data)) & 0xFFFFFFFF


def check(data_dir, *flags):
    return run_check(f"--data_dir={data_dir}", *flags)


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
        status, output = check(self.data_dir)
        self.assertEqual(status, 0, output)
        self.assertIn("sound", output)
        self.assertIn("1 stock counters", output)

    def test_the_empty_member_survives_a_crash(self):
        """ZADD z 1 "" is valid, as in Redis; its record must replay after a SIGKILL."""
        self.start()
        with RawConnection(self.server.port) as connection:
            self.assertEqual(resp_call(connection, "ZADD", "z", "1.5", ""), 1)
            self.assertEqual(resp_call(connection, "SET", "after", "1"), "OK")
        self.kill()
        self.start()
        with RawConnection(self.server.port) as connection:
            self.assertEqual(resp_call(connection, "ZSCORE", "z", ""), b"1.5")
            self.assertEqual(resp_call(connection, "GET", "after"), b"1")

    def test_a_stray_segment_is_skipped_not_cut_at(self):
        """Another server's first segment copied into this directory, whose snapshot is past
        it, and an empty file named inside the real log: the server starts with every
        acknowledged write, warns about the stray, and podium-check calls the directory
        sound. (Taken for damage, a repair would cut the real log at the stray.)"""
        other = os.path.join(self.root, "other")
        other_server = ServerProcess(["--fsync=always", f"--data_dir={other}",
                                      "--snapshot_wal_bytes=0"]).start()
        with RawConnection(other_server.port) as connection:
            for i in range(30):
                self.assertEqual(resp_call(connection, "SET", f"other{i}", "x"), "OK")
        other_server.process.send_signal(signal.SIGKILL)
        other_server.process.wait()
        other_server.cleanup()
        self.start()
        with RawConnection(self.server.port) as connection:
            for i in range(3):
                self.assertEqual(resp_call(connection, "SET", f"k{i}", f"value-{i}"), "OK")
            self.assertEqual(resp_call(connection, "SAVE"), "OK")
            for i in range(3, RECORDS):
                self.assertEqual(resp_call(connection, "SET", f"k{i}", f"value-{i}"), "OK")
        self.kill()
        first_other = sorted(n for n in os.listdir(other) if n.startswith("wal-"))[0]
        self.assertEqual(first_other, "wal-00000000000000000001.log")
        shutil.copy(os.path.join(other, first_other), os.path.join(self.data_dir, first_other))
        empty = "wal-%020d.log" % 100
        open(os.path.join(self.data_dir, empty), "wb").close()

        status, output = check(self.data_dir)
        self.assertEqual(status, 0, output)
        self.assertIn("log: skipped " + empty + ": a stray", output)
        self.start()
        self.assertEqual(self.count_keys(), RECORDS)
        with RawConnection(self.server.port) as connection:
            self.assertIsNone(resp_call(connection, "GET", "other5"))
        self.assertIn("skipped " + os.path.join(self.data_dir, empty), self.server.stderr_text())

    def test_the_previous_generations_log_does_not_trigger_a_snapshot(self):
        """--snapshot_wal_bytes counts what the log grew by since the last snapshot. After a
        restart the segments kept for the previous generation (about 100 KB here) are not
        growth: an idle server takes no snapshot over several of the trigger's one-second
        checks; 30 KB of writes then take one."""
        value = "v" * 1000
        self.start()
        with RawConnection(self.server.port) as connection:
            for round_ in range(2):
                for i in range(100):
                    self.assertEqual(resp_call(connection, "SET", f"k{round_}-{i}", value), "OK")
                self.assertEqual(resp_call(connection, "SAVE"), "OK")
        self.kill()
        self.start("--snapshot_wal_bytes=20000")
        self.assertEqual(info_fields(self.server.port)["snapshots_taken"], "0")
        time.sleep(2.5)  # the trigger looks once a second: it has looked at least twice
        self.assertEqual(info_fields(self.server.port)["snapshots_taken"], "0")
        with RawConnection(self.server.port) as connection:
            for i in range(30):
                self.assertEqual(resp_call(connection, "SET", f"more{i}", value), "OK")
        deadline = time.monotonic() + 30
        while info_fields(self.server.port)["snapshots_taken"] == "0":
            self.assertLess(time.monotonic(), deadline, "no snapshot after 30 KB of writes")
            time.sleep(0.05)

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
        status, output = check(self.data_dir)
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

        status, output = check(self.data_dir)
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
        status, output = check(self.data_dir)
        self.assertEqual(status, 0, output)

    def test_repair_cuts_the_log(self):
        self.write_records()
        path = os.path.join(self.data_dir, self.segments()[-1])
        with open(path, "r+b") as segment:
            segment.seek(self.records_end(path) // 3)
            segment.write(b"\xff\xff\xff\xff")
        status, output = check(self.data_dir, "--repair")
        self.assertEqual(status, 1, output)  # not a terminal and no --yes: nothing done
        self.assertIn("--yes", output)
        status, output = check(self.data_dir, "--repair", "--yes")
        self.assertEqual(status, 0, output)
        self.assertIn("repaired", output)
        status, output = check(self.data_dir)
        self.assertEqual(status, 0, output)
        self.start()
        kept = self.count_keys()
        self.assertTrue(0 < kept < RECORDS, kept)

    def damage_snapshot(self, name):
        with open(os.path.join(self.data_dir, name), "r+b") as file:
            file.seek(40)
            byte = file.read(1)
            file.seek(40)
            file.write(bytes([byte[0] ^ 1]))

    def test_a_damaged_newest_snapshot_gives_way_to_the_previous_generation(self):
        """SAVEs at 50 and 100 ZADDs, 50 more, a SIGKILL; then the newest snapshot rots. The
        server starts from the previous snapshot and the log after it, with every write, and
        sets the damaged file aside; the next start is ordinary."""
        self.start()
        with RawConnection(self.server.port) as connection:
            for i in range(150):
                self.assertEqual(resp_call(connection, "ZADD", "board", str(i), f"m{i}"), 1)
                if i + 1 in (50, 100):
                    self.assertEqual(resp_call(connection, "SAVE"), "OK")
        self.kill()
        newest = "snapshot-00000000000000000100.snap"
        self.assertEqual(sorted(n for n in os.listdir(self.data_dir) if n.endswith(".snap")),
                         ["snapshot-00000000000000000050.snap", newest])
        self.damage_snapshot(newest)
        status, output = check(self.data_dir)
        self.assertEqual(status, 0, output)
        self.assertIn("WARNING: damaged", output)
        self.start()
        with RawConnection(self.server.port) as connection:
            self.assertEqual(resp_call(connection, "ZCARD", "board"), 150)
            self.assertEqual(resp_call(connection, "ZSCORE", "board", "m149"), b"149")
        log = self.server.stderr_text()
        self.assertIn(f"snapshot {os.path.join(self.data_dir, newest)} is damaged", log)
        self.assertIn("snapshot-00000000000000000050.snap and the log", log)
        self.assertTrue(os.path.exists(os.path.join(self.data_dir, newest + ".damaged")))
        self.assertFalse(os.path.exists(os.path.join(self.data_dir, newest)))
        self.kill()
        self.start()
        with RawConnection(self.server.port) as connection:
            self.assertEqual(resp_call(connection, "ZCARD", "board"), 150)
        self.assertNotIn("is damaged", self.server.stderr_text())

    def test_damaged_snapshot_nothing_can_stand_in_for_stops_the_start(self):
        """The only snapshot rots and the log before it is gone: the start stops, naming it."""
        self.start()
        with RawConnection(self.server.port) as connection:
            for i in range(50):
                resp_call(connection, "ZADD", "board", str(i), f"m{i}")
            self.assertEqual(resp_call(connection, "SAVE"), "OK")
        self.kill()
        snapshot = next(n for n in os.listdir(self.data_dir) if n.endswith(".snap"))
        self.damage_snapshot(snapshot)
        os.remove(os.path.join(self.data_dir, "wal-00000000000000000001.log"))
        status, output = check(self.data_dir)
        self.assertEqual(status, 1, output)
        self.assertIn(snapshot, output)
        status, output = self.start_fails()
        self.assertNotEqual(status, 0, output)
        self.assertIn(snapshot, output)
        self.assertIn("is damaged", output)

    def test_a_log_that_does_not_continue_the_snapshot_is_damage(self):
        """150 records, SAVEs at 50 and 100, a SIGKILL; then the snapshot and every segment but
        the last are lost. The log starts past the first record with nothing before it: the
        server refuses, and podium-check must call it damage (not "sound")."""
        self.start()
        with RawConnection(self.server.port) as connection:
            for i in range(150):
                self.assertEqual(resp_call(connection, "SET", f"k{i}", f"value-{i}"), "OK")
                if i + 1 in (50, 100):
                    self.assertEqual(resp_call(connection, "SAVE"), "OK")
        self.kill()
        segments = self.segments()
        for name in os.listdir(self.data_dir):
            if name.endswith(".snap") or (name.startswith("wal-") and name != segments[-1]):
                os.remove(os.path.join(self.data_dir, name))
        self.assertEqual(self.segments(), ["wal-00000000000000000101.log"])

        status, server_output = self.start_fails()
        self.assertNotEqual(status, 0, server_output)
        self.assertIn("records in between are missing", server_output)
        status, output = check(self.data_dir)
        self.assertEqual(status, 1, output)
        self.assertIn("DAMAGED", output)
        self.assertIn("records in between are missing", output)
        self.assertNotIn("sound", output.splitlines()[-1])
        status, output = check(self.data_dir, "--repair", "--yes")
        self.assertEqual(status, 1, output)  # a cut cannot bring missing records back
        self.assertEqual(self.segments(), ["wal-00000000000000000101.log"])

    def test_repair_refuses_while_a_server_holds_the_directory(self):
        self.start()
        with RawConnection(self.server.port) as connection:
            self.assertEqual(resp_call(connection, "SET", "k", "v"), "OK")
        status, output = check(self.data_dir, "--repair", "--yes")
        self.assertEqual(status, 1, output)
        self.assertIn("in use by a podium-server", output)
        status, output = check(self.data_dir)  # a plain check may run, and says so
        self.assertEqual(status, 0, output)
        self.assertIn("in use by a podium-server", output)
        with RawConnection(self.server.port) as connection:
            self.assertEqual(resp_call(connection, "GET", "k"), b"v")

    def test_what_a_cut_drops_is_counted_in_records_not_in_the_reserve(self):
        """A bad checksum 25 records before the end of a segment a killed server left its
        reserve of zeros in: both podium-check --repair and --truncate_corrupt_wal report 25
        records and their bytes, not the megabyte of zeros after them."""
        self.write_records()
        name = self.segments()[-1]
        path = os.path.join(self.data_dir, name)
        records = wal_records(path)
        self.assertEqual(len(records), RECORDS)
        self.assertGreater(os.path.getsize(path), self.records_end(path) + 4096,
                           "a killed server leaves its reserve of zeros")
        offset = records[-25][0]
        dropped_bytes = sum(size for _, size, _ in records[-25:])
        with open(path, "r+b") as segment:
            segment.seek(offset + RECORD_HEADER_BYTES + 2)
            byte = segment.read(1)
            segment.seek(offset + RECORD_HEADER_BYTES + 2)
            segment.write(bytes([byte[0] ^ 0x20]))
        expected = f"25 records ({dropped_bytes} bytes)"

        status, output = check(self.data_dir, "--repair")  # no terminal, no --yes
        self.assertEqual(status, 1, output)
        self.assertIn(f"offset {offset}", output)
        self.assertIn(expected, output)

        self.start("--truncate_corrupt_wal")
        self.assertEqual(self.count_keys(), RECORDS - 25)
        log = self.server.stderr_text()
        self.assertIn(f"offset {offset}", log)
        self.assertIn(expected, log)

    def write_undecodable_record(self, index):
        """Rewrites record `index` (a SET) so that its key's length is 0: the checksum is right,
        the effect does not decode. Returns the segment's name, the record's offset and the bytes
        of the records from it to the end."""
        name = self.segments()[-1]
        path = os.path.join(self.data_dir, name)
        records = wal_records(path)
        offset, size, sequence = records[index]
        self.assertEqual(sequence, index + 1)
        with open(path, "r+b") as segment:
            segment.seek(offset)
            record = bytearray(segment.read(size))
            record[RECORD_HEADER_BYTES] = 0  # the key's varint length
            struct.pack_into("<I", record, 0, wal_checksum(bytes(record[4:])))
            segment.seek(offset)
            segment.write(record)
        return name, offset, sum(size for _, size, _ in records[index:])

    def test_an_undecodable_record_is_damage_named_by_file_and_offset(self):
        self.write_records()
        name, offset, dropped_bytes = self.write_undecodable_record(150)
        copy = os.path.join(self.root, "copy")
        shutil.copytree(self.data_dir, copy)

        status, output = self.start_fails()
        self.assertNotEqual(status, 0, output)
        self.assertIn(f"{name} at offset {offset}", output)
        self.assertIn("record 151", output)
        status, output = check(self.data_dir)
        self.assertEqual(status, 1, output)
        self.assertIn("DAMAGED", output)
        self.assertIn(f"{name} at offset {offset}", output)
        self.assertIn("record 151", output)

        status, output = check(self.data_dir, "--repair", "--yes")
        self.assertEqual(status, 0, output)
        self.assertIn("repaired", output)
        self.assertEqual(self.records_end(os.path.join(self.data_dir, name)), offset)
        status, output = check(self.data_dir)
        self.assertEqual(status, 0, output)
        self.start()
        self.assertEqual(self.count_keys(), 150)
        self.kill()

        # The same damage, cut by the server itself.
        shutil.rmtree(self.data_dir)
        os.rename(copy, self.data_dir)
        self.start("--truncate_corrupt_wal")
        self.assertEqual(self.count_keys(), 150)
        log = self.server.stderr_text()
        self.assertIn(f"offset {offset}", log)
        self.assertIn(f"{RECORDS - 150} records ({dropped_bytes} bytes)", log)


if __name__ == "__main__":
    main()
