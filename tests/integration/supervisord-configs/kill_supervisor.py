#!/usr/bin/python3
"""Stop the whole container when a program gives up.

The usual supervisord event listener for Docker images: it subscribes to
PROCESS_STATE_FATAL (and friends) and, when a program enters FATAL, sends
SIGTERM to supervisord (its parent) so the container exits and the
orchestrator can restart it. It also appends what it saw to $RECORD_FILE.
"""
import json
import os
import signal
import sys


def write_stdout(s):
    # only eventlistener protocol messages may be sent to stdout
    sys.stdout.write(s)
    sys.stdout.flush()


def write_stderr(s):
    sys.stderr.write(s)
    sys.stderr.flush()


def note(rec):
    path = os.environ.get("RECORD_FILE")
    if path:
        with open(path, "a") as f:
            f.write(json.dumps(rec, sort_keys=True) + "\n")


def main():
    while True:
        write_stdout("READY\n")
        line = sys.stdin.readline()
        if not line:
            return
        headers = dict([x.split(":") for x in line.split()])
        data = sys.stdin.read(int(headers["len"]))
        note({"kind": "event", "label": os.environ.get(
                  "SUPERVISOR_PROCESS_NAME"),
              "group": os.environ.get("SUPERVISOR_GROUP_NAME"),
              "headers": headers, "payload": data, "result": "OK"})
        if headers["eventname"] == "PROCESS_STATE_FATAL":
            body = dict([x.split(":") for x in data.split()])
            write_stderr("%s is FATAL, stopping supervisord\n"
                         % body.get("processname"))
            try:
                os.kill(os.getppid(), signal.SIGTERM)
            except Exception as e:
                write_stderr("could not signal supervisord: %s\n" % e)
        write_stdout("RESULT 2\nOK")


if __name__ == "__main__":
    main()
