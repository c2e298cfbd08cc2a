"""The Debian package (debian/) and the container example (examples/container).

test_deb_builds_and_ships_everything builds the package from a copy of the
source tree (the files git knows or would add: what a checkout holds, with
the changes not yet committed, without build products) with
`DEB_BUILD_OPTIONS=nocheck dpkg-buildpackage -us -uc -b`, unpacks it with
`dpkg -x` into a temporary folder (no maintainer script runs, nothing is
installed) and checks what it ships and where: the binaries, which work
from there (`--check` of the packaged conffile, `--help`, and a short run of
the daemon with the client against each other), the conffiles, the systemd
units, the SysV script, the manual pages, the bash completion and the
documentation; and that the maintainer scripts never start the SysV script
(which would fail an install outside systemd) and never restart the daemon
on upgrade.  It takes minutes, so it runs only with SAFEEXITD_PACKAGE_TEST=1,
and skips when dpkg-buildpackage, debhelper or a build dependency is
missing.

The other tests are quick and always run: the package's version and build
dependencies agree with configure.ac, and the container example's config
passes --check and fits Docker's stop timeout, as docs/CONTAINER.md says.
"""

import gzip
import json
import os
import re
import shutil
import signal
import stat
import subprocess
from pathlib import Path

import pytest

from conftest import SAFEEXITD, SRCDIR, daemon_env, pid_running, wait_gone

DEBIAN = SRCDIR / "debian"
CONTAINER = SRCDIR / "examples" / "container"
DOCKER_STOP_TIMEOUT = 10
BUILD_TIMEOUT = 1800
WAIT = 30

# configure.ac's pkg-config modules and the Debian packages providing them.
BUILD_DEPENDS = {"libevent_core": "libevent-dev", "inih": "libinih-dev",
                 "json-c": "libjson-c-dev", "libsystemd": "libsystemd-dev"}
# Left to the build: the outer make's jobserver is not the package build's.
MAKE_ENV = ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES", "DESTDIR")
# What a copy of a tree that is not a git checkout leaves out.
NOT_SOURCE = shutil.ignore_patterns(
    ".git", "build", "build-*", "autom4te.cache", "__pycache__",
    ".pytest_cache", "*.o", "*.a", "*.deb", "config.status", "config.log",
    ".debhelper", "debhelper-build-stamp")


def configure_version():
    """Return the version in AC_INIT of configure.ac."""
    text = (SRCDIR / "configure.ac").read_text()
    m = re.search(r"AC_INIT\(\[[^\]]+\],\s*\[([^\]]+)\]", text)
    assert m, "no AC_INIT version in configure.ac"
    return m.group(1)


def changelog_version():
    """Return the version of the newest debian/changelog entry."""
    first = (DEBIAN / "changelog").read_text().splitlines()[0]
    m = re.match(r"^safeexitd \(([^)]+)\) ", first)
    assert m, f"debian/changelog: unexpected first line {first!r}"
    return m.group(1)


def ini_values(path, section):
    """Return {key: value} of one section of an INI file (no continuations)."""
    values = {}
    current = None
    for line in Path(path).read_text().splitlines():
        stripped = line.strip()
        if not stripped or stripped[0] in ";#":
            continue
        if stripped.startswith("["):
            current = stripped.strip("[]").strip()
            continue
        key, sep, value = stripped.partition("=")
        if sep and current == section and not line[0].isspace():
            values[key.strip()] = re.split(r"\s+[;#]", value.strip())[0]
    return values


def test_debian_version_and_build_depends_match_configure():
    if not DEBIAN.is_dir():
        pytest.skip("no debian/ in this source tree")
    # A native package: the version is configure.ac's.
    assert changelog_version() == configure_version(), \
        "debian/changelog and AC_INIT in configure.ac name different versions"
    control = (DEBIAN / "control").read_text()
    build_depends = re.search(r"^Build-Depends:(.*?)^\S", control,
                              re.M | re.S).group(1)
    names = set(re.findall(r"([a-z0-9][a-z0-9.+-]+)", build_depends))
    configure = (SRCDIR / "configure.ac").read_text()
    for module, package in BUILD_DEPENDS.items():
        assert module in configure
        assert package in names, f"Build-Depends lacks {package}"
    for package in ("autoconf", "automake", "pkg-config"):
        assert package in names, f"Build-Depends lacks {package}"
    assert re.search(r"debhelper-compat \(= 13\)", build_depends)
    rules = (DEBIAN / "rules").read_text()
    assert os.access(DEBIAN / "rules", os.X_OK), "debian/rules is not executable"
    assert "--with-systemdsystemunitdir=" in rules
    assert "--with-systemduserunitdir=" in rules


def test_container_example_fits_docker():
    ini = CONTAINER / "safeexitd.ini"
    result = subprocess.run([str(SAFEEXITD), "--check", "-c", str(ini)],
                            capture_output=True, text=True, timeout=WAIT,
                            stdin=subprocess.DEVNULL, env=daemon_env())
    assert result.returncode == 0 and result.stderr == "", result.stderr

    main = ini_values(ini, "safeexitd")
    # The staged shutdown ends before docker stop's SIGKILL.
    assert float(main["shutdown_timeout"]) < DOCKER_STOP_TIMEOUT
    assert main["exit_on_fatal"] == "true"
    programs = re.findall(r"^\[program:([^\]]+)\]", ini.read_text(), re.M)
    assert len(programs) >= 2

    dockerfile = (CONTAINER / "Dockerfile").read_text()
    entry = re.findall(r"^ENTRYPOINT\s+(.+)$", dockerfile, re.M)
    assert len(entry) == 1
    # The exec form, so the daemon itself is PID 1 and gets SIGTERM.
    assert json.loads(entry[0]) == ["safeexitd", "-c", "/etc/safeexitd.ini"]
    assert re.search(r"^STOPSIGNAL SIGTERM$", dockerfile, re.M)
    assert re.search(r"^FROM debian:bookworm", dockerfile, re.M)
    assert re.search(r"^COPY examples/container/safeexitd.ini "
                     r"/etc/safeexitd.ini$", dockerfile, re.M)
    health = re.search(r'CMD \["safeexitctl", "status", (.*)\]', dockerfile)
    assert health, "no HEALTHCHECK with safeexitctl status"
    assert sorted(json.loads(f"[{health.group(1)}]")) == sorted(programs)


# Loaded with the first https check (daemon/tlslib.c), never linked: a
# daemon without one maps none of them, and the container needs none.
TLS_PACKAGES = {"libevent-openssl-2.1-7", "libssl3"}


def linked_packages(binary):
    """The Debian packages of the shared libraries binary links."""
    out = subprocess.run(["ldd", str(binary)], capture_output=True,
                         text=True, timeout=WAIT, check=True).stdout
    packages = set()
    for path in re.findall(r"=> (/\S+)", out):
        for candidate in (path, "/usr" + path):
            r = subprocess.run(["dpkg", "-S", candidate],
                               capture_output=True, text=True, timeout=WAIT)
            if r.returncode == 0:
                packages.add(r.stdout.split(":")[0])
                break
        else:
            pytest.skip(f"no Debian package holds {path}")
    return packages


@pytest.mark.skipif(shutil.which("dpkg") is None or
                    shutil.which("ldd") is None,
                    reason="needs dpkg and ldd")
def test_container_runtime_has_every_library_the_daemon_links():
    dockerfile = (CONTAINER / "Dockerfile").read_text()
    runtime = dockerfile[dockerfile.rindex("\nFROM "):]
    install = re.search(r"apt-get install[^&]*", runtime, re.S).group(0)
    wanted = linked_packages(SAFEEXITD) - {"libc6"}
    if any(p.startswith(("libasan", "libubsan", "libtsan")) for p in wanted):
        pytest.skip("a sanitizer build links its runtimes; the container's "
                    "build does not")
    assert wanted
    assert not wanted & TLS_PACKAGES
    missing = {p for p in wanted if not re.search(rf"\b{re.escape(p)}\b",
                                                  install)}
    assert not missing, f"the runtime stage does not install {missing}"


def copy_source(dst):
    """Copy the source tree into dst without build products."""
    listed = None
    if (SRCDIR / ".git").exists() and shutil.which("git"):
        # Tracked files and new ones not ignored: read-only for the checkout.
        result = subprocess.run(
            ["git", "-C", str(SRCDIR), "ls-files", "-z", "--cached",
             "--others", "--exclude-standard"],
            capture_output=True, timeout=WAIT)
        if result.returncode == 0:
            listed = [p for p in result.stdout.decode().split("\0") if p]
    if listed is None:
        shutil.copytree(SRCDIR, dst, symlinks=True, ignore=NOT_SOURCE)
        return
    for rel in listed:
        src = SRCDIR / rel
        if not src.exists() and not src.is_symlink():
            continue            # deleted, not yet committed
        target = dst / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if src.is_symlink():
            os.symlink(os.readlink(src), target)
        else:
            shutil.copy2(src, target)


def build_env():
    """The environment of dpkg-buildpackage."""
    env = {k: v for k, v in os.environ.items() if k not in MAKE_ENV}
    env["DEB_BUILD_OPTIONS"] = f"nocheck parallel={os.cpu_count() or 1}"
    env["LC_ALL"] = "C.UTF-8"
    return env


def text_of(path):
    """The text of a file, gunzipped when its name ends in .gz."""
    data = path.read_bytes()
    if path.name.endswith(".gz"):
        data = gzip.decompress(data)
    return data.decode("utf-8", "replace")


def one_of(root, *names):
    """Return the first of root/name that exists; fail naming them all."""
    for name in names:
        if (root / name).exists():
            return root / name
    raise AssertionError(f"none of {names} in the package")


@pytest.fixture(scope="module")
def package(tmp_path_factory):
    """Build the package once; return (deb path, unpacked root, control dir)."""
    if os.environ.get("SAFEEXITD_PACKAGE_TEST") != "1":
        pytest.skip("building the Debian package takes minutes: "
                    "set SAFEEXITD_PACKAGE_TEST=1 to run it")
    if not DEBIAN.is_dir():
        pytest.skip("no debian/ in this source tree")
    for tool, package_name in (("dpkg-buildpackage", "dpkg-dev"),
                               ("dpkg-checkbuilddeps", "dpkg-dev"),
                               ("dpkg-deb", "dpkg"),
                               ("dh", "debhelper"),
                               ("dh_autoreconf", "dh-autoreconf")):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is missing (apt-get install {package_name})")

    top = tmp_path_factory.mktemp("deb")
    src = top / "src" / f"safeexitd-{configure_version()}"
    copy_source(src)
    deps = subprocess.run(["dpkg-checkbuilddeps"], cwd=src,
                          capture_output=True, text=True, timeout=WAIT)
    if deps.returncode != 0:
        pytest.skip("build dependencies missing: " + deps.stderr.strip())

    log = top / "build.log"
    with open(log, "w") as out:
        result = subprocess.run(["dpkg-buildpackage", "-us", "-uc", "-b"],
                                cwd=src, stdin=subprocess.DEVNULL,
                                stdout=out, stderr=subprocess.STDOUT,
                                env=build_env(), timeout=BUILD_TIMEOUT)
    if result.returncode != 0:
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-60:])
        pytest.fail(f"dpkg-buildpackage failed ({result.returncode}); "
                    f"{log}:\n{tail}", pytrace=False)
    debs = [p for p in (top / "src").glob("safeexitd_*.deb")]
    assert len(debs) == 1, debs
    root = top / "root"
    subprocess.run(["dpkg-deb", "-x", str(debs[0]), str(root)], check=True,
                   timeout=WAIT)
    control = top / "control"
    subprocess.run(["dpkg-deb", "-e", str(debs[0]), str(control)], check=True,
                   timeout=WAIT)
    return debs[0], root, control


@pytest.mark.test_timeout(BUILD_TIMEOUT + 120)
def test_deb_builds_and_ships_everything(package, tmp_path):
    deb, root, control = package

    def field(name):
        return subprocess.run(["dpkg-deb", "-f", str(deb), name],
                              capture_output=True, text=True, check=True,
                              timeout=WAIT).stdout.strip()

    assert field("Package") == "safeexitd"
    assert field("Version") == configure_version()
    depends = field("Depends")
    for lib in ("libevent", "libinih", "libjson-c", "libsystemd"):
        assert lib in depends, depends

    # The binaries, from where the package put them.
    safeexitd = root / "usr" / "sbin" / "safeexitd"
    safeexitctl = root / "usr" / "bin" / "safeexitctl"
    for binary in (safeexitd, safeexitctl):
        assert binary.is_file() and os.access(binary, os.X_OK), binary
    conffile = root / "etc" / "safeexitd.ini"
    check = subprocess.run([str(safeexitd), "--check", "-c", str(conffile)],
                           capture_output=True, text=True, timeout=WAIT,
                           env=daemon_env())
    assert check.returncode == 0 and check.stderr == "", check.stderr
    help_ = subprocess.run([str(safeexitctl), "--help"], capture_output=True,
                           text=True, timeout=WAIT)
    assert help_.returncode == 0 and "usage: safeexitctl" in help_.stdout
    version = subprocess.run([str(safeexitd), "--version"],
                             capture_output=True, text=True, timeout=WAIT)
    assert version.stdout.strip() == f"safeexitd {configure_version()}"
    # Built with --sysconfdir=/etc: the default config is the conffile.
    usage = subprocess.run([str(safeexitd), "--help"], capture_output=True,
                           text=True, timeout=WAIT).stdout
    assert "(default: /etc/safeexitd.ini)" in usage

    # The conffile is the documented conf/safeexitd.ini with its pidfile
    # line on, the path the SysV script looks for.
    conffiles = (control / "conffiles").read_text().split()
    assert "/etc/safeexitd.ini" in conffiles
    shipped = conffile.read_text().splitlines()
    source = (SRCDIR / "conf" / "safeexitd.ini").read_text().splitlines()
    changed = [(a, b) for a, b in zip(source, shipped) if a != b]
    assert len(shipped) == len(source)
    assert changed == [(";pidfile = /run/safeexitd.pid",
                        "pidfile = /run/safeexitd.pid")], changed
    initd = root / "etc" / "init.d" / "safeexitd"
    assert initd.is_file() and os.access(initd, os.X_OK)
    assert "/etc/init.d/safeexitd" in conffiles
    assert re.search(r"^PIDFILE=/run/safeexitd\.pid$", initd.read_text(),
                     re.M)

    # The systemd units.
    unit = one_of(root, "lib/systemd/system/safeexitd.service",
                  "usr/lib/systemd/system/safeexitd.service")
    unit_text = unit.read_text()
    assert "ExecStart=/usr/sbin/safeexitd -c /etc/safeexitd.ini" in unit_text
    assert re.search(r"^Type=notify$", unit_text, re.M)
    assert not re.search(r"@[a-zA-Z_]+@", unit_text)
    user_unit = root / "usr/lib/systemd/user/safeexitd.service"
    assert "ExecStart=/usr/sbin/safeexitd" in user_unit.read_text()
    # A crash of the daemon leaves the programs for the restarted one; the
    # commands the units run after a stop and for a reload are in the
    # package, where the units say.
    for text in (unit_text, user_unit.read_text()):
        assert re.search(r"^KillMode=process$", text, re.M)
        for key in ("ExecStopPost", "ExecReload"):
            m = re.search(rf"^{key}=(\S+)", text, re.M)
            assert m, key
            command = root / m.group(1).lstrip("/")
            assert command.is_file() and os.access(command, os.X_OK), \
                (key, m.group(1))
    assert "ExecReload=/usr/bin/safeexitctl -c /etc/safeexitd.ini reload" \
        in unit_text

    # Manual pages, bash completion, documentation and examples.
    pages = {"man8/safeexitd.8", "man1/safeexitctl.1", "man5/safeexitd.ini.5"}
    for page in pages:
        path = one_of(root / "usr/share/man", page + ".gz", page)
        text = text_of(path)
        assert not re.search(r"@[a-zA-Z_]+@", text), page
        if page == "man8/safeexitd.8":
            assert "/etc/safeexitd.ini" in text
    completion = root / "usr/share/bash-completion/completions/safeexitctl"
    assert completion.is_file()
    if shutil.which("bash"):
        syntax = subprocess.run(["bash", "-n", str(completion)],
                                capture_output=True, text=True, timeout=WAIT)
        assert syntax.returncode == 0, syntax.stderr
    doc = root / "usr/share/doc/safeexitd"
    assert (doc / "copyright").is_file()
    for name in ("README.md", "CONTAINER.md", "MIGRATION.md", "PROTOCOL.md"):
        one_of(doc, name + ".gz", name)
    one_of(doc, "examples/supervisord/supervisord.conf",
           "examples/supervisord/supervisord.conf.gz")
    one_of(doc, "examples/container/Dockerfile",
           "examples/container/Dockerfile.gz")

    # Nothing in the package is writable by others or setuid.
    for path in root.rglob("*"):
        if path.is_symlink():
            continue
        mode = path.stat().st_mode
        assert not mode & (stat.S_IWOTH | stat.S_ISUID | stat.S_ISGID), path

    # Maintainer scripts: valid sh; the SysV script is registered, never
    # started by them (outside systemd that could fail the install); a start
    # through systemd only where systemd runs; never a restart on upgrade,
    # which would stop every program (postinst re-executes the daemon).
    for name in ("postinst", "prerm", "postrm", "preinst"):
        script = control / name
        if script.exists():
            syntax = subprocess.run(["sh", "-n", str(script)],
                                    capture_output=True, text=True,
                                    timeout=WAIT)
            assert syntax.returncode == 0, (name, syntax.stderr)
    postinst = (control / "postinst").read_text()
    assert "update-rc.d safeexitd defaults" in postinst
    assert "invoke-rc.d" not in postinst
    assert not re.search(r"deb-systemd-invoke\s+(\$_dh_action|restart|"
                         r"try-restart)", postinst)
    for m in re.finditer(r"deb-systemd-invoke start", postinst):
        guard = postinst.rfind("if ", 0, m.start())
        assert "/run/systemd/system" in postinst[guard:m.start()], \
            "a start not guarded by a running systemd"
    assert "safeexitctl -c /etc/safeexitd.ini" in postinst and \
        "reexec" in postinst

    # The packaged daemon and client work together.
    run_packaged(safeexitd, safeexitctl, tmp_path)


def run_packaged(safeexitd, safeexitctl, workdir):
    """Start the unpacked daemon on a small config, ask its client, stop it."""
    sock = workdir / "ctl.sock"
    config = workdir / "run.ini"
    config.write_text(f"[safeexitd]\nsocket = {sock}\nshutdown_timeout = 10\n"
                      "\n[program:sleeper]\ncommand = /bin/sleep 300\n"
                      "start_secs = 0\nstop_timeout = 5\n")
    proc = subprocess.Popen([str(safeexitd), "-c", str(config)],
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, cwd=workdir,
                            env=daemon_env())
    sleeper = None
    try:
        for line in proc.stdout:
            if "notice: ready:" in line:
                break
        else:
            raise AssertionError(f"the packaged daemon exited "
                                 f"({proc.wait()}) before it was ready")
        status = subprocess.run([str(safeexitctl), "-s", str(sock), "status",
                                 "--json"], capture_output=True, text=True,
                                timeout=WAIT)
        assert status.returncode == 0, status.stderr
        (program,) = json.loads(status.stdout)["programs"]
        assert program["name"] == "sleeper" and program["state"] == "RUNNING"
        sleeper = program["pid"]
        done = subprocess.run([str(safeexitctl), "-s", str(sock),
                               "shutdown"], capture_output=True, text=True,
                              timeout=WAIT)
        assert done.returncode == 0, done.stderr
        assert proc.wait(WAIT) == 0
        assert not wait_gone([sleeper], 5)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(WAIT)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        proc.stdout.close()
        if sleeper is not None and pid_running(sleeper):
            os.kill(sleeper, signal.SIGKILL)
