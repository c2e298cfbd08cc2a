"""pytest plugin: report every test as one TAP line on file descriptor 3.

Load it with `-p taplugin`.  It does nothing unless descriptor 3 is open when
it is imported (tests/integration/pytest.test points it at the standard
output that automake's tap-driver.sh reads, and sends everything else to
standard error).  One line per test, written when its teardown is done:

    ok N - NODEID
    not ok N - NODEID            followed by "# " lines: the failing phase,
                                 where and why (setup and teardown count)
    ok N - NODEID # SKIP REASON
    not ok N - NODEID # TODO REASON    expected failure (xfail)
    ok N - NODEID # TODO REASON        unexpected pass of a non-strict xfail

A collection error is a "not ok" line of its own.  The plan "1..N" follows
the last test; when nothing was collected there is no plan, so the run can
never look like a success.
"""

import os

TAP_FD = 3
MAX_DIAG_LINES = 30


def _tap_fd():
    """Return TAP_FD if it is open, keeping it from child processes."""
    try:
        os.fstat(TAP_FD)
    except OSError:
        return None
    os.set_inheritable(TAP_FD, False)
    return TAP_FD


# Checked at import, before pytest's output capture opens descriptors.
_FD = _tap_fd()


def _escape(text):
    """Escape a description so no '#' in it reads as a TAP directive."""
    return text.replace("\\", "\\\\").replace("#", "\\#").replace("\n", " ")


def _one_line(text):
    """Squeeze a reason onto one line."""
    return " ".join(str(text).split())


def _skip_reason(report):
    """Return the reason a test was skipped."""
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        reason = longrepr[2]
    else:
        reason = str(longrepr or "")
    if reason.startswith("Skipped: "):
        reason = reason[len("Skipped: "):]
    return _one_line(reason)


def _failure(report):
    """Return the short description of a failed phase, as lines."""
    longrepr = report.longrepr
    crash = getattr(longrepr, "reprcrash", None)
    if crash is not None:
        lines = [f"{report.when} failed at {crash.path}:{crash.lineno}:"]
        lines += crash.message.splitlines()
    else:
        text = str(longrepr or "").rstrip()
        lines = [f"{report.when} failed:"] + text.splitlines()[-10:]
    if len(lines) > MAX_DIAG_LINES:
        lines = lines[:MAX_DIAG_LINES] + ["..."]
    return lines


class TapReporter:
    """Writes the TAP stream as tests finish."""

    def __init__(self, fd):
        self.fd = fd
        self.count = 0
        self.reports = {}

    def emit(self, line):
        data = (line + "\n").encode("utf-8", "replace")
        while data:
            data = data[os.write(self.fd, data):]

    def result(self, ok, nodeid, directive=None, diag=()):
        self.count += 1
        line = f"{'ok' if ok else 'not ok'} {self.count} - {_escape(nodeid)}"
        if directive:
            line += f" # {directive}"
        self.emit(line)
        for text in diag:
            self.emit(f"# {text}")

    def pytest_collectreport(self, report):
        if report.failed:
            self.result(False, f"collecting {report.nodeid or 'tests'}",
                        diag=_failure(report))

    def pytest_runtest_logreport(self, report):
        self.reports.setdefault(report.nodeid, []).append(report)

    def pytest_runtest_logfinish(self, nodeid, location):
        reports = self.reports.pop(nodeid, [])
        failed = [r for r in reports if r.failed]
        skipped = [r for r in reports if r.skipped]
        call = [r for r in reports if r.when == "call"]
        if failed:
            diag = []
            for r in failed:
                diag += _failure(r)
            self.result(False, nodeid, diag=diag)
        elif skipped:
            r = skipped[0]
            if hasattr(r, "wasxfail"):
                self.result(False, nodeid,
                            f"TODO {_one_line(r.wasxfail)}".rstrip())
            else:
                self.result(True, nodeid, f"SKIP {_skip_reason(r)}".rstrip())
        elif call and hasattr(call[0], "wasxfail"):
            self.result(True, nodeid,
                        f"TODO {_one_line(call[0].wasxfail)}".rstrip())
        else:
            self.result(True, nodeid)

    def pytest_sessionfinish(self, session, exitstatus):
        if self.count > 0:
            self.emit(f"1..{self.count}")


def pytest_configure(config):
    if _FD is None or hasattr(config, "workerinput"):
        return
    config.pluginmanager.register(TapReporter(_FD), "tap-reporter")
