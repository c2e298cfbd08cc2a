# The Windows test suite: programs built by the cross build and run under
# wine by tests/win32/run (`tools/build-win32 --check`), which reports each
# script's checks through TAP.  `make check` in a Windows build runs it as
# tests/win32-check.test (skipped, with the reason, without wine).
EXTRA_DIST += tests/win32 tests/win32-check.test
if PLATFORM_WIN32
TESTS += tests/win32-check.test
noinst_PROGRAMS += tests/win32/winchild tests/win32/ctrlevent \
	tests/win32/svcctl
tests_win32_winchild_SOURCES = tests/win32/winchild.c
tests_win32_ctrlevent_SOURCES = tests/win32/ctrlevent.c
tests_win32_svcctl_SOURCES = tests/win32/svcctl.c
endif
