"""Checks of the files installed beside the binaries.

The systemd units, the SysV and OpenRC scripts and the manual pages are
generated from their .in templates the way init/local.mk and man/local.mk do
it: the same sed expressions, read from those files, with paths under the
test's temporary directory.  Nothing is written to the source tree.

- both units pass `systemd-analyze verify` without a word of output, and
  say what crash survival needs (KillMode=process, the stop-post cleanup, a
  reload that waits for the daemon's answer);
- safeexitd-stop-post kills what a stopped daemon left in a real cgroup and
  keeps the programs after a crash;
- both init scripts and the bash completion pass shellcheck;
- the manual pages pass `mandoc -T lint -W warning` (and groff) silently;
- the pages cannot drift from the contract: every option, command and config
  key of SPEC.md, and every option that the built binaries' --help prints,
  appears in them;
- the SysV and OpenRC scripts pass the right arguments (checked with a
  start-stop-daemon that records them), and the SysV script starts, reloads
  and stops a built daemon;
- the completion completes commands, options, signals and program names.

The tools are optional (a test skips when its tool is missing).  SPEC.md is
read from $SAFEEXITD_SPEC, docs/SPEC.md or SPEC.md of the source tree; where
there is none, the lists below (copied from it) stand in.
"""

import json
import os
import re
import shlex
import shutil
import signal
import stat
import subprocess
import time
from pathlib import Path

import pytest

TOP = Path(__file__).resolve().parent.parent.parent
SRCDIR = Path(os.environ.get("SAFEEXITD_SRCDIR") or TOP)
BUILDDIR = Path(os.environ.get("SAFEEXITD_BUILDDIR") or TOP)
SAFEEXITD = BUILDDIR / "safeexitd"
SAFEEXITCTL = BUILDDIR / "safeexitctl"

# which -> (template, installed name); the rules are in init/local.mk.
UNITS = {
    "system": ("init/safeexitd.service.in", "safeexitd.service"),
    "user": ("init/safeexitd-user.service.in", "safeexitd.service"),
}
SCRIPTS = {
    "sysv": "init/safeexitd.init.in",
    "openrc": "init/safeexitd.openrc.in",
}
STOP_POST = "init/safeexitd-stop-post"
MAN_PAGES = {
    "safeexitd.8": "man/safeexitd.8.in",
    "safeexitctl.1": "man/safeexitctl.1.in",
    "safeexitd.ini.5": "man/safeexitd.ini.5.in",
}
COMPLETION = "completion/safeexitctl.bash"

# Stand-ins for SPEC.md sections 2, 3 and 5 when it is not at hand.
SPEC_DAEMON_OPTIONS = ["--config", "--socket", "--daemon", "--check",
                       "--log-level", "--version", "--help"]
SPEC_CTL_COMMANDS = ["status", "start", "stop", "restart", "signal", "reload",
                     "shutdown", "pid", "tail", "reexec", "kill", "version"]
SPEC_CTL_LONG_OPTIONS = ["--json", "--no-wait"]
SPEC_MAIN_KEYS = ["socket", "socket_mode", "socket_group", "pidfile",
                  "log_level", "log", "shutdown_timeout", "on_sighup",
                  "on_sigquit", "on_host_shutdown", "on_logoff", "on_close",
                  "include", "exit_on_fatal"]
SPEC_PROGRAM_KEYS = ["command", "directory", "user", "group", "environment",
                     "umask", "autostart", "autorestart", "exitcodes",
                     "start_secs", "start_retries", "priority", "depends_on",
                     "stop_signal", "stop_timeout", "kill_signal",
                     "stop_group", "stop_command", "stdout", "stderr",
                     "stdout_max_bytes", "stdout_backups", "stderr_max_bytes",
                     "stderr_backups", "stop_method"]
SPEC_ALIASES = ["startsecs", "startretries", "stopsignal", "stopwaitsecs",
                "stopasgroup", "killasgroup", "stdout_logfile",
                "stderr_logfile", "stdout_logfile_maxbytes",
                "stdout_logfile_backups", "stderr_logfile_maxbytes",
                "stderr_logfile_backups"]
SPEC_STATES = ["STOPPED", "STARTING", "RUNNING", "BACKOFF", "STOPPING",
               "EXITED", "FATAL"]


def need(tool):
    """Return the path of tool, or skip the test."""
    path = shutil.which(tool)
    if path is None:
        pytest.skip(f"{tool} is not installed")
    return path


def run(args, **kwargs):
    """Run a command, capturing text output; never raise on its status."""
    kwargs.setdefault("stdout", subprocess.PIPE)
    kwargs.setdefault("stderr", subprocess.PIPE)
    kwargs.setdefault("timeout", 120)
    return subprocess.run([str(a) for a in args], text=True, check=False,
                          **kwargs)


def package_version():
    """The version of AC_INIT in configure.ac."""
    m = re.search(r"AC_INIT\(\[[^]]*\],\s*\[([^]]*)\]",
                  (SRCDIR / "configure.ac").read_text())
    return m.group(1) if m else "0"


def make_substitutions(fragment):
    """The @TOKEN@ -> make variable pairs of a .mk fragment's sed rule."""
    text = (SRCDIR / fragment).read_text()
    pairs = re.findall(r"s\|@(\w+)\[@\]\|\$\((\w+)\)\|g", text)
    assert pairs, f"no substitutions found in {fragment}"
    return dict(pairs)


def generate(template, dest, fragment, values):
    """Make dest from template with sed, as the rule in fragment does.

    values maps the make variables of the rule to what they stand for here.
    """
    args = ["sed"]
    for token, var in make_substitutions(fragment).items():
        assert var in values, f"{fragment}: no test value for $({var})"
        args += ["-e", f"s|@{token}[@]|{values[var]}|g"]
    dest.parent.mkdir(parents=True, exist_ok=True)
    with open(dest, "w") as out:
        proc = run(args + [SRCDIR / template], stdout=out)
    assert proc.returncode == 0, proc.stderr
    text = dest.read_text()
    left = sorted(set(re.findall(r"@[A-Za-z_]+@", text)))
    assert not left, f"{template}: not substituted by {fragment}: {left}"
    return dest


def layout(root, service_type="notify", sbindir=None, bindir=None):
    """Make variables for generating files under root."""
    return {
        "sbindir": str(sbindir or root / "sbin"),
        "bindir": str(bindir or root / "bin"),
        "sysconfdir": str(root / "etc"),
        "runstatedir": str(root / "run"),
        "pkglibexecdir": str(root / "libexec"),
        "PACKAGE_VERSION": package_version(),
        "safeexitd_service_type": service_type,
    }


def build_man(root):
    """Generate the manual pages into root/manN/; return {name: path}."""
    values = layout(root)
    pages = {}
    for name, template in MAN_PAGES.items():
        section = name.rsplit(".", 1)[1]
        pages[name] = generate(template, root / f"man{section}" / name,
                               "man/local.mk", values)
    return pages


_rendered = {}


def render(page):
    """The page as plain text on one very long line per paragraph."""
    if page in _rendered:
        return _rendered[page]
    if shutil.which("mandoc"):
        proc = run(["mandoc", "-T", "ascii", "-O", "width=1000", page])
    elif shutil.which("groff"):
        proc = run(["groff", "-mandoc", "-Tascii", "-P-c", "-rLL=1000n",
                    "-rHY=0", page])
    else:
        pytest.skip("neither mandoc nor groff is installed")
    assert proc.returncode == 0, proc.stderr
    text = re.sub(r".\x08", "", proc.stdout)
    text = re.sub(r"\x1b\[[0-9;]*m", "", text)
    _rendered[page] = text
    return text


@pytest.fixture(scope="module")
def man_pages(tmp_path_factory):
    return build_man(tmp_path_factory.mktemp("man"))


# SPEC.md

def find_spec():
    """The text of SPEC.md, or None."""
    candidates = [os.environ.get("SAFEEXITD_SPEC"),
                  SRCDIR / "docs" / "SPEC.md", SRCDIR / "SPEC.md"]
    for path in candidates:
        if path and Path(path).is_file():
            return Path(path).read_text()
    return None


def spec_section(spec, number):
    """The text of section `## number.` of SPEC.md."""
    m = re.search(rf"^## {number}\..*?(?=^## |\Z)", spec, re.M | re.S)
    assert m, f"SPEC.md has no section {number}"
    return m.group(0)


def first_code_block(text):
    m = re.search(r"^```[^\n]*\n(.*?)^```", text, re.M | re.S)
    assert m, "no code block"
    return m.group(1)


def spec_daemon_options():
    spec = find_spec()
    if spec is None:
        return SPEC_DAEMON_OPTIONS
    block = first_code_block(spec_section(spec, 2))
    return sorted(set(re.findall(r"--[a-z][a-z-]*", block)))


def spec_ctl_commands():
    spec = find_spec()
    if spec is None:
        return SPEC_CTL_COMMANDS, SPEC_CTL_LONG_OPTIONS
    block = first_code_block(spec_section(spec, 5))
    commands = re.findall(r"^  ([a-z]+)\b", block, re.M)
    return commands, sorted(set(re.findall(r"--[a-z][a-z-]*", block)))


def spec_keys():
    """([safeexitd] keys, [program:NAME] keys, supervisord aliases)."""
    spec = find_spec()
    if spec is None:
        return SPEC_MAIN_KEYS, SPEC_PROGRAM_KEYS, SPEC_ALIASES
    section = spec_section(spec, 3)
    main_part, _, program_part = section.partition("[program:NAME]")

    def rows(text):
        for line in text.splitlines():
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if not line.startswith("|") or len(cells) < 2:
                continue
            if cells[0] in ("key", "") or set(cells[0]) <= set("-: "):
                continue
            yield cells

    def names(cell):
        return [n.strip() for n in cell.split(",")]

    main = [k for cells in rows(main_part) for k in names(cells[0])]
    program, aliases = [], []
    for cells in rows(program_part):
        keys = names(cells[0])
        found = []
        for group in re.findall(r"\(([^()`]*)\)", cells[-1]):
            items = names(group)
            if all(re.fullmatch(r"[a-z_]+", i) for i in items):
                found += items
        if "same for stderr_*" in cells[-1]:
            keys += [k.replace("stdout", "stderr") for k in keys]
            found += [a.replace("stdout", "stderr") for a in found]
        program += keys
        aliases += found
    return main, program, aliases


def has_word(text, word):
    return re.search(rf"(?<![\w-]){re.escape(word)}(?![\w-])", text)


# systemd

@pytest.mark.parametrize("service_type", ["notify", "exec"])
@pytest.mark.parametrize("which", ["system", "user"])
def test_systemd_unit_verifies(tmp_path, which, service_type):
    """systemd-analyze verify accepts the unit and says nothing at all.

    verify exits 0 on warnings, so any output fails the test.  It checks that
    every Exec*= names an executable file; the installed paths do not exist
    here, so @sbindir@, @bindir@ and @pkglibexecdir@ point at directories of
    the test whose safeexitd and safeexitctl are links to /bin/true, and
    whose safeexitd-stop-post is the script.  Documentation= is checked with
    man(1): the generated pages are put on MANPATH, so the man: links must
    resolve to them.
    """
    analyze = need("systemd-analyze")
    true = shutil.which("true") or "/bin/true"
    for sub, name in (("sbin", "safeexitd"), ("bin", "safeexitctl")):
        (tmp_path / sub).mkdir()
        os.symlink(true, tmp_path / sub / name)
    (tmp_path / "libexec").mkdir()
    os.symlink(SRCDIR / STOP_POST, tmp_path / "libexec" / "safeexitd-stop-post")
    template, name = UNITS[which]
    unit = generate(template, tmp_path / which / name, "init/local.mk",
                    layout(tmp_path, service_type))

    env = dict(os.environ)
    env.pop("SYSTEMD_LOG_LEVEL", None)
    args = [analyze]
    if shutil.which("man"):
        build_man(tmp_path / "man")
        env["MANPATH"] = str(tmp_path / "man")
    else:
        args.append("--man=no")
    if which == "user":
        runtime = tmp_path / "runtime"
        runtime.mkdir(mode=0o700)
        env["XDG_RUNTIME_DIR"] = str(runtime)
        args.append("--user")
    proc = run(args + ["verify", unit], env=env)
    output = (proc.stdout + proc.stderr).strip()
    assert proc.returncode == 0 and not output, \
        f"systemd-analyze verify {unit} (exit {proc.returncode}):\n{output}"


def unit_settings(path):
    """{key: [values]} of a unit file, ignoring sections and comments."""
    settings = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line[0] in "#;[":
            continue
        key, _, value = line.partition("=")
        settings.setdefault(key.strip(), []).append(value.strip())
    return settings


@pytest.mark.parametrize("which", ["system", "user"])
def test_systemd_unit_semantics(tmp_path, which):
    """The settings the staged shutdown relies on."""
    template, name = UNITS[which]
    s = unit_settings(generate(template, tmp_path / name, "init/local.mk",
                               layout(tmp_path)))
    assert s["Type"] == ["notify"]
    assert s["NotifyAccess"] == ["main"]
    # SIGTERM to the daemon alone; it stops its programs itself.  When it
    # crashes, systemd must not kill what is left in the cgroup (the
    # programs): the restarted daemon adopts them.  mixed or control-group
    # would SIGKILL them all.
    assert s["KillMode"] == ["process"]
    assert s.get("KillSignal", ["SIGTERM"]) == ["SIGTERM"]
    assert s["Restart"] == ["on-failure"]
    assert "RemainAfterExit" not in s
    # What systemd no longer kills after a stop, the stop-post script does.
    stop_post = s["ExecStopPost"][0].split()
    assert stop_post[0] == str(tmp_path / "libexec" / "safeexitd-stop-post")
    assert stop_post[1:] == (["%n"] if which == "system" else ["--user", "%n"])
    # An OOM kill of one program must not stop the unit and every program.
    assert s["OOMPolicy"] == ["continue"]
    # Longer than the default shutdown_timeout (90 s), with a margin.
    m = re.fullmatch(r"(\d+)s?", s["TimeoutStopSec"][0])
    assert m and int(m.group(1)) > 90
    # A reload waits for the daemon's answer and fails when it rejects the
    # config; a signal would report success either way.
    config = (str(tmp_path / "etc" / "safeexitd.ini") if which == "system"
              else "%h/.config/safeexitd/safeexitd.ini")
    assert s["ExecReload"] == [
        f"{tmp_path / 'bin' / 'safeexitctl'} -c {config} reload"]
    assert s["Delegate"] == ["yes"]
    for page in ("safeexitd(8)", "safeexitctl(1)", "safeexitd.ini(5)"):
        assert f"man:{page}" in s["Documentation"][0]
    argv = s["ExecStart"][0].split()
    assert argv[0] == str(tmp_path / "sbin" / "safeexitd")
    # The socket keeps the daemon's default: no -s.
    assert "-s" not in argv and "--socket" not in argv
    assert "-d" not in argv
    if which == "system":
        assert argv[1:] == ["-c", str(tmp_path / "etc" / "safeexitd.ini")]
        assert s["WantedBy"] == ["multi-user.target"]
    else:
        assert argv[1:] == ["-c", "%h/.config/safeexitd/safeexitd.ini"]
        assert s["WantedBy"] == ["default.target"]


def test_systemd_reload_fails_on_a_rejected_config(tmp_path, daemon_factory,
                                                   workdir):
    """The system unit's ExecReload= against a real daemon: success for a
    good config, exit 1 with FILE:LINE for one the daemon rejects (so
    `systemctl reload` fails), and the daemon keeps its old config."""
    for name in (SAFEEXITD, SAFEEXITCTL):
        if not os.access(name, os.X_OK):
            pytest.skip(f"{name} is not built")
    d = daemon_factory("[safeexitd]\nshutdown_timeout = 10\n\n"
                       "[program:a]\ncommand = sleep 300\nstart_secs = 0\n")
    d.wait_ready()
    assert d.config_path == Path(workdir) / "safeexitd.ini"
    values = layout(tmp_path, bindir=BUILDDIR)
    values["sysconfdir"] = str(workdir)
    template, name = UNITS["system"]
    unit = generate(template, tmp_path / name, "init/local.mk", values)
    (reload_command,) = unit_settings(unit)["ExecReload"]
    argv = shlex.split(reload_command)
    assert argv[0] == str(SAFEEXITCTL)

    proc = run(argv, timeout=30)
    assert proc.returncode == 0, proc.stdout + proc.stderr

    good = d.config_path.read_text()
    d.config_path.write_text(good + "stop_signal = NOPE\n")
    proc = run(argv, timeout=30)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    line = len(good.splitlines()) + 1
    assert f"{d.config_path}:{line}:" in proc.stderr, proc.stderr
    assert d.returncode is None
    status = run([SAFEEXITCTL, "-s", d.socket, "status", "a"], timeout=30)
    assert status.returncode == 0 and "RUNNING" in status.stdout, status


# safeexitd-stop-post in a real cgroup

def cgroup2_root():
    """The cgroup2 mount point whose root is the hierarchy's, or None."""
    with open("/proc/self/mountinfo", encoding="utf-8") as f:
        for line in f:
            head, _, tail = line.partition(" - ")
            fields = head.split()
            if tail.startswith("cgroup2 ") and fields[3] == "/":
                return Path(fields[4].replace("\\040", " "))
    return None


def own_cgroup2():
    with open("/proc/self/cgroup", encoding="utf-8") as f:
        for line in f:
            if line.startswith("0::"):
                return line[3:].rstrip("\n")
    return None


FAKE_SYSTEMCTL = """#!/bin/sh
# systemctl list-jobs as FAKE_JOBS says; FAKE_JOBS=fail: no manager.
printf '%s\\n' "$*" >>"{log}"
[ "$FAKE_JOBS" = fail ] && exit 1
[ -n "$FAKE_JOBS" ] && printf '%s\\n' "$FAKE_JOBS"
exit 0
"""


@pytest.fixture
def unit_cgroup(tmp_path):
    """A cgroup standing in for the unit's, with the daemon's tree below it:
    run(where, *argv) starts a process in a cgroup of it; the fixture kills
    and removes everything at the end."""
    if os.environ.get("SAFEEXITD_TEST_CGROUPS") == "off":
        pytest.skip("SAFEEXITD_TEST_CGROUPS=off: the suite runs without cgroups")
    root, own = cgroup2_root(), own_cgroup2()
    if root is None or own is None:
        pytest.skip("no cgroup v2 hierarchy here")
    unit = root / own.lstrip("/") / f"sxunit-{os.getpid()}-{time.monotonic_ns()}"
    try:
        unit.mkdir()
        for sub in (".control", "safeexitd-0123/program-a"):
            (unit / sub).mkdir(parents=True)
    except OSError as e:
        pytest.skip(f"cannot make a cgroup here: {e}")

    class Unit:
        path = unit
        procs = []

        def run(self, where, *argv, **kwargs):
            cg = unit / where
            proc = subprocess.Popen(
                ["/bin/sh", "-c", f'echo 0 >"{cg}/cgroup.procs" && exec "$@"',
                 "sh", *map(str, argv)], **kwargs)
            self.procs.append(proc)
            return proc

        def members(self):
            found = []
            for dirpath, _, _ in os.walk(unit):
                found += (Path(dirpath) / "cgroup.procs").read_text().split()
            return found

    u = Unit()
    yield u
    for proc in u.procs:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
    for dirpath, _, _ in sorted(os.walk(unit), key=lambda w: -len(w[0])):
        for _ in range(100):
            try:
                os.rmdir(dirpath)
                break
            except OSError:
                for pid in (Path(dirpath) / "cgroup.procs").read_text().split():
                    os.kill(int(pid), signal.SIGKILL)
                time.sleep(0.05)


@pytest.mark.parametrize("result,jobs,killed", [
    # A crash, nothing asked: the restarted daemon adopts the programs.
    ("signal", "", False),
    ("core-dump", "", False),
    ("exit-code", "", False),
    # A crash during a stop or restart that was asked for.
    ("signal", "7 safeexitd.service stop running", True),
    ("signal", "7 safeexitd.service restart running", True),
    # A reload in flight, or a job of another unit, asks for no stop.
    ("signal", "7 safeexitd.service reload running", False),
    ("signal", "7 other.service stop running", False),
    # The daemon exited of its own, or stopped and left something.
    ("success", "", True),
    ("success", "7 safeexitd.service stop running", True),
    # systemctl cannot tell: the result alone decides.
    ("timeout", "fail", True),
    ("success", "fail", True),
    ("signal", "fail", False),
])
def test_stop_post_kills_only_when_no_daemon_comes_back(
        tmp_path, unit_cgroup, result, jobs, killed):
    """What the daemon left in the unit's cgroup (a straggler beside it, a
    program and its child in the program's cgroup) is SIGKILLed after a
    stop, and kept after a crash for the restarted daemon to adopt.  The
    script runs in the ".control" subgroup, as systemd runs it with
    Delegate=yes, and is left alone there."""
    fake = tmp_path / "systemctl"
    log = tmp_path / "systemctl.log"
    fake.write_text(FAKE_SYSTEMCTL.format(log=log))
    fake.chmod(0o755)
    u = unit_cgroup
    straggler = u.run(".", "sleep", "300")
    program = u.run("safeexitd-0123/program-a", "sh", "-c",
                    "sleep 300 & exec sleep 300")
    deadline = time.monotonic() + 10
    while len(u.members()) < 3 and time.monotonic() < deadline:
        time.sleep(0.02)
    before = set(u.members())
    assert len(before) == 3, before

    env = dict(os.environ, SERVICE_RESULT=result, FAKE_JOBS=jobs,
               SAFEEXITD_STOP_POST_SYSTEMCTL=str(fake))
    post = u.run(".control", SRCDIR / STOP_POST, "safeexitd.service",
                 env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                 text=True)
    output, _ = post.communicate(timeout=60)
    assert post.returncode == 0, output
    assert log.read_text() == \
        "list-jobs --no-legend --no-pager -- safeexitd.service\n"
    if killed:
        assert straggler.wait(10) == -signal.SIGKILL
        assert program.wait(10) == -signal.SIGKILL
        deadline = time.monotonic() + 10
        while u.members() and time.monotonic() < deadline:
            time.sleep(0.02)
        assert u.members() == []
        assert "killed 3 process(es)" in output, output
    else:
        assert straggler.poll() is None and program.poll() is None
        assert set(u.members()) == before
        assert f"result '{result}'" in output and "adopt" in output, output


def test_stop_post_without_a_control_subgroup(tmp_path, unit_cgroup):
    """Run in the unit's own cgroup (systemd without delegation does that),
    the script kills everything there but itself; --user asks the user
    manager."""
    fake = tmp_path / "systemctl"
    log = tmp_path / "systemctl.log"
    fake.write_text(FAKE_SYSTEMCTL.format(log=log))
    fake.chmod(0o755)
    u = unit_cgroup
    straggler = u.run(".", "sleep", "300")
    program = u.run("safeexitd-0123/program-a", "sleep", "300")
    env = dict(os.environ, SERVICE_RESULT="success",
               FAKE_JOBS="3 safeexitd.service stop running",
               SAFEEXITD_STOP_POST_SYSTEMCTL=str(fake))
    post = u.run(".", SRCDIR / STOP_POST, "--user", "safeexitd.service",
                 env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                 text=True)
    output, _ = post.communicate(timeout=60)
    assert post.returncode == 0, output
    assert log.read_text().startswith("--user list-jobs ")
    assert straggler.wait(10) == -signal.SIGKILL
    assert program.wait(10) == -signal.SIGKILL


# Init scripts and completion

@pytest.mark.parametrize("which", ["sysv", "openrc", "completion",
                                   "stop-post"])
def test_shellcheck(tmp_path, which):
    """shellcheck finds nothing to say about the scripts."""
    shellcheck = need("shellcheck")
    if which == "completion":
        args = ["-s", "bash", SRCDIR / COMPLETION]
    elif which == "stop-post":
        args = [SRCDIR / STOP_POST]
    else:
        script = generate(SCRIPTS[which], tmp_path / "safeexitd",
                          "init/local.mk", layout(tmp_path))
        # openrc-run scripts are sh with functions that openrc-run defines.
        args = (["-s", "sh"] if which == "openrc" else []) + [script]
    proc = run([shellcheck] + args)
    output = (proc.stdout + proc.stderr).strip()
    assert proc.returncode == 0 and not output, output


FAKE_SSD = """#!/bin/sh
# start-stop-daemon that only records its arguments; --start writes the
# pidfile as the daemon would.
printf '%s\\n' "$*" >>"{log}"
case " $* " in
*" --test "*) exit 0 ;;
*" --start "*)
    while [ $# -gt 0 ]; do
        [ "$1" = --pidfile ] && echo 4242 >"$2"
        shift
    done
    ;;
esac
exit 0
"""

FAKE_DAEMON = """#!/bin/sh
printf 'safeexitd %s\\n' "$*" >>"{log}"
exit 0
"""

# safeexitctl that records its arguments and answers as FAKE_CTL_EXIT says.
FAKE_CTL = """#!/bin/sh
printf 'safeexitctl %s\\n' "$*" >>"{log}"
if [ -n "$FAKE_CTL_EXIT" ]; then
    echo "{log}.ini:3: unknown key 'x'" >&2
    exit "$FAKE_CTL_EXIT"
fi
exit 0
"""


@pytest.fixture
def script_env(tmp_path):
    """A directory with a fake start-stop-daemon and safeexitd that log
    their arguments, a config folder, and helpers to read the log."""
    class Env:
        root = tmp_path
        log = tmp_path / "calls.log"
        etc = tmp_path / "etc"
        run_dir = tmp_path / "run"
        config = tmp_path / "etc" / "safeexitd.ini"
        pidfile = tmp_path / "run" / "safeexitd.pid"
        fakebin = tmp_path / "fakebin"

        def calls(self):
            return self.log.read_text().splitlines() if self.log.exists() \
                else []

        def write_config(self, *lines):
            self.config.write_text("\n".join(lines) + "\n")

    env = Env()
    for d in (env.etc, env.run_dir, env.fakebin, tmp_path / "sbin",
              tmp_path / "bin"):
        d.mkdir()
    for path, text in ((env.fakebin / "start-stop-daemon", FAKE_SSD),
                       (tmp_path / "sbin" / "safeexitd", FAKE_DAEMON),
                       (tmp_path / "bin" / "safeexitctl", FAKE_CTL)):
        path.write_text(text.format(log=env.log))
        path.chmod(0o755)
    return env


@pytest.fixture
def sysv_fake(script_env):
    """Run the SysV script with the fakes; returns (exit, output)."""
    if not os.path.exists("/lib/lsb/init-functions"):
        pytest.skip("/lib/lsb/init-functions is missing")
    e = script_env
    script = generate(SCRIPTS["sysv"], e.root / "init.d" / "safeexitd",
                      "init/local.mk", layout(e.root))
    (e.etc / "default").mkdir()
    defaults = e.etc / "default" / "safeexitd"
    defaults.write_text(f'PATH="{e.fakebin}:$PATH"\n')

    def action(command, extra_defaults=""):
        defaults.write_text(f'PATH="{e.fakebin}:$PATH"\n{extra_defaults}')
        env = dict(os.environ, SYSTEMCTL_SKIP_REDIRECT="1")
        proc = run(["sh", script, command], env=env, timeout=30)
        return proc.returncode, proc.stdout + proc.stderr

    return action


def test_sysv_stop_waits_for_staged_shutdown(script_env, sysv_fake):
    """stop sends one TERM, waits shutdown_timeout + 10 s, then KILL."""
    e = script_env
    e.write_config("[safeexitd]", f"pidfile = {e.pidfile}",
                   "shutdown_timeout = 20.5 ; seconds", "",
                   "[program:x]", "command = sleep 1")
    assert sysv_fake("stop")[0] == 0
    assert e.calls() == [f"--stop --quiet --retry TERM/31/KILL/5 "
                         f"--pidfile {e.pidfile} --name safeexitd"]

    e.log.unlink()
    e.write_config("[safeexitd]", f"pidfile = {e.pidfile}")
    assert sysv_fake("stop")[0] == 0
    assert "--retry TERM/100/KILL/5" in e.calls()[0]

    e.log.unlink()
    assert sysv_fake("stop", "STOP_TIMEOUT=300\n")[0] == 0
    assert "--retry TERM/300/KILL/5" in e.calls()[0]


def test_sysv_start_needs_pidfile_key(script_env, sysv_fake):
    e = script_env
    e.write_config("[safeexitd]", "log = syslog", "",
                   "[program:x]", f"pidfile = {e.pidfile}")
    status, output = sysv_fake("start")
    assert status == 1
    assert f'"pidfile = {e.pidfile}"' in output
    assert not any(" -- " in c for c in e.calls()), "started anyway"

    e.log.unlink()
    e.write_config("[ safeexitd ]", f"pidfile={e.pidfile}")
    status, output = sysv_fake("start")
    assert status == 0, output
    assert e.calls()[-1] == (f"--start --quiet --pidfile {e.pidfile} --exec "
                             f"{e.root}/sbin/safeexitd -- -d -c {e.config}")


def test_sysv_reload(script_env, sysv_fake):
    """reload asks the daemon through safeexitctl and fails when the daemon
    rejects the config, with its errors; on_sighup has no say."""
    e = script_env
    e.write_config("[safeexitd]", f"pidfile = {e.pidfile}",
                   "on_sighup = shutdown")
    assert sysv_fake("reload")[0] == 0
    assert e.calls() == [f"safeexitctl -c {e.config} reload"]

    e.log.unlink()
    status, output = sysv_fake("reload", "export FAKE_CTL_EXIT=1\n")
    assert status == 1, output
    assert f"{e.log}.ini:3: unknown key 'x'" in output
    assert e.calls() == [f"safeexitctl -c {e.config} reload"]


@pytest.fixture
def openrc(script_env):
    """Source the OpenRC script in sh with openrc-run's helpers stubbed;
    openrc(code) runs code after it and returns (exit, output)."""
    e = script_env
    script = generate(SCRIPTS["openrc"], e.root / "openrc" / "safeexitd",
                      "init/local.mk", layout(e.root))
    stubs = ('ebegin() { :; }\n'
             'eend() { return "$1"; }\n'
             'eerror() { echo "$*" >&2; }\n')

    def openrc_run(code):
        env = dict(os.environ, PATH=f"{e.fakebin}:{os.environ['PATH']}",
                   RC_SVCNAME="safeexitd")
        proc = run(["sh", "-c", f"{stubs}. '{script}'\n{code}"], env=env,
                   timeout=30)
        return proc.returncode, proc.stdout + proc.stderr

    return openrc_run


def test_openrc_script(script_env, openrc):
    e = script_env
    e.write_config("[safeexitd]", f"pidfile = {e.pidfile}",
                   "shutdown_timeout = 45", "on_sighup = reload")
    status, output = openrc('echo "$command_args"; stop_pre; echo "$retry"')
    assert status == 0, output
    assert output.split("\n")[:2] == [f"-d -c {e.config} ",
                                      "TERM/55/KILL/5"]
    assert openrc("start_pre") == (0, "")
    assert openrc("reload")[0] == 0
    assert e.calls()[-1] == f"safeexitctl -c {e.config} reload"
    # A config the daemon rejects fails the reload, whatever on_sighup says.
    e.write_config("[safeexitd]", f"pidfile = {e.pidfile}",
                   "on_sighup = ignore")
    status, output = openrc("FAKE_CTL_EXIT=1 reload")
    assert status == 1 and f"{e.log}.ini:3: unknown key 'x'" in output

    e.write_config("[safeexitd]", "on_sighup = ignore")
    status, output = openrc("start_pre")
    assert status != 0 and f'"pidfile = {e.pidfile}"' in output
    status, output = openrc("stop_pre; echo $retry")
    assert output == "TERM/100/KILL/5\n"


# Manual pages

@pytest.mark.parametrize("name", sorted(MAN_PAGES))
def test_man_lint(man_pages, name):
    """mandoc -T lint -W warning has nothing to report."""
    mandoc = need("mandoc")
    proc = run([mandoc, "-T", "lint", "-W", "warning", man_pages[name]])
    output = (proc.stdout + proc.stderr).strip()
    assert proc.returncode == 0 and not output, output


@pytest.mark.parametrize("name", sorted(MAN_PAGES))
def test_man_groff(man_pages, name):
    """groff, which man(1) uses on most systems, formats it without a word."""
    groff = need("groff")
    proc = run([groff, "-mandoc", "-Tutf8", "-z", man_pages[name]])
    output = (proc.stdout + proc.stderr).strip()
    assert proc.returncode == 0 and not output, output


def test_man_daemon_options(man_pages):
    """Every long option of SPEC section 2 is in safeexitd(8)."""
    text = render(man_pages["safeexitd.8"])
    missing = [o for o in spec_daemon_options() if not has_word(text, o)]
    assert not missing, f"safeexitd.8 lacks {missing}"
    for sig in ("SIGTERM", "SIGINT", "SIGHUP", "SIGQUIT", "SIGUSR2"):
        assert has_word(text, sig), sig
    for var in ("NOTIFY_SOCKET", "XDG_RUNTIME_DIR"):
        assert has_word(text, var), var
    for section in ("SIGNALS", "ENVIRONMENT", "FILES", "EXIT STATUS",
                    "SEE ALSO"):
        assert re.search(rf"^{section}$", text, re.M), section


def test_man_client_commands(man_pages):
    """Every command and option of SPEC section 5 is in safeexitctl(1)."""
    page = man_pages["safeexitctl.1"]
    source = page.read_text()
    text = render(page)
    commands, long_options = spec_ctl_commands()
    assert len(commands) >= 10
    missing = [c for c in commands
               if not re.search(rf"^\.It Cm {c}\b", source, re.M)]
    assert not missing, f"safeexitctl.1 has no entry for {missing}"
    missing = [o for o in long_options if not has_word(text, o)]
    assert not missing, f"safeexitctl.1 lacks {missing}"
    for opt in ("-s", "-c", "-t", "-f", "-n", "-S"):
        assert has_word(text, opt), opt
    for state in SPEC_STATES:
        assert has_word(text, state), state
    assert "NAME STATE PID/EXIT UPTIME" in text
    exit_status = text.split("\nEXIT STATUS\n", 1)[1].split("\n\n", 1)[0]
    for code in range(5):
        assert re.search(rf"^\s+{code}\s", exit_status, re.M), code


def test_man_client_json_example(man_pages):
    """The JSON example of safeexitctl(1) is valid and has SPEC's shape."""
    text = render(man_pages["safeexitctl.1"])
    m = re.search(r"^\s+(\{\"daemon\".*?\]\})\s*$", text, re.M | re.S)
    assert m, "no JSON example"
    obj = json.loads(m.group(1))
    assert set(obj) == {"daemon", "programs"}
    assert set(obj["daemon"]) == {"pid", "version", "uptime"}
    assert obj["daemon"]["version"] == package_version()
    assert set(obj["programs"][0]) == {"name", "state", "pid", "uptime",
                                       "exit_code", "signal", "restarts",
                                       "ready", "health", "status_text",
                                       "cpu_seconds", "memory_bytes",
                                       "oom_kills"}


def test_man_config_keys(man_pages):
    """Every key and supervisord alias of SPEC section 3 is in the page."""
    text = render(man_pages["safeexitd.ini.5"])
    main, program, aliases = spec_keys()
    assert "exit_on_fatal" in main and "stop_method" in program
    assert "stopwaitsecs" in aliases
    missing = [k for k in main + program + aliases if not has_word(text, k)]
    assert not missing, f"safeexitd.ini.5 lacks {missing}"
    for heading in ("SUPERVISORD MIGRATION", "STAGED SHUTDOWN"):
        assert re.search(rf"^{heading}$", text, re.M), heading
    for words in ("64 KiB", "%(program_name)s", "FILE:LINE"):
        assert words in text, words


@pytest.mark.parametrize("binary,page", [(SAFEEXITD, "safeexitd.8"),
                                         (SAFEEXITCTL, "safeexitctl.1")])
def test_man_covers_help(man_pages, binary, page):
    """Every long option that --help prints is documented."""
    if not os.access(binary, os.X_OK):
        pytest.skip(f"{binary} is not built")
    proc = run([binary, "--help"], timeout=10)
    assert proc.returncode == 0, proc.stderr
    options = set(re.findall(r"(?<![\w-])--[a-z][a-z-]*", proc.stdout))
    assert options, f"{binary} --help lists no long option"
    text = render(man_pages[page])
    missing = sorted(o for o in options if not has_word(text, o))
    assert not missing, f"{page} lacks {missing} of {binary.name} --help"


# The SysV script with a real daemon

def descendants(pid):
    """Processes whose parent is pid, recursively."""
    children = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry.name))
    out, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def alive(pid):
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2]
    except OSError:
        return False
    return state.split()[0] not in ("Z", "X")


@pytest.fixture
def sysv(tmp_path):
    """Run the generated SysV script against the built daemon."""
    if not os.access(SAFEEXITD, os.X_OK):
        pytest.skip(f"{SAFEEXITD} is not built")
    need("start-stop-daemon")
    if not os.path.exists("/lib/lsb/init-functions"):
        pytest.skip("/lib/lsb/init-functions is missing")
    for sub in ("etc", "run"):
        (tmp_path / sub).mkdir()
    script = generate(SCRIPTS["sysv"], tmp_path / "init.d" / "safeexitd",
                      "init/local.mk",
                      layout(tmp_path, sbindir=BUILDDIR, bindir=BUILDDIR))
    env = dict(os.environ, SYSTEMCTL_SKIP_REDIRECT="1")
    for name in ("NOTIFY_SOCKET", "LISTEN_FDS", "LISTEN_PID"):
        env.pop(name, None)
    started = []
    pidfile = tmp_path / "run" / "safeexitd.pid"

    def note_pid():
        try:
            started.append(int(pidfile.read_text().split()[0]))
        except (OSError, ValueError, IndexError):
            pass

    def action(*args):
        # To a file, not a pipe: a daemon may keep what it inherited open.
        with open(tmp_path / "output", "w+") as out:
            proc = run(["sh", script] + list(args), env=env, timeout=60,
                       stdout=out, stderr=subprocess.STDOUT)
            out.seek(0)
            proc.stdout, proc.stderr = out.read(), ""
        note_pid()
        return proc

    yield action
    note_pid()
    for pid in set(started):
        for p in [pid] + descendants(pid):
            try:
                os.kill(p, signal.SIGKILL)
            except OSError:
                pass


def write_config(tmp_path, pidfile=True):
    run_dir = tmp_path / "run"
    lines = ["[safeexitd]",
             f"socket = {run_dir / 'safeexitd.sock'}",
             f"log = {tmp_path / 'daemon.log'}",
             "shutdown_timeout = 20"]
    if pidfile:
        lines.append(f"pidfile = {run_dir / 'safeexitd.pid'}")
    lines += ["", "[program:sleeper]", "command = sleep 600",
              "start_secs = 0", "stop_timeout = 5", ""]
    (tmp_path / "etc" / "safeexitd.ini").write_text("\n".join(lines))


def test_sysv_script_lifecycle(tmp_path, sysv):
    """start, status, reload and stop a daemon through the SysV script."""
    write_config(tmp_path)
    pidfile = tmp_path / "run" / "safeexitd.pid"

    proc = sysv("start")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    pid = int(pidfile.read_text().split()[0])
    assert alive(pid)
    assert Path(f"/proc/{pid}/comm").read_text().strip() == "safeexitd"

    assert sysv("status").returncode == 0
    # Already running: success, and the same daemon.
    assert sysv("start").returncode == 0
    assert int(pidfile.read_text().split()[0]) == pid

    deadline = time.monotonic() + 10
    while not descendants(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    children = descendants(pid)
    assert children, "the program did not start"

    proc = sysv("reload")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert alive(pid)

    # A config the daemon rejects: reload fails and says where, the daemon
    # keeps running with its old config, and so does the program.
    config = tmp_path / "etc" / "safeexitd.ini"
    good = config.read_text()
    config.write_text(good + "stop_signal = NOPE\n")
    bad_line = len(good.splitlines()) + 1
    proc = sysv("reload")
    assert proc.returncode == 1, proc.stdout
    assert f"{config}:{bad_line}:" in proc.stdout, proc.stdout
    assert alive(pid)
    assert all(alive(c) for c in children)
    config.write_text(good)

    proc = sysv("stop")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert not alive(pid)
    assert not any(alive(c) for c in children), "a program was left behind"
    assert not pidfile.exists()
    assert sysv("status").returncode != 0
    # Not running: stop still succeeds.
    assert sysv("stop").returncode == 0


def test_sysv_script_needs_pidfile_key(tmp_path, sysv):
    """Without the pidfile key, start refuses instead of losing the daemon."""
    write_config(tmp_path, pidfile=False)
    proc = sysv("start")
    assert proc.returncode != 0
    assert "pidfile = " in proc.stdout + proc.stderr
    assert not (tmp_path / "run" / "safeexitd.sock").exists()


# bash completion

FAKE_CLIENT = """#!/bin/sh
printf '%s\\n' "$*" >>"{log}"
if [ -n "$FAKE_FAIL" ]; then
    echo "safeexitctl: cannot connect" >&2
    exit 3
fi
printf 'web RUNNING 4250 12s\\ndb STOPPED - -\\nworker.1 FATAL 1 -\\n'
exit 1
"""


@pytest.fixture
def complete(tmp_path):
    """complete(*words) -> (candidates, stderr); the last word is the one
    being completed.  The client is a fake that prints a status."""
    bash = need("bash")
    bindir = tmp_path / "bin"
    bindir.mkdir()
    client = bindir / "safeexitctl"
    log = tmp_path / "client.log"
    client.write_text(FAKE_CLIENT.format(log=log))
    client.chmod(client.stat().st_mode | stat.S_IXUSR)
    driver = (
        f'source "{SRCDIR / COMPLETION}" || exit 99\n'
        'COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))\n'
        'COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}\n'
        '_safeexitctl\n'
        'printf "%s\\n" "${COMPREPLY[@]}"\n')

    def complete_words(*words, fail=False):
        env = dict(os.environ, PATH=f"{bindir}:{os.environ.get('PATH', '')}")
        if fail:
            env["FAKE_FAIL"] = "1"
        proc = run([bash, "--norc", "--noprofile", "-c", driver, "bash",
                    "safeexitctl"] + list(words), env=env, timeout=30)
        assert proc.returncode == 0, proc.stderr
        return [w for w in proc.stdout.split("\n") if w], proc.stderr

    complete_words.log = log
    return complete_words


def test_completion_commands_and_options(complete):
    words, _ = complete("")
    assert words == SPEC_CTL_COMMANDS
    assert complete("st")[0] == ["status", "start", "stop"]
    assert set(complete("-")[0]) == {
        "-s", "--socket", "-c", "--config", "-t", "--timeout", "--json",
        "-h", "--help", "-V", "--version"}
    assert complete("stop", "--n")[0] == ["--no-wait"]
    assert complete("status", "--j")[0] == ["--json"]
    assert {"-f", "-n"} <= set(complete("tail", "-")[0])
    assert {"-S", "--signal", "-t", "--timeout"} <= set(
        complete("kill", "-")[0])
    assert complete("reload", "")[0] == []
    # The value of a global option is not the command.
    assert complete("-t", "5", "st")[0] == ["status", "start", "stop"]
    assert complete("--timeout", "=", "5", "re")[0] == [
        "restart", "reload", "reexec"]


def test_completion_signals_and_streams(complete):
    signals = complete("signal", "")[0]
    assert {"TERM", "HUP", "USR1", "KILL"} <= set(signals)
    assert complete("signal", "US")[0] == ["USR1", "USR2"]
    assert complete("kill", "-S", "TE")[0] == ["TERM"]
    assert complete("tail", "-n", "5", "web", "")[0] == ["stdout", "stderr"]


def test_completion_program_names(complete):
    assert complete("stop", "")[0] == ["web", "db", "worker.1", "all"]
    assert complete("status", "w")[0] == ["web", "worker.1"]
    assert complete("pid", "")[0] == ["web", "db", "worker.1"]
    assert complete("tail", "-f", "")[0] == ["web", "db", "worker.1"]
    # Names already given are not offered again.
    assert complete("restart", "web", "")[0] == ["db", "worker.1", "all"]
    assert complete("signal", "HUP", "d")[0] == ["db"]


def test_completion_honours_socket_and_config(complete):
    complete("-s", "/tmp/x.sock", "-t", "3", "stop", "")
    complete("-c", "/etc/other.ini", "status", "")
    # "--socket=PATH" comes as three words with the default COMP_WORDBREAKS.
    assert complete("--socket", "=", "/tmp/y.sock", "pid", "")[0] == [
        "web", "db", "worker.1"]
    calls = complete.log.read_text().splitlines()
    assert calls[0].startswith("-s /tmp/x.sock ")
    assert calls[1].startswith("-c /etc/other.ini ")
    assert calls[2].startswith("--socket /tmp/y.sock ")
    assert all(c.endswith(" status") for c in calls)


def test_completion_silent_without_daemon(complete):
    words, err = complete("stop", "", fail=True)
    assert words == ["all"]
    assert err == ""
