# Tests: C unit tests (TAP) against pure logic with a fake clock, and the
# pytest integration suite (real daemon, real client, real children), whose
# cases are reported one by one through TAP as well.
TEST_EXTENSIONS = .test
LOG_DRIVER = env AM_TAP_AWK='$(AWK)' $(SHELL) $(top_srcdir)/build-aux/tap-driver.sh
TEST_LOG_DRIVER = $(LOG_DRIVER)

unit_tests = \
	tests/unit/test-parse \
	tests/unit/test-protocol \
	tests/unit/test-lifecycle \
	tests/unit/test-deadline \
	tests/unit/test-planner \
	tests/unit/test-events
if PLATFORM_POSIX
# These use POSIX files (FIFOs, modes) and parse POSIX-only checks.
unit_tests += tests/unit/test-config tests/unit/test-check
# The stop timeline: a real event loop and a temporary file.
unit_tests += tests/unit/test-timeline
# The XML-RPC codec over libexpat (POSIX only, as the HTTP server).
unit_tests += tests/unit/test-xmlrpc
check_PROGRAMS += $(unit_tests) tests/helpers/testchild
TESTS += $(unit_tests)
else
# A Windows build: the unit tests that apply there run under wine, with
# the Windows suite (tests/win32/local.mk).
check_PROGRAMS += $(unit_tests)
endif

tests_unit_test_parse_SOURCES = tests/unit/test-parse.c tests/unit/tap.h
tests_unit_test_parse_LDADD = lib/libsafeexit.a

tests_unit_test_protocol_SOURCES = tests/unit/test-protocol.c tests/unit/tap.h
tests_unit_test_protocol_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS)
tests_unit_test_protocol_LDADD = lib/libsafeexit.a $(JSONC_LIBS)

tests_unit_test_config_SOURCES = tests/unit/test-config.c tests/unit/tap.h
tests_unit_test_config_CFLAGS = $(AM_CFLAGS) $(INIH_CFLAGS) -DSRCDIR='"$(abs_top_srcdir)"'
tests_unit_test_config_LDADD = daemon/libsafeexitd.a lib/libsafeexit.a $(daemon_libs) $(LIBSYSTEMD_LIBS)

tests_unit_test_lifecycle_SOURCES = tests/unit/test-lifecycle.c tests/unit/tap.h
tests_unit_test_lifecycle_LDADD = daemon/libsafeexitd.a lib/libsafeexit.a $(daemon_libs) $(LIBSYSTEMD_LIBS)

tests_unit_test_deadline_SOURCES = tests/unit/test-deadline.c tests/unit/tap.h
tests_unit_test_deadline_CFLAGS = $(AM_CFLAGS) $(LIBEVENT_CFLAGS)
tests_unit_test_deadline_LDADD = daemon/libsafeexitd.a lib/libsafeexit.a $(LIBEVENT_LIBS) $(INIH_LIBS) $(JSONC_LIBS) $(LIBSYSTEMD_LIBS)

tests_unit_test_planner_SOURCES = tests/unit/test-planner.c tests/unit/tap.h
tests_unit_test_planner_LDADD = daemon/libsafeexitd.a lib/libsafeexit.a $(daemon_libs) $(LIBSYSTEMD_LIBS)

tests_unit_test_check_SOURCES = tests/unit/test-check.c tests/unit/tap.h
tests_unit_test_check_LDADD = daemon/libsafeexitd.a lib/libsafeexit.a $(daemon_libs) $(LIBSYSTEMD_LIBS)

tests_unit_test_events_SOURCES = tests/unit/test-events.c tests/unit/tap.h
tests_unit_test_events_LDADD = daemon/libsafeexitd.a lib/libsafeexit.a $(LIBEVENT_LIBS) $(INIH_LIBS) $(JSONC_LIBS) $(LIBSYSTEMD_LIBS)

tests_unit_test_timeline_SOURCES = tests/unit/test-timeline.c tests/unit/tap.h
tests_unit_test_timeline_CFLAGS = $(AM_CFLAGS) $(LIBEVENT_CFLAGS) $(JSONC_CFLAGS)
tests_unit_test_timeline_LDADD = daemon/libsafeexitd.a lib/libsafeexit.a $(daemon_libs) $(LIBSYSTEMD_LIBS) -lm

tests_unit_test_xmlrpc_SOURCES = tests/unit/test-xmlrpc.c tests/unit/tap.h
tests_unit_test_xmlrpc_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS)
tests_unit_test_xmlrpc_LDADD = daemon/libsafeexitd.a lib/libsafeexit.a $(daemon_libs) $(LIBSYSTEMD_LIBS)

tests_helpers_testchild_SOURCES = tests/helpers/testchild.c

# The whole pytest suite is one automake test; its cases are TAP lines.
if PLATFORM_POSIX
TESTS += tests/integration/pytest.test
endif
TESTS_ENVIRONMENT = \
	SAFEEXITD_BUILDDIR='$(abs_top_builddir)'; \
	SAFEEXITD_SRCDIR='$(abs_top_srcdir)'; \
	PYTHON3='$(PYTHON3)'; \
	export SAFEEXITD_BUILDDIR SAFEEXITD_SRCDIR PYTHON3;

# distdir copies a listed folder from the build tree as well as from the
# source tree, so what a test run left in the build tree (its logs and
# results, which would make the tarball's own make check think it had run)
# is removed from the copy.
EXTRA_DIST += tests/integration tests/unit/tap.h
dist-hook: tests-dist-hook
tests-dist-hook:
	find $(distdir)/tests -name __pycache__ -prune -exec rm -rf {} +
	find $(distdir)/tests -name .pytest_cache -prune -exec rm -rf {} +
	find $(distdir)/tests \( -name '*.log' -o -name '*.trs' \) -exec rm -f {} +

# Fuzzing (./configure --enable-fuzzing CC=clang): libFuzzer targets for the
# config loader, the protocol decoder and the small parsers.  `make
# fuzz-smoke` runs each for FUZZ_SECONDS over its seed corpus and its
# regression inputs and records the outcome like a test.
FUZZ_SECONDS = 60
EXTRA_DIST += tests/fuzz
if ENABLE_FUZZING
fuzz_targets = tests/fuzz/fuzz-config tests/fuzz/fuzz-request tests/fuzz/fuzz-parsers \
	tests/fuzz/fuzz-http
fuzz_names = config request parsers http
if PLATFORM_POSIX
fuzz_targets += tests/fuzz/fuzz-xmlrpc
fuzz_names += xmlrpc
endif
noinst_PROGRAMS += $(fuzz_targets)
fuzz_libs = daemon/libsafeexitd.a lib/libsafeexit.a $(daemon_libs) $(LIBSYSTEMD_LIBS)
tests_fuzz_fuzz_config_SOURCES = tests/fuzz/fuzz-config.c
tests_fuzz_fuzz_config_LDFLAGS = -fsanitize=fuzzer
tests_fuzz_fuzz_config_LDADD = $(fuzz_libs)
tests_fuzz_fuzz_request_SOURCES = tests/fuzz/fuzz-request.c
tests_fuzz_fuzz_request_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS)
tests_fuzz_fuzz_request_LDFLAGS = -fsanitize=fuzzer
tests_fuzz_fuzz_request_LDADD = $(fuzz_libs)
tests_fuzz_fuzz_parsers_SOURCES = tests/fuzz/fuzz-parsers.c
tests_fuzz_fuzz_parsers_LDFLAGS = -fsanitize=fuzzer
tests_fuzz_fuzz_parsers_LDADD = $(fuzz_libs)
tests_fuzz_fuzz_http_SOURCES = tests/fuzz/fuzz-http.c
tests_fuzz_fuzz_http_LDFLAGS = -fsanitize=fuzzer
tests_fuzz_fuzz_http_LDADD = $(fuzz_libs)
tests_fuzz_fuzz_xmlrpc_SOURCES = tests/fuzz/fuzz-xmlrpc.c
tests_fuzz_fuzz_xmlrpc_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS)
tests_fuzz_fuzz_xmlrpc_LDFLAGS = -fsanitize=fuzzer
tests_fuzz_fuzz_xmlrpc_LDADD = $(fuzz_libs)

fuzz-smoke: $(fuzz_targets)
	@for t in $(fuzz_names); do \
	  mkdir -p fuzz-corpus/$$t; \
	  regress=$(srcdir)/tests/fuzz/regressions/$$t; \
	  result=PASS; \
	  if [ -d $$regress ] && ls $$regress/* >/dev/null 2>&1; then \
	    ./tests/fuzz/fuzz-$$t -runs=0 $$regress/* > tests/fuzz/fuzz-$$t.log 2>&1 || result=FAIL; \
	  fi; \
	  ./tests/fuzz/fuzz-$$t -max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=2048 \
	    -artifact_prefix=tests/fuzz/crash-$$t- fuzz-corpus/$$t $(srcdir)/tests/fuzz/corpus/$$t \
	    >> tests/fuzz/fuzz-$$t.log 2>&1 || result=FAIL; \
	  tail -n 3 tests/fuzz/fuzz-$$t.log; \
	  echo "$$result: fuzz-$$t"; \
	  printf ':test-result: %s\n' $$result > tests/fuzz/fuzz-$$t.trs; \
	done; \
	! grep -l FAIL tests/fuzz/*.trs
else
fuzz-smoke:
	@echo "fuzz-smoke: configure with --enable-fuzzing CC=clang" >&2; exit 1
endif
.PHONY: fuzz-smoke

# Bounded stress runs: 1,000 programs, 200 concurrent clients during crash
# loops, a long crash loop compressed.  Not part of `make check`.
stress:
	$(MAKE) $(AM_MAKEFLAGS) check TESTS=tests/integration/stress.test
.PHONY: stress

# Benchmarks against a posix_spawn floor and supervisord (bench/README.md);
# never part of make check.  The files are listed one by one and the target
# is not called "bench": distdir makes every EXTRA_DIST entry that is also a
# target, so a "bench" target would run the whole benchmark in `make dist`.
EXTRA_DIST += bench/README.md bench/results.md bench/run bench/harness \
	bench/child.c bench/floor.c bench/page bench/rpc
benchmark: safeexitd safeexitctl
	BENCH_BUILDDIR='$(abs_top_builddir)' $(srcdir)/bench/run
.PHONY: benchmark
