"""podium-check as an operator meets it: exit codes, a live server's snapshot mid-check, the
terminal prompt, and the advice it gives. docs/operations.md, "Checking and repairing offline".

- a usage error exits 2, as the docs say (an unknown flag, two directories, none, a directory
  that does not exist); --help exits 0;
- snapshots that a live server finishes mid-check (two of them remove the segments and the
  snapshot the check is reading) are not damage: the check runs again and says sound.
  The directory is changed at a chosen moment through PODIUM_CHECK_TEST_OPEN_HOOK, a command
  podium-check runs before it opens each file, not by racing a server;
- a directory that changes during every pass is reported as such (exit 3), not as damage;
- "no" at the --repair prompt changes nothing and says so;
- a log that starts after the snapshot ends tells a backup copy's owner to take it again;
- a damaged newest snapshot is passed over for the previous generation (a warning, not
  damage), and a damaged snapshot nothing can stand in for is not advised away.
"""

import os
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import unittest

from podium_fixture import RawConnection, ServerProcess, check_path, main, resp_call, run_check

CHECK_TIMEOUT_S = 60

# Run by podium-check before it opens a file (PODIUM_CHECK_OPENING). It plays two snapshots a
# live server finishes (of 150 and 200) over a directory that holds the snapshots of 50 and 100
# and their segments: the server keeps two generations, so only the second of them removes
# what the check reads. The directory then holds what <files>/after holds instead of what
# <files>/before holds. argv: mode, directory, files, a marker file for "done once".
#   log-once:       the first time a segment is opened;
#   snapshot-once:  the first time a snapshot is opened;
#   every-snapshot: at every snapshot opened, back and forth between the two states.
HOOK = r'''
import os, shutil, sys
mode, data, files, marker = sys.argv[1:]
opening = os.path.basename(os.environ["PODIUM_CHECK_OPENING"])

def become(state):
    wanted = set(os.listdir(os.path.join(files, state)))
    for name in sorted(wanted):  # snapshots sort before segments: as a server adds them
        if not os.path.exists(os.path.join(data, name)):
            shutil.copyfile(os.path.join(files, state, name), os.path.join(data, name + ".tmp"))
            os.rename(os.path.join(data, name + ".tmp"), os.path.join(data, name))
    for name in os.listdir(data):
        if (name.startswith("wal-") or name.startswith("snapshot-")) and name not in wanted:
            os.remove(os.path.join(data, name))

kind = "log" if opening.startswith("wal-") else "snapshot"
if mode == "every-snapshot" and kind == "snapshot":
    before = "snapshot-00000000000000000050.snap" in os.listdir(data)
    become("after" if before else "before")
elif mode == kind + "-once" and not os.path.exists(marker):
    open(marker, "w").close()
    become("after")
'''


class PodiumCheckTest(unittest.TestCase):
    def setUp(self):
        self.root = tempfile.mkdtemp(prefix="podium-check-")
        self.data_dir = os.path.join(self.root, "data")
        self.server = None

    def tearDown(self):
        if self.server is not None:
            self.server.kill()
            self.server.cleanup()
        shutil.rmtree(self.root, ignore_errors=True)

    def start(self):
        self.server = ServerProcess(["--fsync=always", f"--data_dir={self.data_dir}",
                                     "--snapshot_wal_bytes=0"]).start()

    def kill(self):
        self.server.process.send_signal(signal.SIGKILL)
        self.server.process.wait()
        self.server.cleanup()
        self.server = None

    def names(self, directory=None):
        return sorted(n for n in os.listdir(directory or self.data_dir) if n != "LOCK")

    def write(self, connection, first, count):
        for i in range(first, first + count):
            self.assertEqual(resp_call(connection, "SET", f"k{i}", f"value-{i}"), "OK")

    def save(self, connection):
        self.assertEqual(resp_call(connection, "SAVE"), "OK")

    def snapshot_mid_check(self):
        """A data directory as a live server leaves it with the snapshots of 50 and 100 (two
        generations) and the segments after 50, kept in <root>/files/before, and the same
        server's directory after two more snapshots (150 and 200) removed all of that, kept in
        <root>/files/after. The data directory starts as 'before'. Returns <root>/files."""
        files = os.path.join(self.root, "files")
        os.makedirs(os.path.join(files, "before"))
        self.start()
        with RawConnection(self.server.port) as connection:
            self.write(connection, 0, 50)
            self.save(connection)
            self.write(connection, 50, 50)
            self.save(connection)
            before = self.names()
            self.assertEqual(before, ["snapshot-00000000000000000050.snap",
                                      "snapshot-00000000000000000100.snap",
                                      "wal-00000000000000000051.log",
                                      "wal-00000000000000000101.log"])
            for name in before:  # every write was acknowledged, so synced (--fsync=always)
                shutil.copyfile(os.path.join(self.data_dir, name),
                                os.path.join(files, "before", name))
            for first in (100, 150):
                self.write(connection, first, 50)
                self.save(connection)
            self.write(connection, 200, 10)
        self.kill()
        self.assertEqual(self.names(), ["snapshot-00000000000000000150.snap",
                                        "snapshot-00000000000000000200.snap",
                                        "wal-00000000000000000151.log",
                                        "wal-00000000000000000201.log"])
        shutil.copytree(self.data_dir, os.path.join(files, "after"),
                        ignore=shutil.ignore_patterns("LOCK"))
        for name in self.names():
            os.remove(os.path.join(self.data_dir, name))
        for name in before:
            shutil.copyfile(os.path.join(files, "before", name), os.path.join(self.data_dir, name))
        status, output = run_check(self.data_dir)
        self.assertEqual(status, 0, output)  # sound while nothing changes it
        return files

    def check_with_hook(self, mode, files):
        script = os.path.join(self.root, "hook.py")
        with open(script, "w") as hook:
            hook.write(HOOK)
        command = [sys.executable, script, mode, self.data_dir, files,
                   os.path.join(self.root, "hook-done")]
        env = dict(os.environ, PODIUM_CHECK_TEST_OPEN_HOOK=shlex.join(command))
        return run_check(self.data_dir, env=env)

    def test_usage_errors_exit_2(self):
        os.mkdir(self.data_dir)
        for args, expected in [(["--bogus", self.data_dir], "unknown flag --bogus"),
                               ([os.path.join(self.root, "nonexistent")], "no such directory"),
                               ([f"--data_dir={self.data_dir}", "extra"], "given twice"),
                               ([self.data_dir, self.data_dir], "more than one"),
                               ([], "no directory"),
                               (["--repair=maybe", self.data_dir], "bad value for --repair")]:
            with self.subTest(args=args):
                status, output = run_check(*args)
                self.assertEqual(status, 2, output)
                self.assertIn(expected, output)
                self.assertIn("usage:", output)
                self.assertNotIn("DAMAGED", output)
        self.assertFalse(os.path.exists(os.path.join(self.root, "nonexistent")))
        status, output = run_check("--help")
        self.assertEqual(status, 0, output)
        self.assertIn("--data_dir DIR", output)
        self.assertIn("exit status", output)
        status, output = run_check(self.data_dir)  # empty: what a server starts from
        self.assertEqual(status, 0, output)

    def test_a_snapshot_finishing_while_the_log_is_read_is_not_damage(self):
        """The segment the check is about to open is removed: 'open ...: No such file'."""
        files = self.snapshot_mid_check()
        status, output = self.check_with_hook("log-once", files)
        self.assertEqual(status, 0, output)
        self.assertIn("changed during it", output)
        self.assertEqual(output.splitlines()[-1], "sound")
        self.assertNotIn("restore a backup", output)

    def test_a_snapshot_finishing_while_the_snapshot_is_read_is_not_damage(self):
        """The snapshot the check is about to open is replaced, and the log then starts past
        the one it listed: 'records in between are missing'."""
        files = self.snapshot_mid_check()
        status, output = self.check_with_hook("snapshot-once", files)
        self.assertEqual(status, 0, output)
        self.assertIn("changed during it", output)
        self.assertEqual(output.splitlines()[-1], "sound")

    def test_a_directory_that_never_holds_still_is_not_called_damaged(self):
        files = self.snapshot_mid_check()
        status, output = self.check_with_hook("every-snapshot", files)
        self.assertEqual(status, 3, output)
        last = output.splitlines()[-1]
        self.assertTrue(last.startswith("UNSETTLED"), output)
        self.assertNotIn("restore a backup", output)
        self.assertEqual(output.count("checking again"), 5, output)

    def test_no_at_the_repair_prompt_changes_nothing_and_says_so(self):
        self.start()
        with RawConnection(self.server.port) as connection:
            self.write(connection, 0, 100)
        self.kill()
        [segment] = self.names()
        path = os.path.join(self.data_dir, segment)
        with open(path, "rb") as file:
            data = bytearray(file.read())
        middle = len(data.rstrip(b"\0")) // 2
        data[middle] ^= 0x40
        with open(path, "wb") as file:
            file.write(data)

        terminal, terminal_side = os.openpty()
        try:
            process = subprocess.Popen([check_path(), self.data_dir, "--repair"],
                                       stdin=terminal_side, stdout=subprocess.PIPE,
                                       stderr=subprocess.STDOUT, text=True)
            os.close(terminal_side)
            os.write(terminal, b"n\n")
            output, _ = process.communicate(timeout=CHECK_TIMEOUT_S)
        finally:
            os.close(terminal)
        self.assertEqual(process.returncode, 1, output)
        self.assertIn("[y/N]", output)
        self.assertIn("nothing was changed", output.split("[y/N]")[1])
        with open(path, "rb") as file:
            self.assertEqual(file.read(), bytes(data))

    def test_a_log_that_starts_after_the_snapshot_names_both_and_the_backup_race(self):
        """A backup that copied the snapshots of 50 and 100, then the segments after two more
        snapshots had removed those from 51 and 101."""
        files = self.snapshot_mid_check()
        for name in self.names():
            if name.startswith("wal-"):
                os.remove(os.path.join(self.data_dir, name))
        for name in os.listdir(os.path.join(files, "after")):
            if name.startswith("wal-"):
                shutil.copyfile(os.path.join(files, "after", name),
                                os.path.join(self.data_dir, name))
        status, output = run_check(self.data_dir)
        self.assertEqual(status, 1, output)
        last = output.splitlines()[-1]
        self.assertIn("records 101 to 150 are in no file", last)
        self.assertIn("snapshot-00000000000000000100.snap", last)
        self.assertIn("wal-00000000000000000151.log", last)
        self.assertIn("if this is a backup copy", last)
        self.assertIn("take it again", last)

    def damage(self, path, offset=40):
        with open(path, "r+b") as file:
            file.seek(offset)
            byte = file.read(1)
            file.seek(offset)
            file.write(bytes([byte[0] ^ 1]))

    def test_a_damaged_newest_snapshot_is_passed_over_for_the_previous_generation(self):
        """The snapshot of 100 is damaged; the one of 50 and the log after it hold everything:
        not damage (the server starts from them), but a warning naming the file."""
        self.snapshot_mid_check()
        newest = os.path.join(self.data_dir, "snapshot-00000000000000000100.snap")
        self.damage(newest)
        status, output = run_check(self.data_dir)
        self.assertEqual(status, 0, output)
        self.assertIn(f"snapshot {newest}: WARNING: damaged (", output)
        self.assertIn("snapshot-00000000000000000050.snap: ok (the server starts from it)", output)
        self.assertEqual(output.splitlines()[-1], "sound")

    def test_the_previous_generation_is_checked_too(self):
        """A start never reads the snapshot of 50 and the segment from 51 (the newest snapshot
        is 100), so only the check can find them broken: a warning, since the server starts."""
        self.snapshot_mid_check()
        status, output = run_check(self.data_dir)
        self.assertEqual(status, 0, output)
        self.assertIn("previous generation: ok (", output)
        self.assertIn("replay through record 100", output)
        segment = os.path.join(self.data_dir, "wal-00000000000000000051.log")
        with open(segment, "rb") as file:
            middle = len(file.read().rstrip(b"\0")) // 2
        self.damage(segment, middle)
        status, output = run_check(self.data_dir)
        self.assertEqual(status, 0, output)
        self.assertIn("previous generation: WARNING: ", output)
        self.assertIn("wal-00000000000000000051.log", output)
        self.assertEqual(output.splitlines()[-1], "sound")

    def test_a_damaged_snapshot_nothing_can_stand_in_for_is_not_advised_away(self):
        """The only snapshot is damaged and the log before it is gone: moving it away cannot
        help, so the advice is a backup or an empty start."""
        self.start()
        with RawConnection(self.server.port) as connection:
            self.write(connection, 0, 50)
            self.save(connection)
        self.kill()
        self.damage(os.path.join(self.data_dir, "snapshot-00000000000000000050.snap"))
        os.remove(os.path.join(self.data_dir, "wal-00000000000000000001.log"))
        for args in [(self.data_dir,), (self.data_dir, "--repair", "--yes")]:
            with self.subTest(args=args):
                status, output = run_check(*args)
                self.assertEqual(status, 1, output)
                self.assertIn("start empty by moving every snapshot-* and wal-* file away",
                              output)
                self.assertNotIn("move it away", output)


if __name__ == "__main__":
    main()
