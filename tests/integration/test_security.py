"""The defences docs/SECURITY.md claims, each against the real daemon.

Links planted where the daemon writes (a program's log, the pidfile, the
daemon's own log file, the state file) are not followed; a command is never
handed to a shell; a program's environment is the daemon's plus its own
keys, never the service manager's NOTIFY_SOCKET; a program run as another
user has that user's identity and groups alone; the control socket is
owner-only from the moment it has a name.  Claims tested elsewhere are
listed in docs/SECURITY.md by test name.
"""

import os
import pwd
import re
import shutil
import signal
import socket
import stat
import tempfile

import pytest

from conftest import Events, build_shim, short_socket_dir, wait_for, wait_gone
from otheruser import shared_copy

WAIT = 30
SETPRIV = shutil.which("setpriv")
LOOP = "Too many levels of symbolic links"
PRECIOUS = "precious\n"


def others_can_reach(path):
    """Whether a user without privileges can reach and run path."""
    parts = os.path.realpath(path).split(os.sep)
    for i in range(2, len(parts) + 1):
        if not os.stat(os.sep.join(parts[:i]) or os.sep).st_mode & \
                stat.S_IXOTH:
            return False
    return True


def plant(link, victim, dangling):
    """A link at link pointing at victim, which exists unless dangling."""
    if not dangling:
        victim.write_text(PRECIOUS)
    os.symlink(victim, link)


def untouched(victim, dangling):
    """Whether the victim of a planted link is as it was."""
    if dangling:
        return not victim.exists()
    return victim.read_text() == PRECIOUS


# Links.

@pytest.mark.parametrize("dangling", [False, True],
                         ids=["to-a-file", "dangling"])
@pytest.mark.parametrize("stream", ["stdout", "stderr"])
def test_link_at_a_program_log_is_not_followed(daemon_factory, conf, events,
                                               workdir, stream, dangling):
    link, victim = workdir / "a.log", workdir / "victim"
    plant(link, victim, dangling)
    d = daemon_factory(conf.program("a", f"--{stream}", "secret",
                                    start_secs=0, start_retries=0,
                                    **{stream: str(link)}))
    d.wait_ready()
    d.wait_state("a", "FATAL")
    cause = f"{stream} {link}: {LOOP}"
    d.wait_log(rf"\ba: cannot start: {re.escape(cause)}$")
    result = d.ctl("status", "a")
    assert re.match(rf"a\s+FATAL\s+{re.escape(cause)}$", result.stdout)
    assert events.all("a") == []
    assert untouched(victim, dangling)
    assert os.path.islink(link)


def test_link_planted_before_a_reopen_is_not_followed(daemon_factory, conf,
                                                      events, workdir):
    log, victim = workdir / "a.log", workdir / "victim"
    d = daemon_factory(conf.program("a", "--stdout", "first",
                                    "--ignore", "USR1", stdout=str(log),
                                    start_secs=0))
    d.wait_ready()
    events.wait("a", "ready")
    # What logrotate does, by someone who swaps in a link meanwhile.
    os.rename(log, workdir / "a.log.1")
    plant(log, victim, False)
    mark = d.mark()
    d.signal("USR2")
    d.wait_log(rf"a: cannot reopen {re.escape(str(log))}: {LOOP}", WAIT, mark)
    assert untouched(victim, False)
    assert d.status("a")["a"]["state"] == "RUNNING"


@pytest.mark.parametrize("dangling", [False, True],
                         ids=["to-a-file", "dangling"])
def test_link_at_the_pidfile_is_not_followed(daemon_factory, conf, events,
                                             workdir, dangling):
    link, victim = workdir / "safeexitd.pid", workdir / "victim"
    plant(link, victim, dangling)
    d = daemon_factory(conf.daemon(pidfile=str(link)) +
                       conf.program("a", start_secs=0))
    d.wait_ready()
    d.wait_log(rf"cannot write pidfile {re.escape(str(link))}: {LOOP}")
    events.wait("a", "ready")
    d.signal("TERM")
    assert d.wait_exit(WAIT) == 0
    # Neither written nor, since it is not ours, removed.
    assert untouched(victim, dangling)
    assert os.path.islink(link)


@pytest.mark.parametrize("dangling", [False, True],
                         ids=["to-a-file", "dangling"])
def test_link_at_the_daemon_log_file_is_not_followed(daemon_factory, conf,
                                                     workdir, dangling):
    link, victim = workdir / "safeexitd.log", workdir / "victim"
    plant(link, victim, dangling)
    d = daemon_factory(conf.daemon(log=str(link)))
    d.wait_log(rf"cannot open log file {re.escape(str(link))}: {LOOP}; "
               r"logging to stderr")
    d.wait_ready()
    assert untouched(victim, dangling)


def test_link_at_the_state_file_is_not_followed(daemon_factory, conf, events,
                                                workdir):
    sockdir, tmp = short_socket_dir(workdir)
    sock = sockdir / "sx.sock"
    state, victim = f"{sock}.state", workdir / "victim"
    plant(state, victim, False)
    try:
        d = daemon_factory(conf.program("a", start_secs=0),
                           extra_args=("-s", sock))
        d.socket = str(sock)
        d.wait_ready()
        d.wait_log(rf"state file {re.escape(state)}: not used: {LOOP}")
        events.wait("a", "ready")
        # The file is replaced, never written through.
        wait_for(lambda: stat.S_ISREG(os.lstat(state).st_mode), WAIT,
                 "the state file written in place of the link")
        assert stat.S_IMODE(os.lstat(state).st_mode) == 0o600
        assert untouched(victim, False)
        d.signal("TERM")
        assert d.wait_exit(WAIT) == 0
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to chown")
def test_state_file_of_another_user_is_ignored(daemon_factory, conf, events,
                                               workdir):
    try:
        nobody = pwd.getpwnam("nobody")
    except KeyError:
        pytest.skip("no user nobody")
    # Records alone: a program's cgroup would name its process too.
    text = conf.daemon(cgroups="off") + conf.program("a", start_secs=0)
    d1 = daemon_factory(text)
    d1.wait_ready()
    first = events.wait("a", "ready")["pid"]
    d1.wait_state("a", "RUNNING")
    state = d1.socket + ".state"
    wait_for(lambda: os.path.exists(state) and
             f'"pid":{first}' in open(state).read(), WAIT,
             "the state file naming the program")
    d1.signal(signal.SIGKILL)
    assert d1.wait_exit() == -signal.SIGKILL
    # Mode 0600 still, but another user's: it could name any process.
    os.chown(state, nobody.pw_uid, nobody.pw_gid)
    try:
        d2 = daemon_factory(text, extra_args=("-s", d1.socket))
        d2.socket = d1.socket
        d2.wait_ready()
        d2.wait_log(r"state file .* not owned by us with mode 0600; ignored")
        assert events.wait("a", "ready")["pid"] != first
        assert "adopted" not in "\n".join(d2.lines)
    finally:
        os.kill(first, signal.SIGKILL)
        wait_gone([first], WAIT)


# No shell.

def test_command_is_not_run_by_a_shell(daemon_factory, conf, events, workdir):
    out = workdir / "a.out"
    words = ["a;b", "$HOME", "$(id)", "`id`", "*", "~", "x|y", "&&", ">z"]
    # One word a line: continuation lines keep each under libinih's limit.
    command = "\n\t".join(["{testchild} --events {events} --tag a"] +
                           [f"--stdout {w}" for w in words])
    d = daemon_factory(conf.program("a", command=command, stdout=str(out),
                                    start_secs=0))
    d.wait_ready()
    events.wait("a", "ready")
    d.ctl("stop", "a")
    events.wait("a", "exit")
    assert out.read_text() == "".join(f"{w}\n" for w in words)
    assert not (workdir / "z").exists()


# The environment.

def test_environment_has_no_notify_socket(daemon_factory, conf, events,
                                          workdir):
    sockdir, tmp = short_socket_dir(workdir)
    path = os.path.join(sockdir, "notify.sock")
    manager = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    manager.bind(path)
    try:
        names = ["NOTIFY_SOCKET", "FROM_DAEMON", "OWN", "OVERRIDDEN"]
        d = daemon_factory(
            conf.program("a", *[a for n in names for a in ("--print-env", n)],
                         environment="OWN=1, OVERRIDDEN=program",
                         start_secs=0),
            env={"NOTIFY_SOCKET": path, "FROM_DAEMON": "daemon",
                 "OVERRIDDEN": "daemon"})
        d.wait_ready()
        events.wait("a", "ready")
        env = {ev["name"]: ev.get("value") for ev in events.all("a", "env")}
        assert env == {"NOTIFY_SOCKET": None, "FROM_DAEMON": "daemon",
                       "OWN": "1", "OVERRIDDEN": "program"}
        d.signal("TERM")
        assert d.wait_exit(WAIT) == 0
    finally:
        manager.close()
        os.unlink(path)
        if tmp:
            os.rmdir(tmp)


# Privileges.

def proc_ids(pid):
    """The Uid, Gid and Groups lines of /proc/PID/status, as int lists."""
    ids = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("Uid", "Gid", "Groups"):
                ids[key] = [int(x) for x in value.split()]
    return ids


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root")
@pytest.mark.skipif(SETPRIV is None, reason="needs setpriv (util-linux)")
def test_program_as_another_user_has_its_identity_alone(daemon_factory, conf,
                                                        testchild):
    try:
        nobody = pwd.getpwnam("nobody")
    except KeyError:
        pytest.skip("no user nobody")
    if not others_can_reach(testchild):
        # A private checkout: nobody runs a copy instead.
        testchild = shared_copy(testchild)
        if testchild is None:
            pytest.skip("no temporary folder other users may enter")
    groups = sorted(os.getgrouplist("nobody", nobody.pw_gid))
    # Supplementary groups of the daemon that must not reach the program.
    extra = [g for g in (4, 27, 100, 1000) if g not in groups]
    # nobody cannot reach the test's private directory: report elsewhere.
    shared = tempfile.mkdtemp(prefix="sx-sec-")
    os.chmod(shared, 0o755)
    ev = Events(os.path.join(shared, "events"))
    os.chmod(ev.path, 0o666)
    try:
        command = (f"{testchild} --events {ev.path} --tag a " +
                   " ".join(f"--print-env {n}" for n in
                            ("USER", "LOGNAME", "HOME")))
        d = daemon_factory(
            conf.program("a", command=command, user="nobody", start_secs=0),
            env={"USER": "root", "LOGNAME": "root", "HOME": "/root"},
            prefix=(SETPRIV, "--groups", ",".join(map(str, [0] + extra)),
                    "--"))
        d.wait_ready()
        assert set(extra) <= set(proc_ids(d.pid)["Groups"])
        ready = ev.wait("a", "ready")
        ids = proc_ids(ready["pid"])
        # Real, effective, saved and file-system ids: no way back to root.
        assert ids["Uid"] == [nobody.pw_uid] * 4
        assert ids["Gid"] == [nobody.pw_gid] * 4
        # The groups were set while still root: nobody's, and no other.
        assert sorted(ids["Groups"]) == groups
        env = {e["name"]: e.get("value") for e in ev.all("a", "env")}
        assert env == {"USER": "nobody", "LOGNAME": "nobody",
                       "HOME": nobody.pw_dir}
        d.ctl("stop", "a")
        assert not wait_gone([ready["pid"]], WAIT)
    finally:
        problems = ev.close()
        os.unlink(ev.path)
        os.rmdir(shared)
    assert problems == []


# The control socket.

# Records the socket's mode and group when it is bound and when the daemon
# starts listening on it, in the file named by SAFEEXITD_TEST_SOCKLOG.
SOCKET_SHIM = r"""
#define _GNU_SOURCE
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
note(const char *what, const char *path)
{
	const char	*log = getenv("SAFEEXITD_TEST_SOCKLOG");
	struct stat	 st;
	FILE		*f;

	if (log == NULL || path[0] == '\0' || stat(path, &st) == -1)
		return;
	if ((f = fopen(log, "a")) == NULL)
		return;
	fprintf(f, "%s %s mode=%o gid=%ld\n", what, path,
	    (unsigned)(st.st_mode & 07777), (long)st.st_gid);
	fclose(f);
}

int
bind(int fd, const struct sockaddr *sa, socklen_t len)
{
	static int	(*real)(int, const struct sockaddr *, socklen_t);
	int		 r, saved;

	if (real == NULL)
		real = (int (*)(int, const struct sockaddr *, socklen_t))
		    dlsym(RTLD_NEXT, "bind");
	r = real(fd, sa, len);
	saved = errno;
	if (r == 0 && sa->sa_family == AF_UNIX)
		note("bind", ((const struct sockaddr_un *)sa)->sun_path);
	errno = saved;
	return r;
}

int
listen(int fd, int backlog)
{
	static int		(*real)(int, int);
	struct sockaddr_un	 sun;
	socklen_t		 len = sizeof sun;

	if (real == NULL)
		real = (int (*)(int, int))dlsym(RTLD_NEXT, "listen");
	memset(&sun, 0, sizeof sun);
	if (getsockname(fd, (struct sockaddr *)&sun, &len) == 0 &&
	    sun.sun_family == AF_UNIX)
		note("listen", sun.sun_path);
	return real(fd, backlog);
}
"""


@pytest.fixture
def socket_shim(workdir):
    """Build the bind/listen recording library; return its path."""
    return build_shim(workdir, "socklog", SOCKET_SHIM)


# A group the daemon is not in: only root may give the socket to it.
OTHER_GID = 4


@pytest.mark.parametrize("keys,final", [
    ({}, 0o600),
    pytest.param({"socket_group": str(OTHER_GID)}, 0o660,
                 marks=pytest.mark.skipif(os.geteuid() != 0,
                                          reason="needs root to chown")),
    ({"socket_mode": "0666"}, 0o666),
], ids=["default", "group", "mode"])
def test_socket_is_born_with_its_final_mode_and_group(daemon_factory, conf,
                                                      workdir, socket_shim,
                                                      keys, final):
    socklog = workdir / "socklog"
    d = daemon_factory(
        conf.daemon(**keys),
        env={"LD_PRELOAD": str(socket_shim),
             "SAFEEXITD_TEST_SOCKLOG": str(socklog),
             "ASAN_OPTIONS": "verify_asan_link_order=0:" +
                             os.environ.get("ASAN_OPTIONS", "")},
        # The widest umask a careless parent could leave.
        prefix=("/bin/sh", "-c", 'umask 0 && exec "$@"', "sh"))
    d.wait_ready()
    seen = {}
    for line in socklog.read_text().splitlines():
        what, path, mode, gid = line.split()
        if path == d.socket:
            seen[what] = (int(mode.split("=")[1], 8), int(gid.split("=")[1]))
    # Its final mode and group the moment it has a name: nothing is fixed
    # up later by a path that a link swapped in could redirect.
    assert seen["bind"] == seen["listen"]
    assert seen["listen"][0] == final
    assert seen["listen"][1] == (OTHER_GID if "socket_group" in keys else
                                 os.getegid())
    assert stat.S_IMODE(os.stat(d.socket).st_mode) == final


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to chown")
@pytest.mark.parametrize("owner,mode,why", [
    ("nobody", 0o700, r"owned by uid \d+, not 0"),
    ("root", 0o755, r"mode 0755, want 0700"),
], ids=["other-owner", "open-mode"])
def test_private_socket_folder_is_checked(daemon_factory, conf, events,
                                          owner, mode, why):
    folder = f"/tmp/safeexitd-{os.geteuid()}"
    if os.path.lexists(folder):
        pytest.skip(f"{folder} exists: not ours to change")
    try:
        uid = pwd.getpwnam(owner).pw_uid
    except KeyError:
        pytest.skip(f"no user {owner}")
    os.mkdir(folder, mode)
    try:
        os.chmod(folder, mode)
        os.chown(folder, uid, -1)
        d = daemon_factory(conf.program("a"),
                           extra_args=("-s", f"{folder}/safeexitd.sock"))
        assert d.wait_exit(WAIT) == 1
        d.wait_log(rf"refusing {folder}: {why}")
        assert os.listdir(folder) == []
        assert events.all("a") == []
    finally:
        shutil.rmtree(folder, ignore_errors=True)
