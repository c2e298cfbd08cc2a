# Tests: C unit tests (TAP) against pure logic with a fake clock, and the
# pytest integration suite (real daemon, real client, real children), whose
# cases are reported one by one through TAP as well.
TEST_EXTENSIONS = .test
LOG_DRIVER = env AM_TAP_AWK='$(AWK)' $(SHELL) $(top_srcdir)/build-aux/tap-driver.sh
TEST_LOG_DRIVER = $(LOG_DRIVER)

unit_tests = \
	tests/unit/test-parse \
	tests/unit/test-config \
	tests/unit/test-lifecycle
check_PROGRAMS += $(unit_tests) tests/helpers/testchild
TESTS += $(unit_tests)

tests_unit_test_parse_SOURCES = tests/unit/test-parse.c tests/unit/tap.h
tests_unit_test_parse_LDADD = lib/libsafeexit.a

tests_unit_test_config_SOURCES = tests/unit/test-config.c tests/unit/tap.h
tests_unit_test_config_CFLAGS = $(AM_CFLAGS) $(INIH_CFLAGS) -DSRCDIR='"$(abs_top_srcdir)"'
tests_unit_test_config_LDADD = daemon/libsafeexitd.a lib/libsafeexit.a $(LIBEVENT_LIBS) $(INIH_LIBS) $(JSONC_LIBS) $(LIBSYSTEMD_LIBS)

tests_unit_test_lifecycle_SOURCES = tests/unit/test-lifecycle.c tests/unit/tap.h
tests_unit_test_lifecycle_LDADD = daemon/libsafeexitd.a lib/libsafeexit.a $(LIBEVENT_LIBS) $(INIH_LIBS) $(JSONC_LIBS) $(LIBSYSTEMD_LIBS)

tests_helpers_testchild_SOURCES = tests/helpers/testchild.c

# The whole pytest suite is one automake test; its cases are TAP lines.
TESTS += tests/integration/pytest.test
TESTS_ENVIRONMENT = \
	SAFEEXITD_BUILDDIR='$(abs_top_builddir)'; \
	SAFEEXITD_SRCDIR='$(abs_top_srcdir)'; \
	PYTHON3='$(PYTHON3)'; \
	export SAFEEXITD_BUILDDIR SAFEEXITD_SRCDIR PYTHON3;

EXTRA_DIST += tests/integration tests/unit/tap.h
dist-hook: tests-dist-hook
tests-dist-hook:
	find $(distdir)/tests -name __pycache__ -prune -exec rm -rf {} +
	find $(distdir)/tests -name .pytest_cache -prune -exec rm -rf {} +
