#!/usr/bin/python3
"""Stand-in program for the supervisord config corpus.

Appends one JSON line describing how it was started (argv, environment,
working directory, ids, umask, what descriptor 0 is) to the file named by
$RECORD_FILE, then behaves as told by its leading options:

  --label L        name this record L (default: $SUPERVISOR_PROCESS_NAME)
  --print TEXT     write TEXT and a newline to stdout once started
  --eprint TEXT    write TEXT and a newline to stderr once started
  --exit N         exit with status N right after recording
  --exit-once N    exit with status N on the first start of this process
                   (as counted in $RECORD_FILE), otherwise keep running
  --ignore-term    record SIGTERM but keep running (to see the kill signal)
  --child L        also start a child recorder labelled L in the same
                   process group (it records the signals it gets)
  -- CMD...        after recording, exec CMD (argv as given)

Without --exit or "--", it waits and exits 0 on SIGTERM, SIGINT or SIGQUIT,
recording the signal first. Every other argument is only recorded.
"""
import json
import os
import signal
import socket
import stat
import subprocess
import sys
import time

RECORD = os.environ.get("RECORD_FILE")


def append(rec):
    """Append one record as a JSON line (O_APPEND keeps lines whole)."""
    if not RECORD:
        return
    line = (json.dumps(rec, sort_keys=True) + "\n").encode()
    fd = os.open(RECORD, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)
    try:
        os.write(fd, line)
    finally:
        os.close(fd)


def describe_fd0():
    """Say what descriptor 0 is: a pipe, a listening socket, /dev/null..."""
    try:
        st = os.fstat(0)
    except OSError:
        return {"type": "closed"}
    if stat.S_ISFIFO(st.st_mode):
        return {"type": "pipe"}
    if stat.S_ISCHR(st.st_mode):
        return {"type": "chardev"}
    if stat.S_ISSOCK(st.st_mode):
        s = socket.socket(fileno=os.dup(0))
        try:
            fam = {socket.AF_UNIX: "unix", socket.AF_INET: "inet",
                   socket.AF_INET6: "inet6"}.get(s.family, str(s.family))
            addr = s.getsockname()
            listening = s.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN)
            d = {"type": "socket", "family": fam, "listening": bool(listening)}
            if fam == "unix":
                d["path"] = addr
                try:
                    pst = os.stat(addr)
                    d["mode"] = "%04o" % stat.S_IMODE(pst.st_mode)
                except OSError:
                    pass
            else:
                d["host"], d["port"] = addr[0], addr[1]
            return d
        finally:
            s.detach()
    return {"type": "file"}


def initial_environment():
    """The environment as exec'd (Python may add LC_CTYPE to os.environ)."""
    try:
        with open("/proc/self/environ", "rb") as f:
            raw = f.read()
    except OSError:
        return dict(os.environ)
    env = {}
    for item in raw.split(b"\0"):
        if b"=" in item:
            k, v = item.split(b"=", 1)
            env[k.decode("utf-8", "replace")] = v.decode("utf-8", "replace")
    return env


def main(argv):
    opts = {"label": None, "print": [], "eprint": [], "exit": None,
            "exit_once": None, "ignore_term": False, "child": None}
    rest = None
    i = 1
    while i < len(argv):
        a = argv[i]
        if a == "--":
            rest = argv[i + 1:]
            break
        if a in ("--label", "--print", "--eprint", "--exit", "--exit-once",
                 "--child") and i + 1 < len(argv):
            key = a[2:].replace("-", "_")
            if key in ("print", "eprint"):
                opts[key].append(argv[i + 1])
            else:
                opts[key] = argv[i + 1]
            i += 2
            continue
        if a == "--ignore-term":
            opts["ignore_term"] = True
        i += 1

    env = initial_environment()
    label = opts["label"] or env.get("SUPERVISOR_PROCESS_NAME", "?")
    group = env.get("SUPERVISOR_GROUP_NAME")
    um = os.umask(0)
    os.umask(um)
    prior = 0
    if RECORD and os.path.exists(RECORD):
        with open(RECORD) as f:
            for line in f:
                try:
                    r = json.loads(line)
                except ValueError:
                    continue
                if (r.get("kind") == "start" and r.get("label") == label
                        and r.get("group") == group):
                    prior += 1
    append({"kind": "start", "label": label, "group": group,
            "argv": argv, "env": env, "cwd": os.getcwd(), "pid": os.getpid(),
            "pgid": os.getpgrp(), "ppid": os.getppid(), "uid": os.getuid(),
            "gid": os.getgid(), "groups": sorted(os.getgroups()),
            "umask": "%03o" % um, "fd0": describe_fd0(), "run": prior + 1})

    if rest is not None:
        os.execvp(rest[0], rest)

    for t in opts["print"]:
        sys.stdout.write(t + "\n")
        sys.stdout.flush()
    for t in opts["eprint"]:
        sys.stderr.write(t + "\n")
        sys.stderr.flush()

    if opts["exit"] is not None:
        sys.exit(int(opts["exit"]))
    if opts["exit_once"] is not None and prior == 0:
        sys.exit(int(opts["exit_once"]))

    if opts["child"]:
        subprocess.Popen([sys.executable, os.path.abspath(__file__),
                          "--label", opts["child"]], stdin=subprocess.DEVNULL)

    def on_signal(signum, frame):
        append({"kind": "signal", "label": label, "group": group,
                "pid": os.getpid(), "signal": signal.Signals(signum).name})
        if signum == signal.SIGTERM and opts["ignore_term"]:
            return
        sys.exit(0)

    for s in (signal.SIGTERM, signal.SIGINT, signal.SIGQUIT, signal.SIGHUP,
              signal.SIGUSR1, signal.SIGUSR2):
        signal.signal(s, on_signal)
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    main(sys.argv)
