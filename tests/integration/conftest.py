"""Fixtures for the integration tests.

Every test runs the real binaries in a private temporary directory with its
own control socket.  Readiness is observed, never guessed: programs are the
test child (tests/helpers/testchild), which reports events on a FIFO that the
`events` fixture reads, and the daemon's log is read line by line as it is
written.  Nothing a test starts may outlive it: after the daemon is stopped,
any test child of this test that still runs is killed and the test fails.

Paths come from the environment: SAFEEXITD_BUILDDIR (where safeexitd,
safeexitctl and tests/helpers/testchild are built) and SAFEEXITD_SRCDIR; both
default to the top of the source tree, so a plain
`python3 -m pytest tests/integration` works in a tree built in place.

Fixtures:
    workdir          the test's temporary directory (pathlib.Path)
    testchild        path of the test child binary (str)
    events           an Events reading the test's event FIFO
    spawn            spawn(*args, tag="child", **popen_kwargs) -> Popen of a
                     test child reporting to `events`; killed at teardown
    conf             a Conf to build config sections
    daemon_factory   daemon_factory(config_text, extra_args=(), env=None,
                     prefix=()) -> Daemon; env is merged into the daemon's
                     environment after the scrubbing (NOTIFY_SOCKET, a bus
                     address...); prefix runs it under a wrapper

Every daemon starts with this process's environment less what a service
manager would set (SCRUBBED_ENV), and with DBUS_SYSTEM_BUS_ADDRESS pointing
where nothing listens unless the test passes its own: no test ever talks to
the host's logind.  daemon_env() builds that environment for tests that run
safeexitd by hand (--check, -d).

Helpers: Daemon.wait_state(name, state) waits for a program's transition in
the log, Daemon.status() returns status --json by name, Daemon.prefix runs
the daemon under a wrapper (setpriv); wait_for() polls what only the file
system shows, proc_children() and pid_ppid() read /proc.
"""

import atexit
import json
import os
import re
import select
import shlex
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

import pytest

TOP = Path(__file__).resolve().parent.parent.parent
SRCDIR = Path(os.environ.get("SAFEEXITD_SRCDIR") or TOP)
BUILDDIR = Path(os.environ.get("SAFEEXITD_BUILDDIR") or TOP)
SAFEEXITD = BUILDDIR / "safeexitd"
SAFEEXITCTL = BUILDDIR / "safeexitctl"
TESTCHILD = BUILDDIR / "tests" / "helpers" / "testchild"

# Bounds on how long teardown waits; a test's own waits take their timeouts.
STOP_TIMEOUT = 30
LEFTOVER_GRACE = 1.0
# Longest a test's body may run; the test_timeout marker overrides it.
TEST_TIMEOUT = float(os.environ.get("SAFEEXITD_TEST_TIMEOUT") or 300)
# Words run right before every safeexitd (valgrind ...), after any prefix a
# test gives.
DAEMON_PREFIX = shlex.split(os.environ.get("SAFEEXITD_DAEMON_PREFIX") or "")
# How much of the daemon's log and the events a failure report shows.
REPORT_LINES = 80
# SAFEEXITD_TEST_CGROUPS=off: every daemon holds its programs by process
# groups alone, as where no cgroup is delegated (CI runs the suite both ways).
CGROUPS_OFF = os.environ.get("SAFEEXITD_TEST_CGROUPS") == "off"
# The daemon's log line naming the folder of its programs' cgroups.
CGROUP_LINE = re.compile(r"programs run in a cgroup each under (\S+)")

def built_with_libsystemd():
    """True or False when known from config.log or the binary, else None.

    The daemon loads libsystemd with dlopen, so ldd does not show it; the
    binary names the library it loads."""
    try:
        log = (BUILDDIR / "config.log").read_text(errors="replace")
        match = re.search(r"libsystemd:\s+(yes|no)", log)
        if match:
            return match.group(1) == "yes"
    except OSError:
        pass
    try:
        return b"libsystemd.so.0" in SAFEEXITD.read_bytes()
    except OSError:
        return None


DAEMONS_KEY = pytest.StashKey()
EVENTS_KEY = pytest.StashKey()
PROBLEMS_KEY = pytest.StashKey()

# Environment a supervisor would act on if it leaked in from the outside.
SCRUBBED_ENV = ("NOTIFY_SOCKET", "LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES",
                "WATCHDOG_USEC", "WATCHDOG_PID", "DBUS_SYSTEM_BUS_ADDRESS")
# Where the system bus of a test daemon is, unless the test says otherwise.
DEAD_BUS = "unix:path=/nonexistent/safeexitd-test-bus"


def daemon_env(env=None):
    """Return the environment a test daemon starts with.

    This process's environment less SCRUBBED_ENV, a system bus address where
    nothing listens (so the host's logind is never asked), then env on top.
    """
    out = {k: v for k, v in os.environ.items() if k not in SCRUBBED_ENV}
    out.setdefault("DBUS_SYSTEM_BUS_ADDRESS", DEAD_BUS)
    out.update(env or {})
    return out


def signal_number(sig):
    """Return the number of a signal given as a number, enum or name."""
    if isinstance(sig, str):
        name = sig.upper()
        if not name.startswith("SIG"):
            name = "SIG" + name
        return int(signal.Signals[name])
    return int(sig)


def pid_state(pid):
    """Return the state letter of a process from /proc, or None if gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read().decode("ascii", "replace")
    except OSError:
        return None
    fields = stat.rpartition(")")[2].split()
    return fields[0] if fields else None


def pid_running(pid):
    """Return whether pid exists and is not a zombie."""
    return pid_state(pid) not in (None, "Z", "X")


def wait_gone(pids, timeout):
    """Wait until none of pids runs, at most timeout seconds; return the rest.

    Uses pidfds where available, so the wait ends when the last one exits.
    """
    deadline = time.monotonic() + timeout
    left = {pid for pid in pids if pid_running(pid)}
    while left:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        fds = {}
        try:
            for pid in left:
                try:
                    fds[os.pidfd_open(pid)] = pid
                except (AttributeError, OSError):
                    pass
            if fds:
                select.select(list(fds), [], [], remaining)
            else:
                # No pidfds on this system: the shortest honest wait.
                time.sleep(min(remaining, 0.05))
        finally:
            for fd in fds:
                os.close(fd)
        left = {pid for pid in left if pid_running(pid)}
    return left


def wait_for(predicate, timeout=30, what="condition"):
    """Poll predicate until it returns a true value; return that value.

    For state only the file system shows (a log file filling up), where no
    event says when it changes; raises AssertionError after timeout seconds.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"{what}: not within {timeout} s")
        time.sleep(0.02)


def proc_children(pid):
    """Return {child pid: state letter} of pid's children, from /proc."""
    children = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as f:
                stat = f.read().decode("ascii", "replace")
        except OSError:
            continue
        fields = stat.rpartition(")")[2].split()
        if len(fields) >= 2 and int(fields[1]) == pid:
            children[int(name)] = fields[0]
    return children


def pid_ppid(pid):
    """Return the parent pid of pid from /proc, or None if gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read().decode("ascii", "replace")
    except OSError:
        return None
    return int(stat.rpartition(")")[2].split()[1])


# Keys of event lines and how their values are read.
INT_KEYS = {"pid", "ppid", "pgid", "sid", "code", "gc", "escaped", "child",
            "bytes", "uid", "gid", "set", "ctty", "error"}
HEX_KEYS = {"sigmask", "sigign"}
OCT_KEYS = {"umask"}
LIST_KEYS = {"fds", "groups"}


def parse_event(line):
    """Parse one event line of the test child into a dict."""
    tokens = line.split()
    if len(tokens) < 2:
        return {"tag": None, "event": None, "line": line}
    ev = {"tag": tokens[0], "event": tokens[1], "line": line}
    for token in tokens[2:]:
        key, sep, value = token.partition("=")
        if not sep:
            ev[key] = True
            continue
        value = urllib.parse.unquote(value)
        try:
            if key == "t":
                value = float(value)
            elif key in INT_KEYS:
                value = int(value)
            elif key in HEX_KEYS:
                value = int(value, 16)
            elif key in OCT_KEYS:
                value = int(value, 8)
            elif key in LIST_KEYS:
                value = [int(x) for x in value.split(",") if x]
        except ValueError:
            pass
        ev[key] = value
    return ev


class Events:
    """The events of every test child of one test, read from a FIFO.

    The FIFO is opened read-write, so opening it never blocks and reading it
    never sees end-of-file while children come and go.  A thread parses each
    line as it arrives (see parse_event) and wakes the waiters.
    """

    def __init__(self, path):
        self.path = str(path)
        os.mkfifo(self.path, 0o600)
        self._fd = os.open(self.path, os.O_RDWR | os.O_NONBLOCK | os.O_CLOEXEC)
        self._stop_r, self._stop_w = os.pipe()
        self._events = []
        self._consumed = []
        self._cond = threading.Condition()
        self._thread = threading.Thread(target=self._read, name="events",
                                        daemon=True)
        self._thread.start()
        self._closed = False

    def _read(self):
        """Parse lines from the FIFO until told to stop."""
        buf = b""
        stopping = False
        while True:
            if not stopping:
                ready, _, _ = select.select([self._fd, self._stop_r], [], [])
                stopping = self._stop_r in ready
            try:
                data = os.read(self._fd, 65536)
            except BlockingIOError:
                data = b""
            if data:
                buf += data
                *lines, buf = buf.split(b"\n")
                parsed = [parse_event(line.decode("utf-8", "replace"))
                          for line in lines if line.strip()]
                if parsed:
                    with self._cond:
                        self._events.extend(parsed)
                        self._consumed.extend([False] * len(parsed))
                        self._cond.notify_all()
            elif stopping:
                return

    @staticmethod
    def _matches(ev, tag, event, fields):
        if tag is not None and ev["tag"] != tag:
            return False
        if event is not None and ev["event"] != event:
            return False
        return all(key in ev and ev[key] == value
                   for key, value in fields.items())

    def _describe(self, tag, event, fields):
        want = [f"tag={tag}"] if tag is not None else []
        if event is not None:
            want.append(f"event={event}")
        want += [f"{k}={v!r}" for k, v in fields.items()]
        return " ".join(want) or "any event"

    def wait(self, tag=None, event=None, timeout=30, **fields):
        """Return the first not yet consumed event that matches, and consume it.

        Waits up to timeout seconds, then raises AssertionError listing the
        events seen.  fields compare against parsed values (pid=1234).
        """
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for i, ev in enumerate(self._events):
                    if not self._consumed[i] and \
                            self._matches(ev, tag, event, fields):
                        self._consumed[i] = True
                        return ev
                left = deadline - time.monotonic()
                if left <= 0:
                    seen = "\n".join("  " + ev["line"] for ev in self._events)
                    raise AssertionError(
                        f"no {self._describe(tag, event, fields)} within "
                        f"{timeout} s; events seen:\n{seen or '  (none)'}")
                self._cond.wait(left)

    def wait_none(self, tag=None, event=None, timeout=1, **fields):
        """Assert that no unconsumed matching event arrives within timeout.

        The only deliberate wait on the clock: use it to show that something
        does not happen (a signal is not sent before a grace period ends).
        """
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for i, ev in enumerate(self._events):
                    if not self._consumed[i] and \
                            self._matches(ev, tag, event, fields):
                        raise AssertionError(
                            f"unexpected event: {ev['line']}")
                left = deadline - time.monotonic()
                if left <= 0:
                    return
                self._cond.wait(left)

    def all(self, tag=None, event=None, **fields):
        """Return every event so far (consumed or not) that matches."""
        with self._cond:
            return [ev for ev in self._events
                    if self._matches(ev, tag, event, fields)]

    def lines(self):
        """Return the raw lines so far."""
        with self._cond:
            return [ev["line"] for ev in self._events]

    def pids(self):
        """Return {pid: tag} for every process the events mention."""
        pids = {}
        for ev in self.all():
            if isinstance(ev.get("pid"), int):
                pids.setdefault(ev["pid"], ev["tag"])
            for key, suffix in (("gc", ".gc"), ("escaped", ".esc")):
                if isinstance(ev.get(key), int):
                    pids.setdefault(ev[key], f"{ev['tag']}{suffix}")
        return pids

    def _ours(self, pid):
        """Return whether pid runs the test child with this FIFO."""
        if not pid_running(pid):
            return False
        try:
            exe = os.readlink(f"/proc/{pid}/exe")
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            return False
        if exe.endswith(" (deleted)"):
            exe = exe[:-len(" (deleted)")]
        if os.path.realpath(exe) != os.path.realpath(TESTCHILD):
            return False
        path = os.fsencode(self.path)
        return any(arg == path or arg.endswith(b"=" + path) for arg in argv)

    def alive(self):
        """Return {pid: tag} of this test's children that still run."""
        return {pid: tag for pid, tag in self.pids().items()
                if self._ours(pid)}

    def close(self):
        """Kill what is left of this test's children and stop reading.

        Returns a list of problems: one entry per child left running.
        """
        if self._closed:
            return []
        self._closed = True
        problems = []
        alive = self.alive()
        if alive:
            wait_gone(alive, LEFTOVER_GRACE)
            alive = self.alive()
        for pid, tag in sorted(alive.items()):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                continue
            problems.append(f"left running: pid {pid} ({tag})")
        os.write(self._stop_w, b"x")
        self._thread.join(5)
        for fd in (self._fd, self._stop_r, self._stop_w):
            os.close(fd)
        return problems


class Daemon:
    """One safeexitd in the foreground, its log read as it is written."""

    def __init__(self, workdir, name, config_path, socket, args,
                 placeholders, env=None):
        self.workdir = Path(workdir)
        self.name = name
        self.config_path = Path(config_path)
        self.socket = str(socket)
        self.args = [str(a) for a in args]
        self.log_path = self.workdir / f"{name}.log"
        self.lines = []
        self.proc = None
        self._cond = threading.Condition()
        self._eof = False
        self._log_file = None
        self._placeholders = dict(placeholders, socket=self.socket)
        self._exit_seen = False
        self.env = dict(env or {})
        # Words run before safeexitd (setpriv ... to start it as another user).
        self.prefix = []

    @property
    def pid(self):
        """The daemon's pid."""
        return self.proc.pid

    @property
    def returncode(self):
        """The exit status, None while it runs (negative: killed by signal)."""
        rc = self.proc.poll()
        self._exit_seen = rc is not None
        return rc

    def write_config(self, config_text):
        """Write the config file (placeholders filled in, socket added)."""
        text = config_text.format(**self._placeholders)
        text = add_socket(text, self.socket)
        if CGROUPS_OFF:
            text = add_daemon_key(text, "cgroups", "off")
        self.config_path.write_text(text)

    def start(self):
        """Start safeexitd -c CONFIG -l debug in the foreground."""
        env = daemon_env(self.env)
        argv = [*self.prefix, str(SAFEEXITD), "-c", str(self.config_path),
                "-l", "debug", *self.args]
        self._log_file = open(self.log_path, "a", encoding="utf-8")
        self._log_file.write(f"# {shlex.join(argv)}\n")
        self._log_file.flush()
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT,
                                     cwd=self.workdir, env=env)
        threading.Thread(target=self._read, name=f"{self.name}-log",
                         daemon=True).start()

    def _read(self):
        """Collect the daemon's output lines until end-of-file."""
        with self.proc.stdout as out:
            for raw in out:
                line = raw.decode("utf-8", "replace").rstrip("\n")
                with self._cond:
                    self.lines.append(line)
                    self._log_file.write(line + "\n")
                    self._log_file.flush()
                    self._cond.notify_all()
        with self._cond:
            self._eof = True
            self._log_file.close()
            self._cond.notify_all()

    def note(self, text):
        """Add a line of our own (marked with '#') to the log file."""
        with self._cond:
            if not self._log_file.closed:
                self._log_file.write(f"# {text}\n")
                self._log_file.flush()

    def mark(self):
        """Return the number of log lines so far, for wait_log(since=...)."""
        with self._cond:
            return len(self.lines)

    def tail(self, n=REPORT_LINES):
        """Return the last n log lines as text."""
        with self._cond:
            return "\n".join(self.lines[-n:])

    def wait_log(self, pattern, timeout=30, since=0):
        """Wait for a log line matching regex pattern; return the re.Match.

        Searches the lines from index since (see mark()).  Raises
        AssertionError on timeout or when the daemon exits first.
        """
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        with self._cond:
            i = since
            while True:
                while i < len(self.lines):
                    match = rx.search(self.lines[i])
                    if match:
                        return match
                    i += 1
                rc = self.proc.poll()
                if rc is not None and self._eof:
                    raise AssertionError(
                        f"safeexitd exited ({rc}) before logging "
                        f"/{pattern}/; log:\n{self.tail(REPORT_LINES)}")
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f"no log line /{pattern}/ within {timeout} s; "
                        f"log:\n{self.tail(REPORT_LINES)}")
                # Wake up now and then to notice an exit whose output pipe
                # is still held open by a program with stdout = inherit.
                self._cond.wait(min(left, 0.5))

    def wait_ready(self, timeout=30, since=0):
        """Wait until the daemon logs that it is ready (after since: a
        restarted daemon's lines follow the last one's)."""
        return self.wait_log(r"notice: ready\b", timeout, since)

    def wait_state(self, name, state, timeout=30, since=0):
        """Wait for the log line of program name entering state.

        Returns the re.Match; group("old") is the state it left.
        """
        return self.wait_log(
            rf"(?:^|\s){re.escape(name)}: (?P<old>[A-Z]+) -> {state}\b",
            timeout, since)

    def status(self, *names):
        """Return {name: program} from status --json (names: only those)."""
        result = self.ctl("status", "--json", *names)
        assert result.returncode in (0, 1), result.stderr
        doc = json.loads(result.stdout)
        return {p["name"]: p for p in doc["programs"]}

    def ctl(self, *args, timeout=60, input=None, env=None):
        """Run safeexitctl -s SOCKET ARGS; return the CompletedProcess."""
        argv = [str(SAFEEXITCTL), "-s", self.socket, *map(str, args)]
        self.note(f"$ {shlex.join(argv[3:])}")
        result = subprocess.run(argv, input=input, capture_output=True,
                                text=True, timeout=timeout, cwd=self.workdir,
                                env=env,
                                stdin=None if input is not None
                                else subprocess.DEVNULL)
        self.note(f"-> {result.returncode}"
                  + "".join(f"\n#   {line}" for line in
                            (result.stdout + result.stderr).splitlines()))
        return result

    def signal(self, sig):
        """Send sig (number, signal.Signals or a name like "HUP") to it."""
        self.proc.send_signal(signal_number(sig))

    def wait_exit(self, timeout=30):
        """Wait for the daemon to exit and return its exit status."""
        try:
            rc = self.proc.wait(timeout)
            self._exit_seen = True
            return rc
        except subprocess.TimeoutExpired:
            raise AssertionError(
                f"safeexitd did not exit within {timeout} s; "
                f"log:\n{self.tail(REPORT_LINES)}") from None

    def stop(self):
        """Stop the daemon as a user would; return a list of problems.

        A daemon still running gets SIGTERM and must exit 0 within
        STOP_TIMEOUT; one that already exited with a failure counts as a
        problem unless the test looked at it (wait_exit() or returncode).
        """
        problems = []
        if self.proc is None:
            return problems
        if self.proc.poll() is None:
            self.note("teardown: SIGTERM")
            self.proc.send_signal(signal.SIGTERM)
            try:
                rc = self.proc.wait(STOP_TIMEOUT)
                if rc != 0:
                    problems.append(
                        f"{self.name}: exited {rc} after SIGTERM")
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                problems.append(f"{self.name}: still running "
                                f"{STOP_TIMEOUT} s after SIGTERM, killed")
        elif not self._exit_seen and self.proc.returncode != 0:
            # It died on its own and the test did not wait for that.
            problems.append(f"{self.name}: exited unexpectedly "
                            f"({self.proc.returncode})")
        with self._cond:
            for line in self.lines:
                if "Sanitizer" in line or ": runtime error:" in line:
                    problems.append(f"{self.name}: {line}")
                    break
        problems += self._cgroup_cleanup()
        return problems

    def _cgroup_cleanup(self):
        """Check that the daemon removed its programs' cgroups at exit.

        A daemon that was killed cannot: its empty cgroups are removed here.
        """
        with self._cond:
            found = [m.group(1) for m in map(CGROUP_LINE.search, self.lines)
                     if m]
        if not found or not os.path.isdir(found[-1]):
            return []
        top = found[-1]
        for entry in sorted(os.listdir(top)):
            path = os.path.join(top, entry)
            if entry.startswith("program-") and os.path.isdir(path):
                try:
                    os.rmdir(path)
                except OSError:
                    pass
        try:
            os.rmdir(top)
        except OSError as e:
            return [f"{self.name}: cannot remove {top}: {e}"]
        if self.proc.returncode >= 0:
            return [f"{self.name}: left its cgroups in {top}"]
        return []


def build_shim(workdir, name, source):
    """Build source (C) into workdir/NAME.so for LD_PRELOAD; skip without cc."""
    cc = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
    if cc is None:
        pytest.skip(f"needs a C compiler to build the {name} shim")
    src, lib = workdir / f"{name}.c", workdir / f"{name}.so"
    src.write_text(source)
    result = subprocess.run([cc, "-shared", "-fPIC", "-o", str(lib), str(src),
                             "-ldl"], capture_output=True, text=True)
    if result.returncode != 0:
        pytest.skip(f"cannot build the {name} shim: {result.stderr.strip()}")
    return lib


def add_socket(text, socket):
    """Add socket = PATH to the [safeexitd] section unless it has one."""
    return add_daemon_key(text, "socket", socket)


def add_daemon_key(text, key, value):
    """Add key = value to the [safeexitd] section unless it sets key."""
    lines = text.splitlines()
    header = None
    for i, line in enumerate(lines):
        stripped = line.strip()
        if stripped.startswith("["):
            if header is not None:
                break
            if stripped.split("]")[0].strip("[ ") == "safeexitd":
                header = i
        elif header is not None and re.match(rf"{key}\s*=", stripped):
            return text
    if header is None:
        return f"[safeexitd]\n{key} = {value}\n\n{text}"
    lines.insert(header + 1, f"{key} = {value}")
    return "\n".join(lines) + "\n"


def ini_value(value):
    """Render a Python value as a config value."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return ", ".join(ini_value(v) for v in value)
    return str(value)


class Conf:
    """Builds config text whose placeholders daemon_factory fills in.

    The text keeps {testchild}, {events}, {tmp} and {socket} as placeholders
    and doubles any other brace, so it can be passed through str.format.
    """

    @staticmethod
    def command(*args, tag):
        """Return a command value running the test child with args.

        Each option starts a continuation line, so no line comes near the
        199 bytes libinih reads, whatever the length of the paths.
        """
        lines = ["{testchild}", "--events {events}", f"--tag {tag}"]
        for i, arg in enumerate(map(str, args)):
            word = shlex.quote(arg).replace("{", "{{").replace("}", "}}")
            if i == 0 or arg.startswith("-"):
                lines.append(word)
            else:
                lines[-1] += " " + word
        return "\n\t".join(lines)

    @staticmethod
    def section(header, **keys):
        """Return "[header]" and one "key = value" line per keyword."""
        lines = [f"[{header}]"]
        for key, value in keys.items():
            value = ini_value(value).replace("{", "{{").replace("}", "}}")
            lines.append(f"{key} = {value}")
        return "\n".join(lines) + "\n\n"

    def program(self, name, *args, tag=None, **keys):
        """Return a [program:name] section running the test child with args.

        The child's tag defaults to name; pass command= to run something
        else (then the text is used as is, placeholders included).
        """
        if "command" in keys:
            command = keys.pop("command")
        else:
            command = self.command(*args, tag=tag or name)
        text = self.section(f"program:{name}", **keys)
        head, _, rest = text.partition("\n")
        return f"{head}\ncommand = {command}\n{rest}"

    def daemon(self, **keys):
        """Return a [safeexitd] section."""
        return self.section("safeexitd", **keys)


def short_socket_dir(workdir):
    """Return a directory for the socket whose path fits in sun_path."""
    if len(str(workdir / "ctl-00.sock")) < 100:
        return workdir, None
    for base in (tempfile.gettempdir(), "/tmp"):
        if len(os.path.join(base, "sx12345678", "ctl-00.sock")) < 100:
            break
    tmp = tempfile.mkdtemp(prefix="sx", dir=base)
    return Path(tmp), tmp


# Fixtures.

@pytest.fixture
def workdir(tmp_path):
    """The test's private temporary directory."""
    return tmp_path


_short_testchild = []


@pytest.fixture
def testchild():
    """Path of the test child binary.

    From a build tree with a long path (make distcheck builds in
    safeexitd-VERSION/_build/sub), a short link to it in /tmp instead: tests
    put it in config lines close to their 199-byte limit."""
    if not os.access(TESTCHILD, os.X_OK):
        pytest.fail(f"{TESTCHILD} is not built")
    if len(str(TESTCHILD)) <= 50:
        return str(TESTCHILD)
    if not _short_testchild:
        tmp = tempfile.mkdtemp(prefix="sx", dir="/tmp")
        os.chmod(tmp, 0o755)
        os.symlink(TESTCHILD, os.path.join(tmp, "testchild"))
        _short_testchild.append(os.path.join(tmp, "testchild"))
        atexit.register(shutil.rmtree, tmp, True)
    return _short_testchild[0]


@pytest.fixture
def events(request, workdir):
    """Events of this test's children; fails the test if any is left."""
    ev = Events(workdir / "events")
    request.node.stash[EVENTS_KEY] = ev
    request.node.stash[PROBLEMS_KEY] = []
    yield ev
    # Fixtures that use events (daemon_factory) are torn down first and
    # leave their problems here, so one failure reports all of them.
    problems = request.node.stash[PROBLEMS_KEY] + ev.close()
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)


@pytest.fixture
def spawn(testchild, events, workdir):
    """Start test children directly; each is killed and reaped at teardown."""
    procs = []

    def start(*args, tag="child", **kwargs):
        argv = [testchild, "--events", events.path, "--tag", tag,
                *map(str, args)]
        kwargs.setdefault("stdin", subprocess.DEVNULL)
        kwargs.setdefault("cwd", workdir)
        proc = subprocess.Popen(argv, **kwargs)
        procs.append(proc)
        return proc

    yield start
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
        proc.wait()


@pytest.fixture
def conf():
    """A Conf to build config sections."""
    return Conf()


@pytest.fixture
def daemon_factory(request, workdir, events, testchild):
    """Start daemons from config text; each is stopped at teardown.

    Problems found when stopping them fail the test from the events fixture.
    """
    daemons = []
    request.node.stash[DAEMONS_KEY] = daemons
    cleanup = []

    def make(config_text, extra_args=(), env=None, prefix=()):
        if not os.access(SAFEEXITD, os.X_OK):
            pytest.fail(f"{SAFEEXITD} is not built")
        n = len(daemons) + 1
        suffix = "" if n == 1 else f"-{n}"
        sockdir, tmp = short_socket_dir(workdir)
        if tmp:
            cleanup.append(tmp)
        placeholders = {"testchild": testchild, "events": events.path,
                        "tmp": str(workdir)}
        d = Daemon(workdir, f"daemon{suffix}",
                   workdir / f"safeexitd{suffix}.ini",
                   sockdir / f"ctl{suffix}.sock", extra_args, placeholders,
                   env=env)
        d.prefix = [str(word) for word in (*prefix, *DAEMON_PREFIX)]
        d.write_config(config_text)
        daemons.append(d)
        d.start()
        return d

    yield make
    problems = request.node.stash[PROBLEMS_KEY]
    for d in reversed(daemons):
        problems += d.stop()
    for tmp in cleanup:
        for name in os.listdir(tmp):
            os.unlink(os.path.join(tmp, name))
        os.rmdir(tmp)


# Hooks.

def pytest_configure(config):
    config.addinivalue_line(
        "markers", "test_timeout(seconds): limit on the test's body "
        "(default $SAFEEXITD_TEST_TIMEOUT or 300)")


def pytest_report_header(config):
    lines = []
    for path in (SAFEEXITD, SAFEEXITCTL, TESTCHILD):
        state = "" if os.access(path, os.X_OK) else " (not built)"
        lines.append(f"{path.name}: {path}{state}")
    return lines


class BodyTimeout(Exception):
    """The body of a test ran longer than its limit."""


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    """Bound the test's body so one hung test cannot hang the suite."""
    marker = item.get_closest_marker("test_timeout")
    limit = float(marker.args[0]) if marker else TEST_TIMEOUT

    def expired(signo, frame):
        raise BodyTimeout(f"test ran longer than {limit} s")

    if limit <= 0 or threading.current_thread() is not threading.main_thread():
        yield
        return
    old = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, limit)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """On failure, add the tail of the daemon logs and the events."""
    outcome = yield
    report = outcome.get_result()
    if not report.failed:
        return
    for d in item.stash.get(DAEMONS_KEY, []):
        report.sections.append(
            (f"{d.name} log {d.log_path} (last {REPORT_LINES} lines)",
             d.tail(REPORT_LINES) or "(empty)"))
    ev = item.stash.get(EVENTS_KEY, None)
    if ev is not None:
        lines = ev.lines()[-REPORT_LINES:]
        report.sections.append(
            (f"events {ev.path} (last {REPORT_LINES})",
             "\n".join(lines) or "(none)"))
