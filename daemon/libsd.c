/*
 * Loading libsystemd when it is first needed (see libsd.h).  The soname is
 * the one libsystemd has kept since it was created, and every function is
 * looked up at once, so a library too old for one of them is refused as a
 * whole rather than failing halfway through a conversation with logind.
 */
#include <dlfcn.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "libsd.h"
#include "log.h"

#define LIBSD_SONAME	"libsystemd.so.0"

struct libsd libsd;

static struct {
	bool tried;
	bool loaded;
	char error[256];
} load;

bool
libsd_load(void)
{
	void *handle, *sym;
	const char *err;

	if (load.tried)
		return load.loaded;
	load.tried = true;
	if ((handle = dlopen(LIBSD_SONAME, RTLD_NOW | RTLD_LOCAL)) == NULL) {
		err = dlerror();
		snprintf(load.error, sizeof load.error, "%s",
		    err != NULL ? err : LIBSD_SONAME ": cannot be loaded");
		return false;
	}
	/* POSIX guarantees a data pointer from dlsym converts to a function's. */
#define LIBSD_LOOKUP(name)						\
	if ((sym = dlsym(handle, "sd_" #name)) == NULL) {		\
		snprintf(load.error, sizeof load.error,			\
		    LIBSD_SONAME " has no sd_" #name);			\
		goto fail;						\
	}								\
	memcpy(&libsd.name, &sym, sizeof sym);
	LIBSD_FUNCTIONS(LIBSD_LOOKUP)
#undef LIBSD_LOOKUP
	load.loaded = true;
	log_debug("loaded %s", LIBSD_SONAME);
	return true;

fail:
	memset(&libsd, 0, sizeof libsd);
	dlclose(handle);
	return false;
}

const char *
libsd_error(void)
{
	return load.error;
}
