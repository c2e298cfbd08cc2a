# Shared by the Windows tests (sourced): TAP output, wine, a private daemon
# per test on a pipe name of its own, and waiting for things by polling.
#
# The runner (tests/win32/run) sets SAFEEXITD_BUILDDIR, WINEPREFIX and
# WINEDEBUG.  Paths given to the Windows programs are Unix paths: wine takes
# "/tmp/x" as a path on the current drive, which is the Unix root when the
# tests start from a Unix folder.

set -u
: "${SAFEEXITD_BUILDDIR:?run the Windows tests through tests/win32/run}"
B=$SAFEEXITD_BUILDDIR
WINE=${WINE:-wine}
D="$B/safeexitd.exe"
CTL="$B/safeexitctl.exe"
CHILD="$B/tests/win32/winchild.exe"
CTRLEVENT="$B/tests/win32/ctrlevent.exe"
TEST=$(basename "$0" .test)
T=$(mktemp -d "${TMPDIR:-/tmp}/safeexitd-win32-$TEST.XXXXXX")
PIPE="\\\\.\\pipe\\safeexitd-test-$TEST-$$"
DPID=
tap_n=0
tap_fail=0

# One TAP result: ok DESCRIPTION COMMAND...
ok() {
	desc=$1
	shift
	tap_n=$((tap_n + 1))
	if "$@"; then
		echo "ok $tap_n - $desc"
	else
		echo "not ok $tap_n - $desc"
		tap_fail=$((tap_fail + 1))
	fi
}

# A check that cannot run here: skip DESCRIPTION REASON.
skip() {
	tap_n=$((tap_n + 1))
	echo "ok $tap_n - $1 # SKIP $2"
}

# A comment in the log.
note() {
	echo "# $*"
}

# Whether the Windows programs run under wine (not on Windows itself).
under_wine() {
	[ "$(uname -s 2>/dev/null)" = Linux ] || [ -n "${WINELOADER:-}" ]
}

# Run a Windows program.
w() {
	"$WINE" "$@"
}

# safeexitctl against this test's daemon.
ctl() {
	"$WINE" "$CTL" -s "$PIPE" "$@"
}

# Poll until COMMAND succeeds: wait_for SECONDS COMMAND...
wait_for() {
	secs=$1
	shift
	end=$(($(date +%s) + secs))
	while ! "$@" 2>/dev/null; do
		[ "$(date +%s)" -ge "$end" ] && return 1
		sleep 0.2
	done
	return 0
}

# Whether the file holds a line matching the pattern: has FILE PATTERN.
has() {
	grep -q -- "$2" "$1" 2>/dev/null
}

# Start this test's daemon on CONFIG in the foreground, in the background
# of the shell, and wait until it answers.
daemon_start() {
	"$WINE" "$D" -c "$1" -s "$PIPE" -l debug >"$T/daemon.log" 2>&1 &
	DPID=$!
	if ! wait_for 60 ctl status >/dev/null 2>&1 &&
	    ! wait_for 1 has "$T/daemon.log" "notice: ready"; then
		note "the daemon did not come up; its log:"
		sed 's/^/# /' "$T/daemon.log"
		return 1
	fi
	return 0
}

# Whether this test's daemon has exited.
daemon_gone() {
	! kill -0 "$DPID" 2>/dev/null
}

# Wait for the daemon to exit and return its exit status.
daemon_wait() {
	wait_for "${1:-30}" daemon_gone || return 124
	wait "$DPID"
}

# The state of a program: state NAME.
state() {
	ctl status "$1" 2>/dev/null | awk '{ print $2 }'
}

# Whether program NAME is in STATE: in_state NAME STATE.
in_state() {
	[ "$(state "$1")" = "$2" ]
}

# The Windows pid a winchild wrote into its events file first.
child_pid() {
	awk '$1 == "start" { print $2; exit }' "$1"
}

# Show the daemon's log and clean up; the exit status follows the results.
finish() {
	if [ -n "$DPID" ] && ! daemon_gone; then
		ctl shutdown >/dev/null 2>&1
		daemon_wait 20 >/dev/null 2>&1 || kill "$DPID" 2>/dev/null
	fi
	if [ "$tap_fail" -gt 0 ] && [ -f "$T/daemon.log" ]; then
		note "daemon log:"
		sed 's/^/# /' "$T/daemon.log"
	fi
	echo "1..$tap_n"
	rm -rf "$T"
	[ "$tap_fail" -eq 0 ]
}
