#!/usr/bin/python3
"""podium-cli against the real podium-server: one-shot commands in both protocols, --raw,
piped stdin, the interactive prompt on a terminal (a pty) with its history (passwords kept
out), a connection failure, and a typed AUTH used again after the server restarts.
Usage: cli_blackbox_test.py PODIUM_CLI PODIUM_SERVER

Starts the server on a free port with a temporary data directory, waits for it by polling a
connect (with a deadline, no fixed sleep), and stops it with SIGTERM.
"""
import os
import pty
import select
import signal
import socket
import subprocess
import sys
import tempfile
import time

START_DEADLINE_S = 20
STOP_DEADLINE_S = 10
COMMAND_TIMEOUT_S = 10


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_listening(server, port):
    deadline = time.monotonic() + START_DEADLINE_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"podium-server exited with {server.returncode} before listening")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.02)  # a poll interval, not a guess at the start-up time
    raise RuntimeError(f"podium-server did not listen on {port} within {START_DEADLINE_S} s")


class Checker:
    def __init__(self, cli, port):
        self.cli = cli
        self.server = f"127.0.0.1:{port}"
        self.failures = 0

    def run(self, args, stdin=None, server=None):
        return subprocess.run([self.cli, "--server", server or self.server] + args,
                              input=stdin, capture_output=True, text=True,
                              timeout=COMMAND_TIMEOUT_S)

    def expect(self, args, stdout, stdin=None, exit_code=0):
        result = self.run(args, stdin)
        if result.stdout != stdout or result.returncode != exit_code:
            self.failures += 1
            print(f"FAIL podium-cli {' '.join(args)}\n  expected exit {exit_code}, stdout "
                  f"{stdout!r}\n  got exit {result.returncode}, stdout {result.stdout!r}, "
                  f"stderr {result.stderr!r}")
        else:
            print(f"ok   podium-cli {' '.join(args)}")


def check(cli, port):
    c = Checker(cli, port)
    c.expect(["PING"], "PONG\n")
    c.expect(["SET", "k", "v"], "OK\n")
    c.expect(["GET", "k"], '"v"\n')
    c.expect(["GET", "missing"], "(nil)\n")
    c.expect(["ZADD", "b", "1", "a"], "(integer) 1\n")
    c.expect(["ZADD", "b", "2.5", "c"], "(integer) 1\n")
    c.expect(["ZREVRANGE", "b", "0", "-1", "WITHSCORES"], '1) "c"\n2) "2.5"\n3) "a"\n4) "1"\n')
    c.expect(["--resp", "ZREVRANGE", "b", "0", "-1", "WITHSCORES"],
             '1) "c"\n2) "2.5"\n3) "a"\n4) "1"\n')
    c.expect(["--raw", "ZREVRANGE", "b", "0", "-1", "WITHSCORES"], "c\n2.5\na\n1\n")
    # Arguments that look like flags stay arguments.
    c.expect(["ZRANGEBYSCORE", "b", "-inf", "+inf"], '1) "a"\n2) "c"\n')
    c.expect(["ZINCRBY", "b", "-0.5", "a"], '"0.5"\n')
    # Error replies print as redis-cli prints them and still exit 0, as redis-cli does.
    c.expect(["NOSUCH", "x"], "(error) ERR unknown command 'NOSUCH'\n")
    c.expect(["INCR", "k"], "(error) ERR value is not an integer or out of range\n")
    # Commands from a pipe, one per line, with redis-cli's quoting.
    c.expect([], 'PONG\nOK\n"hello\\nworld"\n(integer) 2\nInvalid argument(s)\n',
             stdin='PING\nSET "a key" "hello\\nworld"\n\nGET \'a key\'\nZCARD b\nGET "open\n')
    c.expect(["--resp"], "PONG\n(integer) 2\n", stdin="PING\nZCARD b\n")
    # An empty command name is answered locally, as Redis answers it, and the session goes on.
    for protocol in ([], ["--resp"]):
        c.expect(protocol, "(error) ERR unknown command ''\nPONG\n", stdin='""\nPING\n')

    # Nobody listens on a fresh port: exit 1 with a message on stderr.
    result = c.run(["PING"], server=f"127.0.0.1:{free_port()}")
    if result.returncode != 1 or result.stdout or "Could not connect" not in result.stderr:
        c.failures += 1
        print(f"FAIL connection failure: exit {result.returncode}, stdout {result.stdout!r}, "
              f"stderr {result.stderr!r}")
    else:
        print("ok   connection failure exits 1")
    return c.failures


def run_on_pty(cli, port, home, keys):
    """podium-cli on a pseudo-terminal (so it prompts) with `keys` typed ahead (ending with
    QUIT); its output and exit code."""
    pid, fd = pty.fork()
    if pid == 0:
        env = dict(os.environ, HOME=home, TERM="dumb")
        os.execve(cli, [cli, "--server", f"127.0.0.1:{port}"], env)
    os.write(fd, keys.encode())
    output = b""
    deadline = time.monotonic() + COMMAND_TIMEOUT_S
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
        if not ready:
            break
        try:
            chunk = os.read(fd, 4096)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        output += chunk
    os.close(fd)
    _, status = os.waitpid(pid, 0)
    return output.decode("utf-8", "replace"), os.waitstatus_to_exitcode(status)


def check_interactive(cli, port):
    """The prompt, replies printed as redis-cli prints them, and the history: kept in
    $HOME/.podium_cli_history, so that the next session's up-arrow brings the last command, and
    without the lines that carry a password (AUTH, CONFIG SET requirepass, HELLO ... AUTH)."""
    failures = 0
    with tempfile.TemporaryDirectory(prefix="podium_cli_home_") as home:
        first, code = run_on_pty(
            cli, port, home, "SET greeting hi\rAUTH topsecret1\rCONFIG SET requirepass "
            "topsecret2\rHELLO 3 AUTH default topsecret3\rGET greeting\rQUIT\r")
        prompt = f"127.0.0.1:{port}> "
        if code != 0 or prompt not in first or "OK" not in first or '"hi"' not in first:
            failures += 1
            print(f"FAIL interactive session: exit {code}, output {first!r}")
        history_path = os.path.join(home, ".podium_cli_history")
        history = open(history_path).read() if os.path.exists(history_path) else ""
        if "SET greeting hi" not in history or "GET greeting" not in history:
            failures += 1
            print(f"FAIL history file: {history!r}")
        if "topsecret" in history:  # lines with passwords stay out, as in redis-cli
            failures += 1
            print(f"FAIL a password reached the history file: {history!r}")
        # Up arrow twice (past QUIT), then Enter: a command of the session before.
        second, code = run_on_pty(cli, port, home, "\x1b[A\x1b[A\rQUIT\r")
        if code != 0 or '"hi"' not in second:
            failures += 1
            print(f"FAIL history recall: exit {code}, output {second!r}")
    if not failures:
        print("ok   interactive prompt, history kept and recalled")
    return failures


def start_server(server_binary, port, data_dir, log, flags=()):
    server = subprocess.Popen([server_binary, "--port", str(port), "--threads", "1",
                               "--data_dir", data_dir, *flags], stdout=log, stderr=log)
    wait_until_listening(server, port)
    return server


def stop_server(server):
    server.send_signal(signal.SIGTERM)
    try:
        server.wait(timeout=STOP_DEADLINE_S)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def read_line(stream, deadline):
    """One line from a pipe, or "" at its end or the deadline."""
    line = b""
    while not line.endswith(b"\n") and time.monotonic() < deadline:
        ready, _, _ = select.select([stream], [], [], max(0.0, deadline - time.monotonic()))
        if not ready:
            break
        byte = os.read(stream.fileno(), 1)
        if not byte:
            break
        line += byte
    return line.decode("utf-8", "replace")


def check_auth_survives_restart(cli, server_binary):
    """A session that typed AUTH goes on after the server restarts: its next command connects
    again (the old connection is hung up) and authenticates with the typed password."""
    port = free_port()
    password = "typed-pass"
    flags = ["--requirepass", password]
    got, code, stderr = [], None, ""
    with tempfile.TemporaryDirectory(prefix="podium_cli_auth_") as data_dir:
        log_path = os.path.join(data_dir, "server.log")
        with open(log_path, "w") as log:
            server = start_server(server_binary, port, data_dir, log, flags)
            session = subprocess.Popen([cli, "--server", f"127.0.0.1:{port}"],
                                       stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                       stderr=subprocess.PIPE)
            try:
                deadline = time.monotonic() + COMMAND_TIMEOUT_S
                session.stdin.write(f"AUTH {password}\nSET typed v\n".encode())
                session.stdin.flush()
                got += [read_line(session.stdout, deadline), read_line(session.stdout, deadline)]
                stop_server(server)
                server = start_server(server_binary, port, data_dir, log, flags)
                session.stdin.write(b"SET typed again\n")
                session.stdin.close()
                got.append(read_line(session.stdout, deadline))
                code = session.wait(timeout=COMMAND_TIMEOUT_S)
                stderr = session.stderr.read().decode("utf-8", "replace")
            finally:
                if session.poll() is None:
                    session.kill()
                    session.wait()
                stop_server(server)
        if got != ["OK\n", "OK\n", "OK\n"] or code != 0:
            print(f"FAIL typed AUTH after a restart: exit {code}, lines {got!r}, stderr "
                  f"{stderr!r}")
            with open(log_path) as log:
                print("--- podium-server log ---\n" + log.read())
            return 1
    print("ok   typed AUTH is used again after the server restarts")
    return 0


def main():
    cli, server_binary = sys.argv[1], sys.argv[2]
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="podium_cli_blackbox_") as data_dir:
        log_path = os.path.join(data_dir, "server.log")
        with open(log_path, "w") as log:
            server = subprocess.Popen([server_binary, "--port", str(port), "--threads", "1",
                                       "--data_dir", data_dir], stdout=log, stderr=log)
        failures = 1  # until check() says otherwise
        try:
            wait_until_listening(server, port)
            failures = (check(cli, port) + check_interactive(cli, port) +
                        check_auth_survives_restart(cli, server_binary))
        finally:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=STOP_DEADLINE_S)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
                print("podium-server did not stop on SIGTERM; killed")
                failures = max(failures, 1)
        if failures:
            with open(log_path) as log:
                print("--- podium-server log ---\n" + log.read())
    print(f"{failures} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
