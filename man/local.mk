# Manual pages, made from their .in templates at make time so the paths
# they name are the configured ones, with ${prefix} expanded.
man_MANS = \
	man/safeexitd.8 \
	man/safeexitctl.1 \
	man/safeexitd.ini.5

# The "[@]" keeps config.status from substituting these in the Makefile.
man_edit = sed \
	-e 's|@sbindir[@]|$(sbindir)|g' \
	-e 's|@bindir[@]|$(bindir)|g' \
	-e 's|@sysconfdir[@]|$(sysconfdir)|g' \
	-e 's|@runstatedir[@]|$(runstatedir)|g' \
	-e 's|@pkglibexecdir[@]|$(pkglibexecdir)|g' \
	-e 's|@PACKAGE_VERSION[@]|$(PACKAGE_VERSION)|g'

EXTRA_DIST += \
	man/safeexitd.8.in \
	man/safeexitctl.1.in \
	man/safeexitd.ini.5.in
CLEANFILES += $(man_MANS)

man/safeexitd.8: $(srcdir)/man/safeexitd.8.in Makefile
	$(AM_V_GEN)$(MKDIR_P) man && \
	$(man_edit) $(srcdir)/man/safeexitd.8.in >$@.tmp && mv -f $@.tmp $@

man/safeexitctl.1: $(srcdir)/man/safeexitctl.1.in Makefile
	$(AM_V_GEN)$(MKDIR_P) man && \
	$(man_edit) $(srcdir)/man/safeexitctl.1.in >$@.tmp && mv -f $@.tmp $@

man/safeexitd.ini.5: $(srcdir)/man/safeexitd.ini.5.in Makefile
	$(AM_V_GEN)$(MKDIR_P) man && \
	$(man_edit) $(srcdir)/man/safeexitd.ini.5.in >$@.tmp && mv -f $@.tmp $@
