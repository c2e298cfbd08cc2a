"""Migration from supervisord: examples/supervisord/supervisord.conf and
docs/MIGRATION.md against the real daemon.

- The example passes `safeexitd --check` as it is shipped, and uses the
  supervisord spellings it is there to show.
- A variant of it, whose commands are test children and whose paths point
  into the test's folder (every other line as shipped), runs: every program
  reaches RUNNING, and each alias takes effect: stopsignal and stopwaitsecs
  (a child that ignores its stop signal is killed after exactly that
  grace), stopasgroup/killasgroup (the grandchild gets the signal, or not),
  startsecs, autorestart = unexpected with exitcodes, redirect_stderr,
  stdout_logfile (a path, AUTO, NONE), stderr_logfile, the maxbytes and
  backups of a log, environment, directory, umask, and priority in the
  staged stop.
- A supervisord.conf with supervisord's own sections, expansions and
  numprocs is taken; each real mistake in it (an unknown user, an unset
  variable, an unknown key, a malformed header...) gets exactly one
  FILE:LINE error, from --check and on start.
- The key table of docs/MIGRATION.md matches the daemon: every key listed
  passes --check with the value shown, and the table covers the aliases and
  supervisord-only keys of daemon/config-keys.c.
"""

import glob
import os
import re
import signal
import subprocess
import time

import pytest

from pathlib import Path

from conftest import SAFEEXITD, SRCDIR, daemon_env, pid_running, wait_for

EXAMPLE = SRCDIR / "examples" / "supervisord" / "supervisord.conf"
MIGRATION = SRCDIR / "docs" / "MIGRATION.md"
CONFIG_C = SRCDIR / "daemon" / "config-keys.c"
WAIT = 30

# The supervisord spellings the example is meant to show.
SPELLINGS = ["startsecs", "startretries", "stopsignal", "stopwaitsecs",
             "stopasgroup", "killasgroup", "redirect_stderr",
             "stdout_logfile", "stdout_logfile_maxbytes",
             "stdout_logfile_backups", "stderr_logfile",
             "stderr_logfile_maxbytes", "stderr_logfile_backups",
             "environment", "directory", "umask", "exitcodes", "priority"]
# Where the example's paths point on a real host.
LOG_DIR = "/var/log/shop"
APP_DIR = "/srv/shop"


def check(path):
    """Run safeexitd --check -c path; return the CompletedProcess."""
    return subprocess.run([str(SAFEEXITD), "--check", "-c", str(path)],
                          capture_output=True, text=True, timeout=WAIT,
                          stdin=subprocess.DEVNULL, env=daemon_env())


def problems(result, path):
    """Return {line: [message, ...]} of the FILE:LINE lines on stderr.

    Fails on any stderr line of another shape, or naming another file.
    """
    found = {}
    for line in result.stderr.splitlines():
        m = re.match(rf"^{re.escape(str(path))}:(\d+): (.+)$", line)
        assert m, f"not a FILE:LINE: message line: {line!r}"
        found.setdefault(int(m.group(1)), []).append(m.group(2))
    return found


def program_sections(text):
    """Return {name: {key: value}} of the [program:x] sections of text."""
    programs = {}
    current = None
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped[0] in ";#":
            continue
        m = re.match(r"^\[program:([^\]]+)\]$", stripped)
        if m:
            current = programs.setdefault(m.group(1), {})
            continue
        if stripped.startswith("["):
            current = None
            continue
        key, sep, value = stripped.partition("=")
        if current is not None and sep and not line[0].isspace():
            current[key.strip().lower()] = value.strip()
    return programs


def env_pairs(value):
    """Return the KEY="value" pairs of a supervisord environment value."""
    return dict(re.findall(r'(\w+)="([^"]*)"', value))


def print_env(pairs):
    """Return the test child's options to record each variable of pairs."""
    return [word for var in pairs for word in ("--print-env", var)]


def variant(text, commands, replace=()):
    """Return the example with test commands and paths, for Conf placeholders.

    Each [program:x] command becomes commands[x]; replace holds (program,
    old line, new line) for the few values a test run cannot use as they
    are.  Every other line stays as shipped.
    """
    text = text.replace("{", "{{").replace("}", "}}")
    out = []
    current = None
    skipping = False
    for line in text.splitlines():
        m = re.match(r"^\s*\[program:([^\]]+)\]", line)
        if m:
            current = m.group(1)
        if skipping and line[:1].isspace() and line.strip():
            continue            # a continuation line of the old command
        skipping = False
        if current is not None and re.match(r"^command\s*=", line):
            line = f"command = {commands[current]}"
            skipping = True
        for prog, old, new in replace:
            if prog == current and line.strip() == old:
                line = new
        out.append(line)
    return "\n".join(out) + "\n"


def read_logs(base):
    """Return the text of a log file and its rotated copies, or ''."""
    text = ""
    for path in sorted(base.parent.glob(base.name + "*")):
        text += path.read_text(errors="replace")
    return text


def test_example_is_valid_and_uses_supervisord_spellings():
    text = EXAMPLE.read_text()
    result = check(EXAMPLE)
    assert result.returncode == 0, result.stderr
    assert result.stderr == "" and result.stdout == ""

    programs = program_sections(text)
    assert len(programs) >= 3
    used = {key for keys in programs.values() for key in keys}
    assert not [k for k in SPELLINGS if k not in used], \
        f"the example no longer shows {sorted(set(SPELLINGS) - used)}"
    assert any(v.get("autorestart") == "unexpected" for v in programs.values())
    # supervisord's own sections are not ours: the example has none.
    sections = re.findall(r"^\s*\[([^\]]+)\]", text, re.M)
    assert all(s.startswith("program:") for s in sections), sections


@pytest.mark.test_timeout(120)
def test_example_runs_and_every_alias_takes_effect(daemon_factory, conf,
                                                   events, workdir):
    shipped = EXAMPLE.read_text()
    keys = program_sections(shipped)
    assert set(keys) == {"web", "worker", "scheduler", "nginx"}, \
        "this test knows the example's four programs; update both together"
    logs = workdir / "log"
    app = workdir / "shop"
    logs.mkdir()
    app.mkdir()

    web, worker, sched, nginx = (keys[n] for n in
                                 ("web", "worker", "scheduler", "nginx"))
    web_env = env_pairs(web["environment"])
    worker_env = env_pairs(worker["environment"])
    worker_sig = worker["stopsignal"].upper()
    grace = float(worker["stopwaitsecs"])
    codes = [int(c) for c in re.split(r"[,\s]+", sched["exitcodes"]) if c]
    expected_code = max(codes)
    unexpected_code = max(codes) + 1
    assert expected_code != 0

    commands = {
        "web": conf.command("--fork-grandchild", *print_env(web_env),
                            "--stdout", "web-out-line",
                            "--stderr", "web-err-line",
                            "--flood", 6000, tag="web"),
        "worker": conf.command("--ignore", worker_sig,
                               *print_env(worker_env),
                               "--stdout", "worker-out-line",
                               "--stderr", "worker-err-line", tag="worker"),
        "scheduler": conf.command("--exit-on", f"USR1:{expected_code}",
                                  "--exit-on", f"USR2:{unexpected_code}",
                                  "--stdout", "scheduler-out-line",
                                  "--stderr", "scheduler-err-line",
                                  tag="scheduler"),
        "nginx": conf.command("--fork-grandchild",
                              "--stdout", "nginx-out-line",
                              "--stderr", "nginx-err-line", tag="nginx"),
    }
    # 50MB would never rotate here: a small size shows the key works.
    rotate = ("web", f"stdout_logfile_maxbytes = "
              f"{web['stdout_logfile_maxbytes']}",
              "stdout_logfile_maxbytes = 1KB")
    text = variant(shipped, commands, [rotate])
    text = text.replace(LOG_DIR, str(logs)).replace(APP_DIR, str(app))
    assert LOG_DIR not in text and APP_DIR not in text
    d = daemon_factory(text)

    ready = {name: events.wait(name, "ready") for name in keys}
    running_at = {}
    for name in keys:
        d.wait_state(name, "RUNNING", timeout=WAIT)
        running_at[name] = time.monotonic()
    assert all(st["state"] == "RUNNING" for st in d.status().values())

    # startsecs: RUNNING only after that long.
    startsecs = float(web["startsecs"])
    assert running_at["web"] - ready["web"]["t"] >= startsecs - 0.5

    # directory (nginx has none: safeexitd's default, /), umask, environment.
    for name in ("web", "worker", "scheduler"):
        assert ready[name]["cwd"] == str(app), ready[name]
    assert ready["nginx"]["cwd"] == "/"
    assert ready["scheduler"]["umask"] == int(sched["umask"], 8)
    assert ready["web"]["umask"] == 0o022
    for name, pairs in (("web", web_env), ("worker", worker_env)):
        for var, value in pairs.items():
            ev = events.wait(name, "env", name=var)
            assert ev["set"] == 1 and ev["value"] == value, ev

    # redirect_stderr and stdout_logfile with maxbytes: both streams in one
    # file, rotated into FILE.1...; backups bounds the copies.
    events.wait("web", "flooded")
    web_log = logs / "web.log"
    wait_for_text(web_log, "web-out-line", "web-err-line")
    rotated = sorted(p.name for p in logs.glob("web.log.*"))
    assert "web.log.1" in rotated
    assert len(rotated) <= int(web["stdout_logfile_backups"])
    # stdout_logfile and stderr_logfile: a file each.
    wait_for_text(logs / "worker.log", "worker-out-line")
    wait_for_text(logs / "worker.err.log", "worker-err-line")
    assert "worker-err-line" not in read_logs(logs / "worker.log")
    # AUTO: a file in the temporary folder named as supervisord names it;
    # redirect_stderr sends stderr the same way.
    tmp = os.environ.get("TMPDIR") or "/tmp"
    if not tmp.startswith("/"):
        tmp = "/tmp"
    auto = None

    def auto_file():
        nonlocal auto
        found = glob.glob(f"{tmp}/scheduler-stdout---supervisor-*.log")
        auto = found[0] if found else None
        return auto is not None
    wait_for(auto_file, timeout=WAIT, what="the AUTO log of scheduler")
    try:
        wait_for_text(Path(auto), "scheduler-out-line", "scheduler-err-line")
    finally:
        os.unlink(auto)
    # NONE: stdout is gone; stderr_logfile still gets stderr.
    wait_for_text(logs / "nginx.err.log", "nginx-err-line")
    assert "nginx-out-line" not in d.tail(100000)
    assert not any("nginx-out-line" in p.read_text(errors="replace")
                   for p in logs.iterdir())

    # autorestart = unexpected: an exit code in exitcodes is final...
    mark = d.mark()
    assert d.ctl("signal", "USR1", "scheduler").returncode == 0
    events.wait("scheduler", "exit", code=expected_code)
    d.wait_state("scheduler", "EXITED", since=mark)
    events.wait_none("scheduler", "ready", timeout=1.5)
    st = d.status("scheduler")["scheduler"]
    assert st["state"] == "EXITED" and st["exit_code"] == expected_code
    # ...any other is restarted at once.
    assert d.ctl("start", "scheduler").returncode == 0
    events.wait("scheduler", "ready")
    mark = d.mark()
    assert d.ctl("signal", "USR2", "scheduler").returncode == 0
    events.wait("scheduler", "exit", code=unexpected_code)
    events.wait("scheduler", "ready")
    d.wait_state("scheduler", "RUNNING", since=mark)

    # The staged stop: priority 300 (nginx) first, then 200 (worker,
    # scheduler), then 100 (web), each with its own stopsignal.
    nginx_gc = events.wait("nginx.gc", "ready")
    mark = d.mark()
    assert d.ctl("stop", "all", timeout=WAIT + grace).returncode == 0
    nginx_sig = events.wait("nginx", "signal", sig=nginx["stopsignal"])
    nginx_exit = events.wait("nginx", "exit")
    worker_sig_ev = events.wait("worker", "signal", sig=worker_sig)
    sched_sig = events.wait("scheduler", "signal", sig=sched["stopsignal"])
    web_sig = events.wait("web", "signal", sig=web["stopsignal"])
    web_gc_sig = events.wait("web.gc", "signal", sig=web["stopsignal"])
    assert worker_sig_ev["t"] >= nginx_exit["t"]
    assert sched_sig["t"] >= nginx_exit["t"]
    assert abs(worker_sig_ev["t"] - sched_sig["t"]) < 1.0
    # stopwaitsecs: the worker ignores its signal and holds its stage for
    # exactly its grace, then gets KILL; web's stage follows.
    d.wait_log(rf"worker: still running after {grace:g}s; sending KILL",
               since=mark)
    assert web_sig["t"] - worker_sig_ev["t"] >= grace - 0.1
    assert web_sig["t"] - worker_sig_ev["t"] < grace + 5
    assert events.all("worker", "exit") == []
    st = d.status()
    assert st["worker"]["signal"] == "KILL"
    assert all(p["state"] == "STOPPED" for p in st.values()), st
    # stopasgroup/killasgroup = true: web's grandchild got the signal too;
    # = false: nginx's did not.
    assert abs(web_gc_sig["t"] - web_sig["t"]) < 1.0
    events.wait_none("nginx.gc", "signal", timeout=1)
    assert nginx_sig["t"] <= nginx_exit["t"]

    # The grandchild left behind by design; the daemon reaps it.
    assert pid_running(nginx_gc["pid"])
    os.kill(nginx_gc["pid"], signal.SIGTERM)
    events.wait("nginx.gc", "exit")


def wait_for_text(path, *needles, timeout=WAIT):
    """Wait until a log file (with its rotated copies) holds every needle."""
    deadline = time.monotonic() + timeout
    while True:
        text = read_logs(path)
        if all(n in text for n in needles):
            return text
        if time.monotonic() >= deadline:
            raise AssertionError(f"{path}: no {needles} within {timeout} s; "
                                 f"it holds:\n{text[-2000:]}")
        time.sleep(0.02)


# (line, what its error says, or None for a line without one).  A
# supervisord config with supervisord's own sections, every expansion and
# numprocs is taken; only real mistakes are errors, each at its line.
MISTAKES = [
    ("[supervisord]", None),
    ("logfile = %(here)s/supervisord.log", None),
    ("nodaemon = true", None),
    ("user = TODO", r"user: no such user 'TODO'"),
    ("", None),
    ("[unix_http_server]", None),
    ("file = %(here)s/supervisor.sock", None),
    ("", None),
    ("[program:web]", None),
    ("command = /usr/bin/env sleep 60", None),
    ("numprocs = 2", r"process_name: numprocs = 2 needs %\(process_num\)"),
    ("stdout_events_enabled = true", None),
    ("stdout_logfile = %(here)s/%(program_name)s.log", None),
    ("stopsignal = TERM", None),
    ("", None),
    ("[program:worker]", None),
    ("command = /usr/bin/env sleep %(ENV_NO_SUCH_VARIABLE)s",
     r"command: %\(ENV_NO_SUCH_VARIABLE\)s: environment variable "
     r"NO_SUCH_VARIABLE is not set"),
    ("process_name = %(program_name)s_%(process_num)02d", None),
    ("numprocs = 2", None),
    ("stopasgroup = true", None),
    ("killasgroup = false", r"killasgroup: cannot be false with stopasgroup"),
    ('environment = HOME="%(ENV_HOME)s",N="%(nope)s"',
     r"environment: unknown expansion '%\(nope\)s'"),
    ("stderr_capture_maxbytes = 1MB", None),
    ("stdout_logfiel = x", r"unknown key 'stdout_logfiel'"),
    ("", None),
    ("[group:shop]", None),
    ("programs = web,worker", None),
    ("[program:broken", r"malformed section header '\[program:broken'"),
]


def test_mistakes_get_one_error_each(workdir):
    path = workdir / "supervisord.conf"
    path.write_text("\n".join(line for line, _ in MISTAKES) + "\n")
    expected = {i: rx for i, (_, rx) in enumerate(MISTAKES, 1) if rx}

    result = check(path)
    assert result.returncode == 1
    assert result.stdout == ""
    found = problems(result, path)
    assert sorted(found) == sorted(expected), result.stderr
    for line, rx in expected.items():
        assert len(found[line]) == 1, found[line]
        assert re.search(rx, found[line][0]), (line, found[line][0])

    # Starting the daemon on it reports the same and starts nothing.
    run = subprocess.run([str(SAFEEXITD), "-c", str(path), "-s",
                          str(workdir / "ctl.sock")],
                         capture_output=True, text=True, timeout=WAIT,
                         stdin=subprocess.DEVNULL, env=daemon_env(),
                         cwd=workdir)
    assert run.returncode == 1
    assert run.stderr == result.stderr
    assert not (workdir / "ctl.sock").exists()


def table_rows(doc, heading):
    """Return the `key = value` first cells of the table under heading."""
    m = re.search(rf"^{re.escape(heading)}\n(.*?)(?=^#)", doc, re.M | re.S)
    assert m, f"{MIGRATION.name}: no section {heading!r}"
    rows = re.findall(r"^\| `([^`]+ = [^`]*)` \|", m.group(1), re.M)
    assert rows, f"{MIGRATION.name}: no table rows under {heading!r}"
    return rows


def c_names(source, start, end="};"):
    """Return the names of the rows in source between start and end."""
    i = source.find(start)
    assert i >= 0, f"{CONFIG_C.name}: {start!r} not found; update this test"
    block = source[i:source.index(end, i)]
    return re.findall(r'\{ "([a-z_]+)"', block)


def test_migration_tables_match_the_daemon(workdir):
    doc = MIGRATION.read_text()
    works = table_rows(doc, "## Program keys")

    path = workdir / "key.ini"
    for line in works:
        body = [line] if line.startswith("command") else \
            ["command = /usr/bin/env true", line]
        path.write_text("\n".join(["[program:x]", *body]) + "\n")
        result = check(path)
        errors = [ln for ln in result.stderr.splitlines()
                  if ": warning: " not in ln]
        assert result.returncode == 0 and not errors, \
            f"{line!r} is listed as working: {result.stderr}"

    # Every alias and every supervisord-only program key of the daemon is
    # in the table.
    source = CONFIG_C.read_text()
    aliases = re.findall(r'"([a-z_]+)"', " ".join(
        re.findall(r'\{ ("[a-z_]+"(?:, "[a-z_]+")*) \}', source)))
    aliases += c_names(source, "/* supervisord keys with no",
                       "/* supervisord's own sections")
    listed = {line.split("=")[0].strip() for line in works}
    assert aliases
    assert not set(aliases) - listed, \
        f"not in {MIGRATION.name}: {set(aliases) - listed}"
