"""/metrics: OpenMetrics text (docs/HTTP.md), over [inet_http_server]'s TCP
port and over the control socket, fetched with curl and read with the
OpenMetrics parser of python3-prometheus-client, which refuses text that
breaks the format (families, TYPE and UNIT lines, counters' _total, label
escaping, the final # EOF).
"""

import json
import os
import shutil
import socket
import subprocess

import pytest

from prometheus_client.openmetrics.parser import text_string_to_metric_families

CTYPE = "application/openmetrics-text; version=1.0.0; charset=utf-8"
QUICK = 0.2

pytestmark = pytest.mark.skipif(shutil.which("curl") is None,
                                reason="curl is not installed")


def free_port():
    """A TCP port nobody listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def curl(*args):
    """Run curl; (status, content type, body) of the response."""
    r = subprocess.run(["curl", "-sS", "--max-time", "30", "-o", "-",
                        "-w", "\n%{http_code} %{content_type}", *args],
                       capture_output=True, text=True, timeout=60, check=True)
    body, _, tail = r.stdout.rpartition("\n")
    code, _, ctype = tail.partition(" ")
    return int(code), ctype, body


def parse(text):
    """The samples of an OpenMetrics text: {(name, labels...): value}."""
    samples = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            samples[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return samples


def sample(samples, name, **labels):
    return samples[(name, tuple(sorted(labels.items())))]


def start(daemon_factory, conf):
    """A daemon with db and app (app depends on db) and the HTTP port."""
    port = free_port()
    d = daemon_factory("[inet_http_server]\nport = 127.0.0.1:%d\n\n" % port +
                       conf.program("db", start_secs=QUICK) +
                       conf.program("app", depends_on="db", start_secs=QUICK) +
                       conf.program("idle", autostart=False))
    d.wait_ready()
    d.wait_state("db", "RUNNING")
    d.wait_state("app", "RUNNING")
    return d, port


def test_metrics_over_tcp(daemon_factory, conf):
    d, port = start(daemon_factory, conf)
    code, ctype, text = curl("http://127.0.0.1:%d/metrics" % port)
    assert code == 200
    assert ctype == CTYPE
    assert text.endswith("# EOF\n")
    samples = parse(text)
    for name in ("db", "app"):
        assert sample(samples, "safeexitd_program_state", program=name,
                      safeexitd_program_state="RUNNING") == 1
        assert sample(samples, "safeexitd_program_state", program=name,
                      safeexitd_program_state="STOPPED") == 0
        assert sample(samples, "safeexitd_program_up", program=name) == 1
        assert sample(samples, "safeexitd_program_restarts_total",
                      program=name) == 0
        assert sample(samples, "safeexitd_program_uptime_seconds",
                      program=name) > 0
        assert sample(samples, "safeexitd_program_cpu_seconds_total",
                      program=name) >= 0
        assert sample(samples, "safeexitd_program_memory_bytes",
                      program=name) > 0
        assert sample(samples, "safeexitd_program_oom_kills_total",
                      program=name) == 0
    assert sample(samples, "safeexitd_program_up", program="idle") == 0
    assert sample(samples, "safeexitd_program_uptime_seconds",
                  program="idle") == 0
    assert sample(samples, "safeexitd_programs", state="RUNNING") == 2
    assert sample(samples, "safeexitd_programs", state="STOPPED") == 1
    # No staged stop yet: nothing about one.
    assert not any(k[0].startswith("safeexitd_last_stop") for k in samples)
    # The numbers agree with status --json.
    status = d.status()
    assert sample(samples, "safeexitd_program_memory_bytes", program="db") > 0
    assert status["db"]["state"] == "RUNNING"


def test_metrics_over_the_socket_after_a_staged_stop(daemon_factory, conf):
    d, port = start(daemon_factory, conf)
    r = d.ctl("stop", "db")     # app depends on db: two stages
    assert r.returncode == 0, r.stderr
    d.wait_state("db", "STOPPED")
    code, ctype, text = curl("--unix-socket", str(d.socket),
                             "http://localhost/metrics")
    assert code == 200
    assert ctype == CTYPE
    assert text.endswith("# EOF\n")
    samples = parse(text)
    for name in ("db", "app"):
        assert sample(samples, "safeexitd_program_state", program=name,
                      safeexitd_program_state="STOPPED") == 1
        assert sample(samples, "safeexitd_program_up", program=name) == 0
    assert sample(samples, "safeexitd_programs", state="STOPPED") == 3
    total = sample(samples, "safeexitd_last_stop_duration_seconds")
    one = sample(samples, "safeexitd_last_stop_stage_duration_seconds",
                 stage="1")
    two = sample(samples, "safeexitd_last_stop_stage_duration_seconds",
                 stage="2")
    assert 0 <= one <= total and 0 <= two <= total
    assert one + two == pytest.approx(total, abs=0.05)
    assert sample(samples, "safeexitd_last_stop_killed_programs") == 0
    assert sample(samples, "safeexitd_last_stop_timestamp_seconds") > 1.6e9
    # HEAD is answered, other methods are not.
    code, _, _ = curl("-X", "POST", "--unix-socket", str(d.socket),
                      "http://localhost/metrics")
    assert code == 405


def test_metrics_kill_is_counted(daemon_factory, conf):
    port = free_port()
    d = daemon_factory("[inet_http_server]\nport = 127.0.0.1:%d\n\n" % port +
                       conf.program("stubborn", "--ignore", "TERM",
                                    stop_timeout=0.5, start_secs=QUICK))
    d.wait_ready()
    d.wait_state("stubborn", "RUNNING")
    assert d.ctl("stop", "stubborn").returncode == 0
    d.wait_state("stubborn", "STOPPED")
    _, _, text = curl("http://127.0.0.1:%d/metrics" % port)
    samples = parse(text)
    assert sample(samples, "safeexitd_last_stop_killed_programs") == 1
    assert sample(samples, "safeexitd_last_stop_stage_duration_seconds",
                  stage="1") >= 0.5
    timeline = json.loads(curl("http://127.0.0.1:%d/timeline.json" % port)[2])
    (p,) = timeline["programs"]
    assert p["name"] == "stubborn" and p["kill"] >= 0.5
    assert p["how"] == "signal KILL" and p["end"] == "exited"


def test_last_shutdown_is_kept_across_a_restart(daemon_factory, conf):
    """The daemon's own shutdown is saved next to its state file and shown
    by the next daemon, marked as restored."""
    d, port = start(daemon_factory, conf)
    assert d.stop() == []
    assert os.path.exists(d.socket + ".timeline")
    mark = d.mark()
    d.start()
    d.wait_ready(since=mark)
    d.wait_state("app", "RUNNING", since=mark)
    _, _, text = curl("http://127.0.0.1:%d/timeline.json" % port)
    timeline = json.loads(text)
    assert timeline["reason"] == "shutdown" and timeline["restored"]
    assert timeline["finished"] and len(timeline["stages"]) == 2
    assert {p["name"]: p["end"] for p in timeline["programs"]} == {
        "db": "exited", "app": "exited", "idle": "not-running"}
    samples = parse(curl("http://127.0.0.1:%d/metrics" % port)[2])
    assert sample(samples, "safeexitd_last_stop_duration_seconds") >= 0
