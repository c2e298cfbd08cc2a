#!/usr/bin/python3
"""Event listener for the supervisord config corpus.

Speaks supervisord's event listener protocol on stdin/stdout and appends
every event it gets (header fields and payload) as a JSON line to the file
named by $RECORD_FILE. Options:

  --fail-first   answer the first event with "RESULT 4\\nFAIL" (supervisord
                 puts a refused event back at the head of the buffer)
  --label L      name used in the records (default: $SUPERVISOR_PROCESS_NAME)

It exits 0 when stdin closes or on SIGTERM. Its stderr goes to the log.
"""
import json
import os
import signal
import sys

RECORD = os.environ.get("RECORD_FILE")


def append(rec):
    """Append one record as a JSON line."""
    if not RECORD:
        return
    fd = os.open(RECORD, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)
    try:
        os.write(fd, (json.dumps(rec, sort_keys=True) + "\n").encode())
    finally:
        os.close(fd)


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


def main():
    fail_first = "--fail-first" in sys.argv
    label = os.environ.get("SUPERVISOR_PROCESS_NAME", "?")
    if "--label" in sys.argv:
        label = sys.argv[sys.argv.index("--label") + 1]
    group = os.environ.get("SUPERVISOR_GROUP_NAME")
    append({"kind": "start", "label": label, "group": group,
            "argv": sys.argv, "env": initial_environment(), "cwd": os.getcwd(),
            "pid": os.getpid(), "pgid": os.getpgrp(), "ppid": os.getppid(),
            "uid": os.getuid(), "gid": os.getgid(),
            "groups": sorted(os.getgroups()), "umask": None, "fd0": None,
            "run": None})
    signal.signal(signal.SIGTERM, lambda s, f: sys.exit(0))
    stdin = sys.stdin.buffer
    stdout = sys.stdout.buffer
    answered = 0
    while True:
        stdout.write(b"READY\n")
        stdout.flush()
        line = stdin.readline()
        if not line:
            return
        headers = dict(x.split(":", 1) for x in line.decode().split())
        payload = stdin.read(int(headers["len"])).decode("utf-8", "replace")
        result = b"OK"
        if fail_first and answered == 0:
            result = b"FAIL"
        append({"kind": "event", "label": label, "group": group,
                "headers": headers, "payload": payload,
                "result": result.decode()})
        sys.stderr.write("got %s, answering %s\n"
                         % (headers.get("eventname"), result.decode()))
        sys.stderr.flush()
        stdout.write(b"RESULT %d\n%s" % (len(result), result))
        stdout.flush()
        answered += 1


if __name__ == "__main__":
    main()
