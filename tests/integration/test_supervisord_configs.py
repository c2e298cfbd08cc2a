"""Every supervisord config of the corpus, run by safeexitd unchanged.

tests/integration/supervisord-configs/ holds supervisord configs in the
style people publish, and expected/NAME.json what supervisord 4.2.5 did with
each (see the README there).  For every config: `safeexitd -n` accepts it;
then safeexitd runs it from a copy of the folder, and each process sees the
argv, environment, working directory, ids and umask that supervisord gave
it; on SIGTERM the daemon stops, the programs get the signals supervisord
sent them (stopsignal, stopasgroup, killasgroup), and nothing is left.

Deliberate differences, not compared (docs/MIGRATION.md lists them):
- descriptor 0: supervisord gives a pipe, safeexitd the null device;
- USER, LOGNAME and HOME of a program with `user =`: safeexitd sets them
  to the user's, supervisord leaves the daemon's;
- the order of signals within one shutdown stage.
"""
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from conftest import (SAFEEXITCTL, SAFEEXITD, SRCDIR, daemon_env, pid_running,
                      wait_for)

CORPUS = SRCDIR / "tests" / "integration" / "supervisord-configs"
CONFIGS = sorted(p.stem for p in CORPUS.glob("*.conf"))
# Environment a program of a user= section gets from safeexitd on purpose.
USER_ENV = {"USER", "LOGNAME", "HOME"}
WAIT = 60


def corpus_lines(text, key):
    """The values of the `; corpus-KEY:` lines of a config."""
    return [m.group(1).strip() for m in
            re.finditer(rf"^; corpus-{key}:(.*)$", text, re.M)]


def namespec(group, name):
    """A process as supervisorctl status names it."""
    if group is None or group == name:
        return name
    return f"{group}:{name}"


def records(path):
    """The JSON lines record.py appended so far."""
    out = []
    if path.exists():
        for line in path.read_text().splitlines():
            try:
                out.append(json.loads(line))
            except ValueError:
                pass
    return out


class Run:
    """One config, copied to a temporary folder, and its daemon."""

    def __init__(self, name):
        # A folder others may enter: a program of a user= section writes
        # its record there, as under supervisord.
        tmp_path = Path(tempfile.mkdtemp(prefix="sdcorpus-"))
        tmp_path.chmod(0o755)
        self.tmp = tmp_path
        self.name = name
        self.here = tmp_path / "corpus"
        shutil.copytree(CORPUS, self.here,
                        ignore=shutil.ignore_patterns("expected"))
        self.cwd = tmp_path / "cwd"
        self.cwd.mkdir()
        self.conf = self.here / f"{name}.conf"
        self.text = self.conf.read_text()
        self.record = tmp_path / "record.jsonl"
        self.record.touch()
        self.record.chmod(0o666)
        self.socket = tmp_path / "ctl.sock"
        self.log = tmp_path / "daemon.log"
        extra = {"RECORD_FILE": str(self.record), "LANG": "C.UTF-8"}
        for words in corpus_lines(self.text, "env"):
            for word in words.split():
                k, v = word.split("=", 1)
                extra[k] = v
        self.env = daemon_env(extra)
        self.expected = json.loads(
            (CORPUS / "expected" / f"{name}.json").read_text())
        self.proc = None

    def fill(self, value):
        """Put this run's folders in place of the corpus' placeholders."""
        if isinstance(value, list):
            return [self.fill(v) for v in value]
        return (value.replace("@HERE@", str(self.here))
                .replace("@TMP@", str(self.cwd))
                .replace("@HOST@", os.uname().nodename))

    def check(self):
        """safeexitd -n on the config, from the daemon's folder."""
        return subprocess.run([str(SAFEEXITD), "-n", "-c", str(self.conf)],
                              cwd=self.cwd, env=self.env, capture_output=True,
                              text=True, timeout=WAIT)

    def start(self):
        """Start the daemon in the foreground on the config as it is."""
        self.proc = subprocess.Popen(
            [str(SAFEEXITD), "-c", str(self.conf), "-s", str(self.socket)],
            cwd=self.cwd, env=self.env, stdin=subprocess.DEVNULL,
            stdout=open(self.log, "w"), stderr=subprocess.STDOUT)

    def starts(self):
        """The start records by process name, in order."""
        out = {}
        for r in records(self.record):
            if r.get("kind") == "start":
                out.setdefault(namespec(r.get("group"), r.get("label")),
                               []).append(r)
        return out

    def stop(self):
        """SIGTERM the daemon and wait for it; its exit status."""
        if self.proc is None or self.proc.poll() is not None:
            return None if self.proc is None else self.proc.returncode
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=WAIT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise

    def cleanup(self):
        """Kill what this run started that is still alive (a failed test)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        for r in records(self.record):
            if r.get("kind") == "start" and pid_running(r["pid"]):
                try:
                    os.kill(r["pid"], signal.SIGKILL)
                except OSError:
                    pass
        shutil.rmtree(self.tmp, ignore_errors=True)

    def daemon_log(self):
        return self.log.read_text() if self.log.exists() else ""


@pytest.fixture
def run(request):
    r = Run(request.param)
    yield r
    r.cleanup()


def differences(run, spec, want, got):
    """What differs between supervisord's record of a start and ours."""
    diffs = []
    for field in ("argv", "cwd", "uid", "gid", "umask"):
        w = run.fill(want[field]) if field in ("argv", "cwd") else want[field]
        if w != got[field]:
            diffs.append(f"{spec}: {field} {got[field]!r}, supervisord {w!r}")
    base = run.env
    ours = {k: v for k, v in got["env"].items() if base.get(k) != v}
    theirs = {k: run.fill(v) for k, v in want["env"].items()}
    ignore = USER_ENV if re.search(r"^user\s*=", run.text, re.M) else set()
    for k in sorted(set(ours) | set(theirs)):
        if k in ignore:
            continue
        if ours.get(k) != theirs.get(k):
            diffs.append(f"{spec}: env {k}={ours.get(k)!r}, supervisord "
                         f"{theirs.get(k)!r}")
    for k in want["env_absent"]:
        if k in got["env"] and k not in ignore:
            diffs.append(f"{spec}: env {k} set, supervisord unset")
    return diffs


@pytest.mark.parametrize("run", CONFIGS, indirect=True)
def test_config_runs_as_under_supervisord(run):
    result = run.check()
    assert result.returncode == 0, result.stderr

    expected = run.expected["processes"]
    run.start()
    # Every process supervisord started, started here too (as often, for
    # the restarts of autorestart and startretries).
    wanted = {spec: len(v) for spec, v in expected.items()}
    ctl = corpus_lines(run.text, "ctl")
    if ctl:
        first = {spec: 1 for spec in expected}
        wait_for(lambda: all(len(run.starts().get(s, [])) >= n
                             for s, n in first.items()), timeout=WAIT,
                 what=f"starts of {sorted(expected)}")
        for command in ctl:
            # supervisorctl waits for RUNNING; so does this, on status.
            subprocess.run([str(SAFEEXITCTL), "-s", str(run.socket),
                            *command.split()], env=run.env,
                           capture_output=True, timeout=WAIT)
    wait_for(lambda: all(len(run.starts().get(s, [])) >= n
                         for s, n in wanted.items()), timeout=WAIT,
             what=f"starts {wanted}, got "
                  f"{ {s: len(v) for s, v in run.starts().items()} }")
    # As supervisorctl status was stable before supervisord was stopped:
    # every program past STARTING (its signal handlers are in place).
    def settled():
        if run.proc.poll() is not None:
            return True         # a config whose listener ends the daemon
        out = subprocess.run([str(SAFEEXITCTL), "-s", str(run.socket),
                              "status"], env=run.env, capture_output=True,
                             text=True, timeout=WAIT).stdout
        return out and not re.search(r"\b(STARTING|BACKOFF)\b", out)
    wait_for(settled, timeout=WAIT, what="every program settled")
    diffs = []
    starts = run.starts()
    for spec, want in sorted(expected.items()):
        diffs += differences(run, spec, want[0], starts[spec][0])
    assert not diffs, "\n".join(diffs)
    assert set(starts) == set(expected), \
        f"processes: {sorted(starts)}, supervisord {sorted(expected)}"

    if "self-exit" in corpus_lines(run.text, "expect"):
        # Its listener stops the daemon, as it stopped supervisord.
        rc = run.proc.wait(timeout=WAIT)
        assert rc == run.expected["daemon_exit"]["code"], run.daemon_log()
    else:
        rc = run.stop()
        assert rc == 0, run.daemon_log()
    # The signals supervisord's stop sent to each process.
    got = sorted((namespec(r.get("group"), r.get("label")), r["signal"])
                 for r in records(run.record) if r.get("kind") == "signal")
    want = sorted((s["process"], s["signal"]) for s in run.expected["signals"])
    assert got == want, run.daemon_log()[-3000:]
    # Nothing left running.
    time.sleep(0.2)
    left = [namespec(r.get("group"), r.get("label"))
            for r in records(run.record)
            if r.get("kind") == "start" and pid_running(r["pid"])]
    assert not left, f"left running: {left}"


@pytest.mark.parametrize("run", ["group"], indirect=True)
def test_group_names_work_in_commands(run):
    """`G:*`, `G:` and `G:P` as supervisorctl takes them."""
    run.start()
    wait_for(lambda: {"web:app", "cron"} <= set(run.starts()), timeout=WAIT,
             what="web:app and cron")
    ctl = [str(SAFEEXITCTL), "-s", str(run.socket)]

    def ctl_run(*args):
        return subprocess.run([*ctl, *args], capture_output=True, text=True,
                              env=run.env, timeout=WAIT)

    wait_for(lambda: ctl_run("status", "web:*").stdout.count("RUNNING") == 2,
             timeout=WAIT, what="web:* RUNNING")
    out = ctl_run("status", "web:").stdout
    assert "web:app" in out and "web:static" in out and "cron" not in out
    r = ctl_run("stop", "web:*")
    assert r.returncode == 0, r.stderr
    out = ctl_run("status").stdout
    assert re.search(r"^web:app\s+STOPPED", out, re.M), out
    assert re.search(r"^web:static\s+STOPPED", out, re.M), out
    assert re.search(r"^cron\s+RUNNING", out, re.M), out
    r = ctl_run("start", "web:app")
    assert r.returncode == 0, r.stderr
    assert re.search(r"^web:app\s+RUNNING", ctl_run("status").stdout, re.M)
    r = ctl_run("status", "nosuch")
    assert r.returncode != 0
    assert run.stop() == 0


@pytest.mark.parametrize("run", ["full-sections"], indirect=True)
def test_client_finds_the_socket_of_a_supervisord_config(run):
    """supervisorctl -c FILE finds supervisord from FILE: so should this."""
    env = dict(run.env)
    run.proc = subprocess.Popen([str(SAFEEXITD), "-c", str(run.conf)],
                                cwd=run.cwd, env=env,
                                stdin=subprocess.DEVNULL,
                                stdout=open(run.log, "w"),
                                stderr=subprocess.STDOUT)
    sock = re.search(r"^file\s*=\s*(\S+)", run.text, re.M).group(1)
    sock = Path(sock.replace("%(here)s", str(run.here)))
    wait_for(sock.exists, timeout=WAIT, what=f"{sock}")
    # start waits until RUNNING: the client found the daemon through FILE.
    r = subprocess.run([str(SAFEEXITCTL), "-c", str(run.conf), "start", "api"],
                       capture_output=True, text=True, env=env, timeout=WAIT)
    assert r.returncode == 0, r.stderr
    r = subprocess.run([str(SAFEEXITCTL), "-c", str(run.conf), "status",
                        "api"],
                       capture_output=True, text=True, env=env, timeout=WAIT)
    assert re.search(r"^api\s+RUNNING", r.stdout, re.M), r.stderr
    assert run.stop() == 0


def test_minfds_raises_the_limit_programs_get(tmp_path):
    """[supervisord] minfds: the soft limit of open files is raised at
    start, as supervisord does, and the programs inherit it; a limit above
    the hard one it cannot raise is an error at start."""
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or hard < 400:
        pytest.skip("needs a finite hard limit of open files")
    out = tmp_path / "nofile"
    conf = tmp_path / "supervisord.conf"

    def start(minfds):
        conf.write_text(
            "[supervisord]\n"
            "nodaemon = true\n"
            f"minfds = {minfds}\n"
            "[program:limits]\n"
            f"command = /bin/sh -c 'ulimit -n > {out}; exec sleep 60'\n"
            "startsecs = 0\n")
        # The daemon starts with a soft limit below what minfds asks.
        return subprocess.Popen(
            [str(SAFEEXITD), "-c", str(conf), "-s",
             str(tmp_path / "ctl.sock")], cwd=tmp_path, env=daemon_env(),
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE, text=True,
            preexec_fn=lambda: resource.setrlimit(
                resource.RLIMIT_NOFILE, (hard - 300, hard)))

    proc = start(hard - 100)
    try:
        wait_for(lambda: out.exists() and out.read_text().strip(),
                 timeout=WAIT, what="the program's limit")
        assert int(out.read_text()) == hard - 100
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=WAIT) == 0
    out.unlink()
    # Above the hard limit: refused at start (unless root may raise it).
    proc = start(hard + 100)
    try:
        rc = proc.wait(timeout=WAIT)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=WAIT)
        pytest.skip("this root may raise the hard limit")
    assert rc == 1
    assert "minfds" in proc.stderr.read()
    assert not out.exists()


def test_client_finds_unix_http_server_file_with_expansions(tmp_path):
    """With no [supervisorctl] serverurl, safeexitctl -c FILE uses
    [unix_http_server] file, %(ENV_X)s and %(here)s expanded as the daemon
    expands them."""
    (tmp_path / "run").mkdir()
    conf = tmp_path / "supervisord.conf"
    conf.write_text(
        "[unix_http_server]\n"
        "file=%(here)s/%(ENV_SOCKDIR)s/sv.sock\n"
        "[program:x]\n"
        "command=/bin/sleep 1000\n"
        "startsecs=0\n")
    env = daemon_env()
    env["SOCKDIR"] = "run"
    proc = subprocess.Popen([str(SAFEEXITD), "-c", str(conf)], env=env,
                            stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        sock = tmp_path / "run" / "sv.sock"
        wait_for(sock.exists, timeout=WAIT, what=str(sock))
        r = subprocess.run([str(SAFEEXITCTL), "-c", str(conf), "start", "x"],
                           capture_output=True, text=True, env=env,
                           timeout=WAIT)
        assert r.returncode == 0, r.stderr
        del env["SOCKDIR"]
        r = subprocess.run([str(SAFEEXITCTL), "-c", str(conf), "status"],
                           capture_output=True, text=True, env=env,
                           timeout=WAIT)
        assert r.returncode == 2 and "unset variable" in r.stderr, r.stderr
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=WAIT) == 0
