/*
 * Loading libssl and libevent_openssl when the first https check is made
 * (see tlslib.h).  The sonames are those of the headers the daemon was
 * built with, so the functions looked up have the types it was compiled
 * against; every one is looked up at once, and a library lacking one is
 * refused as a whole.
 */
#include <dlfcn.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "tlslib.h"

#define TLSLIB_STR(x)		TLSLIB_STR2(x)
#define TLSLIB_STR2(x)		#x

/* OpenSSL 3 names its soname's version; 1.1 spells it as a string. */
#ifndef TLSLIB_SSL_SONAME
#if defined(OPENSSL_SHLIB_VERSION)
#define TLSLIB_SSL_SONAME	"libssl.so." TLSLIB_STR(OPENSSL_SHLIB_VERSION)
#else
#define TLSLIB_SSL_SONAME	"libssl.so." SHLIB_VERSION_NUMBER
#endif
#endif
/* Every libevent 2.1 release since 2.1.8 has kept this soname. */
#ifndef TLSLIB_EVENT_SONAME
#define TLSLIB_EVENT_SONAME	"libevent_openssl-2.1.so.7"
#endif

struct tlslib tlslib;

static struct {
	bool tried;
	bool loaded;
	char error[256];
} load;

/* dlopen soname, saying why in load.error when it cannot be. */
static void *
tlslib_open(const char *soname)
{
	void *handle;
	const char *err;

	if ((handle = dlopen(soname, RTLD_NOW | RTLD_LOCAL)) == NULL) {
		err = dlerror();
		if (err != NULL)
			snprintf(load.error, sizeof load.error, "%s", err);
		else
			snprintf(load.error, sizeof load.error,
			    "%s: cannot be loaded", soname);
	}
	return handle;
}

bool
tlslib_load(void)
{
	void *ssl, *event = NULL, *sym;

	if (load.tried)
		return load.loaded;
	load.tried = true;
	if ((ssl = tlslib_open(TLSLIB_SSL_SONAME)) == NULL ||
	    (event = tlslib_open(TLSLIB_EVENT_SONAME)) == NULL)
		goto fail;
	/* POSIX guarantees a data pointer from dlsym converts to a function's. */
#define TLSLIB_LOOKUP(handle, soname, name)				\
	if ((sym = dlsym(handle, #name)) == NULL) {			\
		snprintf(load.error, sizeof load.error,			\
		    "%s has no %s", soname, #name);			\
		goto fail;						\
	}								\
	memcpy(&tlslib.name, &sym, sizeof sym);
#define TLSLIB_LOOKUP_SSL(name)	TLSLIB_LOOKUP(ssl, TLSLIB_SSL_SONAME, name)
#define TLSLIB_LOOKUP_EVENT(name) TLSLIB_LOOKUP(event, TLSLIB_EVENT_SONAME, name)
	TLSLIB_SSL_FUNCTIONS(TLSLIB_LOOKUP_SSL)
	TLSLIB_EVENT_FUNCTIONS(TLSLIB_LOOKUP_EVENT)
#undef TLSLIB_LOOKUP_EVENT
#undef TLSLIB_LOOKUP_SSL
#undef TLSLIB_LOOKUP
	load.loaded = true;
	log_debug("loaded %s and %s", TLSLIB_SSL_SONAME, TLSLIB_EVENT_SONAME);
	return true;

fail:
	memset(&tlslib, 0, sizeof tlslib);
	if (event != NULL)
		dlclose(event);
	if (ssl != NULL)
		dlclose(ssl);
	return false;
}

const char *
tlslib_error(void)
{
	return load.error;
}
