# Init-system files and the bash completion.
#
# The systemd units and the SysV and OpenRC scripts are made from their .in
# templates here, not by configure: configure would leave ${prefix} in
# @sbindir@ and friends, make expands it.  Each file is built under the name
# it is installed as, so the usual install, uninstall and DESTDIR rules apply.
#
# systemdsystemunitdir and systemduserunitdir come from configure
# (--with-systemdsystemunitdir, --with-systemduserunitdir).  Every directory
# can also be overridden on the make command line, for example
# "make install initddir=/etc/init.d"; an empty one ("systemduserunitdir=")
# skips installing those files.
initddir = $(sysconfdir)/init.d
# Not in init.d, where it would clash with the SysV script: distributions
# with OpenRC copy it from here.
openrcdir = $(pkgdatadir)/openrc
bashcompletiondir = $(datadir)/bash-completion/completions

# Without libsystemd the daemon cannot send READY=1, so the units must not
# wait for it.
if HAVE_LIBSYSTEMD
safeexitd_service_type = notify
else
safeexitd_service_type = exec
endif

# The "[@]" keeps config.status from substituting these in the Makefile.
init_edit = sed \
	-e 's|@sbindir[@]|$(sbindir)|g' \
	-e 's|@bindir[@]|$(bindir)|g' \
	-e 's|@sysconfdir[@]|$(sysconfdir)|g' \
	-e 's|@runstatedir[@]|$(runstatedir)|g' \
	-e 's|@pkglibexecdir[@]|$(pkglibexecdir)|g' \
	-e 's|@PACKAGE_VERSION[@]|$(PACKAGE_VERSION)|g' \
	-e 's|@SYSTEMD_SERVICE_TYPE[@]|$(safeexitd_service_type)|g'

init_generated = \
	init/safeexitd.service \
	init/user/safeexitd.service \
	init/sysv/safeexitd \
	init/openrc/safeexitd

if PLATFORM_POSIX
systemdsystemunit_DATA = init/safeexitd.service
# The per-user unit is installed as safeexitd.service too, for
# "systemctl --user start safeexitd".
systemduserunit_DATA = init/user/safeexitd.service
initd_SCRIPTS = init/sysv/safeexitd
openrc_SCRIPTS = init/openrc/safeexitd
bashcompletion_DATA = completion/safeexitctl
# ExecStopPost= of both units: ends what a stopped daemon left in the
# unit's cgroup, and keeps the programs after a crash.
dist_pkglibexec_SCRIPTS = init/safeexitd-stop-post
endif

EXTRA_DIST += \
	init/safeexitd.service.in \
	init/safeexitd-user.service.in \
	init/safeexitd.init.in \
	init/safeexitd.openrc.in \
	completion/safeexitctl.bash
CLEANFILES += $(init_generated) completion/safeexitctl

init/safeexitd.service: $(srcdir)/init/safeexitd.service.in Makefile
	$(AM_V_GEN)$(MKDIR_P) init && \
	$(init_edit) $(srcdir)/init/safeexitd.service.in >$@.tmp && \
	mv -f $@.tmp $@

init/user/safeexitd.service: $(srcdir)/init/safeexitd-user.service.in Makefile
	$(AM_V_GEN)$(MKDIR_P) init/user && \
	$(init_edit) $(srcdir)/init/safeexitd-user.service.in >$@.tmp && \
	mv -f $@.tmp $@

init/sysv/safeexitd: $(srcdir)/init/safeexitd.init.in Makefile
	$(AM_V_GEN)$(MKDIR_P) init/sysv && \
	$(init_edit) $(srcdir)/init/safeexitd.init.in >$@.tmp && \
	chmod +x $@.tmp && mv -f $@.tmp $@

init/openrc/safeexitd: $(srcdir)/init/safeexitd.openrc.in Makefile
	$(AM_V_GEN)$(MKDIR_P) init/openrc && \
	$(init_edit) $(srcdir)/init/safeexitd.openrc.in >$@.tmp && \
	chmod +x $@.tmp && mv -f $@.tmp $@

# bash-completion looks the file up by the command's name.
completion/safeexitctl: $(srcdir)/completion/safeexitctl.bash
	$(AM_V_GEN)$(MKDIR_P) completion && \
	cp $(srcdir)/completion/safeexitctl.bash $@.tmp && \
	mv -f $@.tmp $@
