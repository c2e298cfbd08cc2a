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
- A supervisord.conf with keys safeexitd cannot honour (numprocs = 2,
  stdout_events_enabled, %(program_name)s...) and supervisord's own
  sections gets exactly one FILE:LINE error for each, from --check and on
  start.
- The key tables of docs/MIGRATION.md match the daemon: every key listed as
  working passes --check with the value shown, every key listed as rejected
  gets one error naming it, and each list covers the aliases and the
  rejected keys of daemon/config-keys.c.
"""

import os
import re
import signal
import subprocess
import time

import pytest

from conftest import SAFEEXITD, SRCDIR, daemon_env, pid_running

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
    # AUTO: the daemon's log; redirect_stderr sends stderr the same way.
    d.wait_log(r"scheduler stdout: scheduler-out-line")
    d.wait_log(r"scheduler \w+: scheduler-err-line")
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


# (line, what its error says, or None for a line without one).  The keys
# under a foreign section are not reported one by one: its header is.
UNSUPPORTED = [
    ("[supervisord]", None),
    ("logfile = /var/log/supervisor/supervisord.log", None),
    ("nodaemon = true", None),
    ("", None),
    ("[unix_http_server]", None),
    ("file = /run/supervisor.sock", None),
    ("", None),
    ("[program:web]", None),
    ("command = /usr/bin/env sleep 60", None),
    ("numprocs = 2", r"supervisord key 'numprocs' is not supported"),
    ("process_name = %(program_name)s_%(process_num)02d",
     r"process_name: supervisord %\(name\)s expansion is not supported"),
    ("stdout_events_enabled = true",
     r"supervisord key 'stdout_events_enabled' is not supported"),
    ("stdout_logfile = /var/log/%(program_name)s.log",
     r"stdout_logfile: supervisord %\(name\)s expansion is not supported"),
    ("stopsignal = TERM", None),
    ("", None),
    ("[program:worker]", None),
    ("command = /usr/bin/env sleep 60", None),
    ("stopasgroup = false", None),
    ("killasgroup = true", r"stopasgroup and killasgroup differ"),
    ('environment = HOME="%(ENV_HOME)s"',
     r"environment: supervisord %\(name\)s expansion is not supported"),
    ("stderr_capture_maxbytes = 1MB",
     r"supervisord key 'stderr_capture_maxbytes' is not supported"),
    ("", None),
    ("[group:shop]", None),
    ("programs = web,worker", None),
]


def test_unsupported_keys_get_one_error_each(workdir):
    path = workdir / "supervisord.conf"
    path.write_text("\n".join(line for line, _ in UNSUPPORTED) + "\n")
    expected = {i: rx for i, (_, rx) in enumerate(UNSUPPORTED, 1) if rx}

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
    """Return the quoted names in source between start and end."""
    i = source.find(start)
    assert i >= 0, f"{CONFIG_C.name}: {start!r} not found; update this test"
    block = source[i:source.index(end, i)]
    return re.findall(r'"([a-z_]+)"', block)


def test_migration_tables_match_the_daemon(workdir):
    doc = MIGRATION.read_text()
    works = table_rows(doc, "### Keys that work as they are")
    rejected = table_rows(doc, "### Keys that are rejected")

    path = workdir / "key.ini"
    for i, line in enumerate(works + rejected):
        body = [line] if line.startswith("command") else \
            ["command = /usr/bin/env true", line]
        path.write_text("\n".join(["[program:x]", *body]) + "\n")
        result = check(path)
        key = line.split("=")[0].strip()
        if i < len(works):
            assert result.returncode == 0 and result.stderr == "", \
                f"{line!r} is listed as working: {result.stderr}"
        else:
            assert result.returncode == 1, f"{line!r} is listed as rejected"
            found = problems(result, path)
            assert list(found) == [len(body) + 1] and \
                len(found[len(body) + 1]) == 1, result.stderr
            assert key in found[len(body) + 1][0], result.stderr

    # Every alias and every rejected key of the daemon is in the tables.
    source = CONFIG_C.read_text()
    # The aliases of each row ({ "startsecs" }) and the rows that are
    # supervisord keys with no safeexitd spelling.
    aliases = re.findall(r'"([a-z_]+)"', " ".join(
        re.findall(r'\{ ("[a-z_]+"(?:, "[a-z_]+")*) \}', source)))
    aliases += c_names(source, "/* supervisord keys with no",
                       "/* supervisord's own sections")
    unsupported = c_names(source, "supervisord_unsupported[] = {")
    listed_works = {line.split("=")[0].strip() for line in works}
    listed_rejected = {line.split("=")[0].strip() for line in rejected}
    assert aliases and unsupported
    assert not set(aliases) - listed_works - listed_rejected, \
        f"not in {MIGRATION.name}: {set(aliases) - listed_works}"
    assert not set(unsupported) - listed_rejected, \
        f"not in {MIGRATION.name}: {set(unsupported) - listed_rejected}"
