"""systemd integration: sd_notify messages and logind's shutdown lock.

Runs only when safeexitd was built with libsystemd.  No systemd is started:
the notify tests bind their own NOTIFY_SOCKET, and the logind tests run a
private dbus-daemon whose address the daemon gets as DBUS_SYSTEM_BUS_ADDRESS,
with python3-dbusmock's logind template on it.  The template's Inhibit
returns a real pipe and drops the inhibitor when every copy of its write end
is closed, so ListInhibitors shows exactly when the daemon holds the lock.

The template's logind has no GetSessionByPID; the logoff tests add one that
returns a session they add.  Every process started here (bus, mock, daemon)
is stopped by its pid before the test ends.
"""

import os
import re
import select
import shlex
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

import conftest

LOGIND = "org.freedesktop.login1"
LOGIND_PATH = "/org/freedesktop/login1"
MANAGER = "org.freedesktop.login1.Manager"
SESSION = "org.freedesktop.login1.Session"
MOCK = "org.freedesktop.DBus.Mock"
DBUS_DAEMON = "/usr/bin/dbus-daemon"
PYTHON = "/usr/bin/python3"
LOCK = ("shutdown", "safeexitd", "Stopping managed programs in stages",
        "delay")
SESSION_ID = "c1"
SESSION_PATH = f"{LOGIND_PATH}/session/{SESSION_ID}"
WAIT = 15


pytestmark = pytest.mark.skipif(conftest.built_with_libsystemd() is False,
                                reason="safeexitd was built without libsystemd")


def wait_until(what, predicate, timeout=WAIT):
    """Poll predicate until it holds; for state that no event announces."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout} s: {what}")
        time.sleep(0.02)


def stop_process(proc, timeout=10):
    """Terminate a child of ours by pid and reap it."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


WRAPPER = """#!/bin/sh
# The daemon's own pid as WATCHDOG_PID, as systemd sets it.
WATCHDOG_PID=$$
export WATCHDOG_PID
exec {safeexitd} "$@"
"""


@pytest.fixture
def sx_daemon(daemon_factory, monkeypatch, workdir):
    """daemon_factory with env= for the daemon's environment.

    make(config_text, env={}, watchdog_pid=False) -> a started Daemon.
    conftest's Daemon starts with this process's environment less the
    variables a service manager sets; for this one start, env goes into
    that environment and is not scrubbed.
    """
    def make(config_text, env=None, watchdog_pid=False):
        env = dict(env or {})
        with monkeypatch.context() as m:
            for key, value in env.items():
                m.setenv(key, value)
            m.setattr(conftest, "SCRUBBED_ENV", tuple(
                k for k in conftest.SCRUBBED_ENV if k not in env))
            if watchdog_pid:
                wrapper = workdir / "safeexitd-watchdog"
                wrapper.write_text(WRAPPER.format(
                    safeexitd=shlex.quote(str(conftest.SAFEEXITD))))
                wrapper.chmod(0o755)
                m.setattr(conftest, "SAFEEXITD", wrapper)
            return daemon_factory(config_text)

    return make


def no_bus(workdir):
    """A system bus address where nothing listens."""
    return f"unix:path={workdir}/no-such-bus"


# sd_notify

class NotifySocket:
    """The service manager's end of NOTIFY_SOCKET: one datagram a message.

    Each message is a dict of its assignments; "_t" is when it arrived.
    """

    def __init__(self, path):
        self.path = str(path)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.messages = []      # received, not yet returned by wait()

    def wait(self, key, value=None, timeout=WAIT):
        """Return (and consume) the first message with key (= value)."""
        deadline = time.monotonic() + timeout
        while True:
            for i, msg in enumerate(self.messages):
                if key in msg and (value is None or msg[key] == value):
                    del self.messages[i]
                    return msg
            left = deadline - time.monotonic()
            if left <= 0 or not self._receive(left):
                raise AssertionError(
                    f"no {key}={value or '*'} within {timeout} s; "
                    f"unread: {self.messages}")

    def wait_none(self, key, timeout):
        """Assert that no message with key arrives within timeout."""
        deadline = time.monotonic() + timeout
        while True:
            while self._receive(0):
                pass
            for msg in self.messages:
                assert key not in msg, f"unexpected {msg}"
            left = deadline - time.monotonic()
            if left <= 0:
                return
            self._receive(left)

    def _receive(self, timeout):
        """Read one datagram, waiting at most timeout; False on timeout."""
        ready, _, _ = select.select([self.sock], [], [], timeout)
        if not ready:
            return False
        data = self.sock.recv(65536).decode()
        msg = dict(line.partition("=")[::2] for line in data.split("\n")
                   if line)
        msg["_t"] = time.monotonic()
        self.messages.append(msg)
        return True

    def close(self):
        self.sock.close()


@pytest.fixture
def notify_socket(workdir):
    """A bound NOTIFY_SOCKET in the test's directory."""
    sockdir, tmp = conftest.short_socket_dir(workdir)
    ns = NotifySocket(Path(sockdir) / "notify.sock")
    yield ns
    ns.close()
    os.unlink(ns.path)
    if tmp:
        os.rmdir(tmp)


def test_ready_stopping_and_extend_timeout(sx_daemon, conf, events, workdir,
                                           notify_socket):
    config = (conf.daemon(shutdown_timeout=20) +
              conf.program("a", "--print-env", "NOTIFY_SOCKET") +
              conf.program("b", depends_on="a"))
    d = sx_daemon(config, env={"NOTIFY_SOCKET": notify_socket.path,
                               "DBUS_SYSTEM_BUS_ADDRESS": no_bus(workdir)})
    ready = notify_socket.wait("READY", "1")
    assert ready.get("STATUS") == "Supervising 2 programs"
    # The manager's socket is the daemon's business, not the programs'.
    assert events.wait("a", "env", name="NOTIFY_SOCKET")["set"] == 0
    events.wait("a", "ready")
    events.wait("b", "ready")

    d.signal("TERM")
    notify_socket.wait("STOPPING", "1")
    extend = notify_socket.wait("EXTEND_TIMEOUT_USEC")
    # The whole shutdown_timeout, and some time to exit after it.
    assert int(extend["EXTEND_TIMEOUT_USEC"]) >= 20_000_000
    status = notify_socket.wait("STATUS")
    assert status["STATUS"].startswith("Stopping")
    events.wait("b", "exit")
    events.wait("a", "exit")
    assert d.wait_exit() == 0


def test_reload_says_reloading_then_ready(sx_daemon, conf, events, workdir,
                                          notify_socket):
    d = sx_daemon(conf.program("a"),
                  env={"NOTIFY_SOCKET": notify_socket.path,
                       "DBUS_SYSTEM_BUS_ADDRESS": no_bus(workdir)})
    notify_socket.wait("READY", "1")
    events.wait("a", "ready")
    d.signal("HUP")
    reloading = notify_socket.wait("RELOADING", "1")
    # Type=notify-reload matches the reload by the monotonic clock.
    assert int(reloading["MONOTONIC_USEC"]) > 0
    notify_socket.wait("READY", "1")


def test_watchdog_pings_at_half_the_interval(sx_daemon, conf, events, workdir,
                                             notify_socket):
    sx_daemon(conf.program("a"), watchdog_pid=True,
              env={"NOTIFY_SOCKET": notify_socket.path,
                   "WATCHDOG_USEC": "200000",
                   "DBUS_SYSTEM_BUS_ADDRESS": no_bus(workdir)})
    notify_socket.wait("READY", "1")
    pings = [notify_socket.wait("WATCHDOG", "1", timeout=2)["_t"]
             for _ in range(6)]
    gaps = [b - a for a, b in zip(pings, pings[1:])]
    # Half of WATCHDOG_USEC, well inside the 0.2 s the manager allows.
    assert 0.05 < sum(gaps) / len(gaps) < 0.2, gaps


def test_watchdog_for_another_process_is_not_ours(sx_daemon, conf, events,
                                                  workdir, notify_socket):
    # WATCHDOG_PID names the process the manager watches; pid 1 is not us.
    sx_daemon(conf.program("a"),
              env={"NOTIFY_SOCKET": notify_socket.path,
                   "WATCHDOG_USEC": "200000", "WATCHDOG_PID": "1",
                   "DBUS_SYSTEM_BUS_ADDRESS": no_bus(workdir)})
    notify_socket.wait("READY", "1")
    notify_socket.wait_none("WATCHDOG", 0.5)


def test_watchdog_without_notify_socket_is_harmless(sx_daemon, conf, events,
                                                    workdir):
    d = sx_daemon(conf.program("a"), watchdog_pid=True,
                  env={"WATCHDOG_USEC": "200000",
                       "DBUS_SYSTEM_BUS_ADDRESS": no_bus(workdir)})
    d.wait_ready()
    events.wait("a", "ready")
    d.signal("TERM")
    events.wait("a", "exit")
    assert d.wait_exit() == 0
    assert not any("keep-alive" in line for line in d.lines)


# Loading libsystemd

SYSTEM_BUS_SOCKET = "/run/dbus/system_bus_socket"


def mapped_libsystemd(pid):
    """The libsystemd files mapped into process pid."""
    with open(f"/proc/{pid}/maps", encoding="utf-8") as maps:
        return {line.split()[-1] for line in maps
                if "/libsystemd.so" in line}


def libsystemd_path():
    """Where the dynamic linker finds libsystemd.so.0, or None."""
    out = subprocess.run(["ldconfig", "-p"], capture_output=True, text=True,
                         timeout=WAIT).stdout
    for line in out.splitlines():
        if line.strip().startswith("libsystemd.so.0 ") and "=>" in line:
            return os.path.realpath(line.split("=>")[1].strip())
    return None


@pytest.fixture
def without_bus_address(monkeypatch):
    """Start test daemons with DBUS_SYSTEM_BUS_ADDRESS unset.

    Only where no system bus listens at its default place, so the host's
    logind is still never asked."""
    if os.path.exists(SYSTEM_BUS_SOCKET):
        pytest.skip(f"a system bus listens at {SYSTEM_BUS_SOCKET}")
    plain = conftest.daemon_env

    def daemon_env(env=None):
        out = plain(env)
        out.pop("DBUS_SYSTEM_BUS_ADDRESS", None)
        return out
    monkeypatch.setattr(conftest, "daemon_env", daemon_env)


def test_libsystemd_not_loaded_when_nothing_needs_it(
        without_bus_address, daemon_factory, conf, events, notify_socket):
    # No NOTIFY_SOCKET, no system bus, log to stderr: nothing to load it for.
    d = daemon_factory(conf.program("a"))
    d.wait_ready()
    events.wait("a", "ready")
    d.wait_log(r"no logind: host shutdown and logoff arrive only as signals")
    assert mapped_libsystemd(d.pid) == set()
    d.signal("TERM")
    assert d.wait_exit() == 0

    # NOTIFY_SOCKET set: loaded, and the manager hears from the daemon.
    d = daemon_factory(conf.program("b"),
                       env={"NOTIFY_SOCKET": notify_socket.path})
    notify_socket.wait("READY", "1")
    assert mapped_libsystemd(d.pid) != set()
    d.signal("TERM")
    assert d.wait_exit() == 0


def test_missing_libsystemd_is_reported_and_harmless(
        daemon_factory, conf, events, workdir, notify_socket):
    lib = libsystemd_path()
    if lib is None:
        pytest.skip("the dynamic linker does not know libsystemd.so.0")
    # A mount namespace of the daemon's own where the library is empty.
    probe = subprocess.run(["unshare", "-m", "mount", "--bind", "/dev/null",
                            lib], capture_output=True, timeout=WAIT)
    if probe.returncode != 0:
        pytest.skip("cannot bind-mount in a new mount namespace: "
                    + probe.stderr.decode(errors="replace").strip())
    hide = ["unshare", "-m", "sh", "-c",
            'mount --bind /dev/null "$0" && exec "$@"', lib]
    config = (conf.daemon(log="journal") + conf.program("a"))
    d = daemon_factory(config, prefix=hide,
                       env={"NOTIFY_SOCKET": notify_socket.path,
                            "DBUS_SYSTEM_BUS_ADDRESS": no_bus(workdir)})
    d.wait_ready()
    events.wait("a", "ready")
    d.wait_log(r"warning: NOTIFY_SOCKET is set, but the service manager "
               r"cannot be told anything: .*libsystemd\.so\.0")
    d.wait_log(r"warning: .*libsystemd\.so\.0.*: log = journal writes to "
               r"stderr")
    d.wait_log(r"no logind: host shutdown and logoff arrive only as signals")
    d.signal("TERM")
    events.wait("a", "exit")
    assert d.wait_exit() == 0
    # Whatever the daemon sent is in the socket's queue by now.
    notify_socket.wait_none("READY", 0)
    notify_socket.wait_none("STOPPING", 0)


# logind

BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC
 "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path={socket}</listen>
  <auth>EXTERNAL</auth>
  <servicedir>{servicedir}</servicedir>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_requested_reply="true" send_type="method_return"/>
    <allow send_requested_reply="true" send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
    <allow receive_type="signal"/>
    <allow send_destination="org.freedesktop.DBus"/>
  </policy>
</busconfig>
"""

# The mock is started by the bus on the first call to logind's name, so its
# readiness is the reply to StartServiceByName, not a guess.
LOGIND_SERVICE = f"""[D-BUS Service]
Name={LOGIND}
Exec={PYTHON} -m dbusmock --template logind
"""


class PrivateBus:
    """A dbus-daemon of our own, and python3-dbusmock's logind on it."""

    def __init__(self, workdir, logind):
        self.dbus = pytest.importorskip("dbus")
        pytest.importorskip("dbusmock")
        if not os.access(DBUS_DAEMON, os.X_OK):
            pytest.skip(f"{DBUS_DAEMON} is not installed")
        self.dir = Path(workdir) / "bus"
        servicedir = self.dir / "services"
        servicedir.mkdir(parents=True)
        if logind:
            (servicedir / f"{LOGIND}.service").write_text(LOGIND_SERVICE)
        sockdir, self._tmp = conftest.short_socket_dir(self.dir)
        self.socket = Path(sockdir) / "bus.sock"
        config = self.dir / "bus.conf"
        config.write_text(BUS_CONFIG.format(socket=self.socket,
                                            servicedir=servicedir))
        self.address = f"unix:path={self.socket}"
        env = {k: v for k, v in os.environ.items()
               if k not in conftest.SCRUBBED_ENV}
        # What the activated mock reads to find "the system bus".
        env["DBUS_SYSTEM_BUS_ADDRESS"] = self.address
        self.log = open(self.dir / "bus.log", "wb")
        self.proc = subprocess.Popen(
            [DBUS_DAEMON, f"--config-file={config}", "--print-address=1",
             "--nofork"], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=self.log, env=env, cwd=self.dir)
        self.mock_pid = None
        try:
            ready, _, _ = select.select([self.proc.stdout], [], [], WAIT)
            line = self.proc.stdout.readline().decode() if ready else ""
            if not line.startswith("unix:"):
                raise AssertionError(f"dbus-daemon did not start: {line!r}; "
                                     f"see {self.dir / 'bus.log'}")
            self.conn = self.dbus.bus.BusConnection(self.address)
            self.driver = self.dbus.Interface(
                self.conn.get_object("org.freedesktop.DBus",
                                     "/org/freedesktop/DBus"),
                "org.freedesktop.DBus")
            if logind:
                self.start_logind()
        except BaseException:
            self.close()
            raise

    def start_logind(self):
        """Have the bus start the mock; returns once it owns logind's name."""
        self.driver.StartServiceByName(LOGIND, self.dbus.UInt32(0),
                                       timeout=WAIT)
        owner = self.driver.GetNameOwner(LOGIND)
        self.mock_pid = int(self.driver.GetConnectionUnixProcessID(owner))
        obj = self.conn.get_object(LOGIND, LOGIND_PATH)
        self.manager = self.dbus.Interface(obj, MANAGER)
        self.mock = self.dbus.Interface(obj, MOCK)

    def add_session(self):
        """Put the daemon (any caller) in session c1, as GetSessionByPID says."""
        self.mock.AddMethod(MANAGER, "GetSessionByPID", "u", "o",
                            f'ret = "{SESSION_PATH}"')
        self.mock.AddSession(SESSION_ID, "seat0", self.dbus.UInt32(os.getuid()),
                             "tester", True)
        self.session_mock = self.dbus.Interface(
            self.conn.get_object(LOGIND, SESSION_PATH), MOCK)

    def inhibitors(self):
        """ListInhibitors as tuples of (what, who, why, mode)."""
        return [tuple(str(x) for x in inh[:4])
                for inh in self.manager.ListInhibitors()]

    def emit(self, name, signature, *args):
        """Emit a Manager signal from logind itself (the mock)."""
        self.mock.EmitSignal(MANAGER, name, signature, list(args))

    def unique_name(self, pid):
        """The unique bus name of the connection of process pid."""
        for name in self.driver.ListNames():
            if name.startswith(":"):
                try:
                    if int(self.driver.GetConnectionUnixProcessID(name)) == pid:
                        return str(name)
                except self.dbus.exceptions.DBusException:
                    pass
        raise AssertionError(f"pid {pid} has no connection to the bus")

    def close(self):
        """Stop the mock and the bus by their pids."""
        if self.mock_pid is not None:
            try:
                os.kill(self.mock_pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            left = conftest.wait_gone([self.mock_pid], WAIT)
            for pid in left:
                os.kill(pid, signal.SIGKILL)
            self.mock_pid = None
        stop_process(self.proc)
        self.proc.stdout.close()
        self.log.close()
        if self._tmp:
            if self.socket.exists():
                self.socket.unlink()
            os.rmdir(self._tmp)
            self._tmp = None


@pytest.fixture
def private_bus(workdir):
    """private_bus(logind=True) -> a PrivateBus, stopped at teardown."""
    buses = []

    def start(logind=True):
        bus = PrivateBus(workdir / f"bus{len(buses) or ''}", logind)
        buses.append(bus)
        return bus

    yield start
    for bus in buses:
        bus.close()


def logind_daemon(sx_daemon, bus, config):
    """Start the daemon on bus and wait until it holds the lock."""
    d = sx_daemon(config, env={"DBUS_SYSTEM_BUS_ADDRESS": bus.address})
    d.wait_ready()
    d.wait_log(r"logind: holding a delay lock for shutdown", WAIT)
    return d


def test_delay_lock_taken_at_start(private_bus, sx_daemon, conf, events):
    bus = private_bus()
    config = conf.program("a", "--check-fds", "--after", "0.5",
                          autorestart="always", start_secs=0)
    d = logind_daemon(sx_daemon, bus, config)
    assert bus.inhibitors() == [LOCK]
    # The template has no GetSessionByPID: no session, no logoff watch.
    d.wait_log(r"logind: no session to watch for logoff", WAIT)
    # A program started while the lock is held does not inherit it.
    since = d.mark()
    spawned = r"\ba: (?:STOPPED|EXITED|BACKOFF) -> \w+ \(pid (\d+)\)"
    pid = int(d.wait_log(spawned, WAIT, since=since).group(1))
    assert events.wait("a", "ready", pid=pid)["fds"] == []


def test_host_shutdown_stops_in_stages_then_releases(private_bus, sx_daemon,
                                                     conf, events):
    bus = private_bus()
    # web stops first (it depends on db); db lingers 1 s after its signal.
    config = (conf.daemon(shutdown_timeout=30) +
              conf.program("db", "--exit-delay", "1") +
              conf.program("web", depends_on="db"))
    d = logind_daemon(sx_daemon, bus, config)
    events.wait("db", "ready")
    events.wait("web", "ready")

    bus.emit("PrepareForShutdown", "b", True)
    d.wait_log(r"host shutdown: stopping every program", WAIT)
    events.wait("web", "signal", sig="TERM")
    web_exit = events.wait("web", "exit")
    db_term = events.wait("db", "signal", sig="TERM")
    assert db_term["t"] >= web_exit["t"]
    # db is still on its way out: the shutdown must keep waiting.
    assert bus.inhibitors() == [LOCK]
    events.wait("db", "exit")
    d.wait_log(r"logind: released the shutdown lock", WAIT)
    wait_until("the lock is gone", lambda: bus.inhibitors() == [])
    # The daemon itself stays until the manager stops it.
    assert d.returncode is None


def test_host_shutdown_during_own_shutdown_keeps_the_lock(private_bus,
                                                          sx_daemon, conf,
                                                          events):
    bus = private_bus()
    d = logind_daemon(sx_daemon, bus, conf.program("a", "--exit-delay", "1"))
    events.wait("a", "ready")
    d.signal("TERM")
    events.wait("a", "signal", sig="TERM")
    bus.emit("PrepareForShutdown", "b", True)
    # Releasing now would let the host go on while a still runs.
    d.wait_log(r"logind: keeping the lock until the daemon exits", WAIT)
    assert bus.inhibitors() == [LOCK]
    events.wait("a", "exit")
    assert d.wait_exit() == 0
    wait_until("the lock is gone", lambda: bus.inhibitors() == [])


def test_short_inhibit_delay_is_reported(private_bus, sx_daemon, conf, events):
    bus = private_bus()
    # logind's default InhibitDelayMaxSec is 5 s.
    bus.mock.AddProperty(MANAGER, "InhibitDelayMaxUSec",
                         bus.dbus.UInt64(5_000_000))
    d = logind_daemon(sx_daemon, bus, conf.daemon(shutdown_timeout=60) +
                      conf.program("a"))
    d.wait_log(r"notice: logind waits at most 5 s .* less than "
               r"shutdown_timeout \(60 s\)", WAIT)


def test_cancelled_shutdown_takes_the_lock_again(private_bus, sx_daemon, conf,
                                                 events):
    bus = private_bus()
    d = logind_daemon(sx_daemon, bus, conf.program("a") +
                      conf.program("off", autostart=False))
    first = events.wait("a", "ready")
    bus.emit("PrepareForShutdown", "b", True)
    events.wait("a", "exit")
    d.wait_log(r"logind: released the shutdown lock", WAIT)
    wait_until("the lock is gone", lambda: bus.inhibitors() == [])

    since = d.mark()
    bus.emit("PrepareForShutdown", "b", False)
    again = events.wait("a", "ready")
    assert again["pid"] != first["pid"]
    d.wait_log(r"logind: holding a delay lock for shutdown", WAIT,
               since=since)
    assert bus.inhibitors() == [LOCK]
    assert events.all("off") == []

    # The new lock works like the first one.
    bus.emit("PrepareForShutdown", "b", True)
    events.wait("a", "exit", pid=again["pid"])
    wait_until("the lock is gone", lambda: bus.inhibitors() == [])


def test_ignored_host_shutdown_releases_at_once(private_bus, sx_daemon, conf,
                                                events):
    bus = private_bus()
    d = logind_daemon(sx_daemon, bus, conf.daemon(on_host_shutdown="ignore") +
                      conf.program("a"))
    events.wait("a", "ready")
    bus.emit("PrepareForShutdown", "b", True)
    d.wait_log(r"logind: released the shutdown lock", WAIT)
    wait_until("the lock is gone", lambda: bus.inhibitors() == [])
    assert events.all("a", "signal") == []
    bus.emit("PrepareForShutdown", "b", False)
    wait_until("the lock is back", lambda: bus.inhibitors() == [LOCK])


def test_prepare_for_shutdown_from_another_sender_is_ignored(
        private_bus, sx_daemon, conf, events):
    bus = private_bus()
    d = logind_daemon(sx_daemon, bus, conf.program("a"))
    events.wait("a", "ready")
    dbus = bus.dbus

    def forged(destination=None):
        msg = dbus.lowlevel.SignalMessage(LOGIND_PATH, MANAGER,
                                          "PrepareForShutdown")
        msg.append(True, signature="b")
        if destination:
            msg.set_destination(destination)
        return msg

    # A broadcast from us: the bus matches the sender and drops it.
    bus.conn.send_message(forged())
    # Sent straight to the daemon, it gets past the bus, not the daemon.
    bus.conn.send_message(forged(bus.unique_name(d.pid)))
    bus.conn.flush()
    # One connection's messages arrive in order: once the direct one is
    # refused, the broadcast would have been seen already.
    d.wait_log(r"logind: ignored PrepareForShutdown from :", WAIT)
    assert len([line for line in d.lines if "ignored PrepareForShutdown"
                in line]) == 1
    assert not any("host shutdown" in line for line in d.lines)
    assert events.all("a", "signal") == []
    assert bus.inhibitors() == [LOCK]


@pytest.mark.parametrize("how", ["closing", "removed"])
def test_logoff_shuts_down(private_bus, sx_daemon, conf, events, how):
    bus = private_bus()
    bus.add_session()
    d = logind_daemon(sx_daemon, bus, conf.program("a"))
    events.wait("a", "ready")
    d.wait_log(rf"logind: watching session {SESSION_PATH} for logoff", WAIT)
    # Another session's end is none of ours.
    bus.emit("SessionRemoved", "so", "c2",
             bus.dbus.ObjectPath(f"{LOGIND_PATH}/session/c2"))
    if how == "closing":
        bus.session_mock.UpdateProperties(SESSION, {"State": "closing"})
    else:
        bus.emit("SessionRemoved", "so", SESSION_ID,
                 bus.dbus.ObjectPath(SESSION_PATH))
    d.wait_log(r"shutting down \(logoff\)", WAIT)
    events.wait("a", "signal", sig="TERM")
    assert d.wait_exit() == 0
    assert len([line for line in d.lines if ": logoff" in line]) == 1


def test_logoff_ignored_by_policy(private_bus, sx_daemon, conf, events):
    bus = private_bus()
    bus.add_session()
    d = logind_daemon(sx_daemon, bus, conf.daemon(on_logoff="ignore") +
                      conf.program("a"))
    events.wait("a", "ready")
    d.wait_log(r"logind: watching session .* for logoff", WAIT)
    bus.session_mock.UpdateProperties(SESSION, {"State": "closing"})
    d.wait_log(r"logoff ignored \(policy\)", WAIT)
    assert d.returncode is None
    assert events.all("a", "signal") == []


@pytest.mark.parametrize("where", ["no bus", "bus without logind"])
def test_no_logind_runs_normally(private_bus, sx_daemon, conf, events,
                                 workdir, where):
    if where == "no bus":
        address = no_bus(workdir)
    else:
        address = private_bus(logind=False).address
    d = sx_daemon(conf.program("a"),
                  env={"DBUS_SYSTEM_BUS_ADDRESS": address})
    d.wait_ready()
    events.wait("a", "ready")
    d.wait_log(r"info: no logind: host shutdown and logoff arrive only as "
               r"signals", WAIT)
    d.signal("TERM")
    events.wait("a", "exit")
    assert d.wait_exit() == 0
    assert len([line for line in d.lines if "no logind" in line]) == 1


def test_ready_waits_for_autostart_programs(sx_daemon, conf, workdir,
                                            notify_socket):
    (workdir / "late.py").write_text(
        "import os, socket, time\n"
        "time.sleep(1.5)\n"
        "a = os.environ['NOTIFY_SOCKET']\n"
        "a = '\\0' + a[1:] if a.startswith('@') else a\n"
        "s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)\n"
        "s.sendto(b'READY=1', a)\n"
        "time.sleep(1000)\n")
    config = (conf.program("late", command=f"{PYTHON} {{tmp}}/late.py",
                           ready="notify") +
              conf.program("oneshot", command="/bin/true", start_secs=0,
                           autorestart="never"))
    d = sx_daemon(config, env={"NOTIFY_SOCKET": notify_socket.path,
                               "DBUS_SYSTEM_BUS_ADDRESS": no_bus(workdir)})
    d.wait_ready()
    started = time.monotonic()
    ready = notify_socket.wait("READY", "1")
    # Not before the slow program is RUNNING, 1.5 s after it started.
    assert ready["_t"] - started >= 1.0
    d.wait_log(r"late: STARTING -> RUNNING")
