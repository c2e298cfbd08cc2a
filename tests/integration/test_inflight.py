"""What is in flight survives a re-exec or a crash, and a cause survives a stop.

`reexec` and a crash of the daemon must continue everything where it was:
a stop in its grace period still ends with kill_signal, a STARTING program
stays STARTING until start_secs, a program backing off keeps its retry
count.  A program that could not start (missing directory) shows why, not
a bare exit 127, even once stopped.
"""

import signal

import pytest


def test_stopped_backoff_program_keeps_its_cause(daemon_factory, conf, events, workdir):
    missing = workdir / "missing"
    d = daemon_factory(conf.daemon()
                       + conf.program("lost", start_secs=0.2, start_retries=50,
                                      directory=str(missing)))
    d.wait_ready()
    d.wait_state("lost", "BACKOFF")
    r = d.ctl("stop", "lost")
    assert r.returncode in (0, 1), r.stderr
    st = d.status("lost")["lost"]
    assert st["state"] == "STOPPED"
    assert st["exit_code"] is None, st      # it never ran: no exit of its own
    text = d.ctl("status", "lost").stdout
    assert f"chdir {missing}: No such file or directory" in text, text
    assert "127" not in text
