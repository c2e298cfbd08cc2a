/*
 * libevent_openssl and OpenSSL's libssl, loaded only when the first https
 * check is made.  Linked in, the two libraries and libcrypto cost every
 * daemon some 450 KiB of resident memory (PSS, wherever nothing else maps
 * them), although most configurations have no https check at all.
 *
 * The functions are called through the table `tlslib`, named as in the
 * libraries: tlslib.SSL_new(ctx).
 */
#ifndef SAFEEXITD_TLSLIB_H
#define SAFEEXITD_TLSLIB_H

#include <stdbool.h>

#include <openssl/ssl.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>

/* Every function the https probes use. */
#define TLSLIB_SSL_FUNCTIONS(X)						\
	X(SSL_CTX_new)							\
	X(TLS_client_method)						\
	X(SSL_CTX_set_verify)						\
	X(SSL_new)							\
	X(SSL_ctrl)							\
	X(SSL_free)
#define TLSLIB_EVENT_FUNCTIONS(X)					\
	X(bufferevent_openssl_socket_new)				\
	X(bufferevent_openssl_set_allow_dirty_shutdown)

#define TLSLIB_MEMBER(name)	__typeof__(name) *name;
struct tlslib {
	TLSLIB_SSL_FUNCTIONS(TLSLIB_MEMBER)
	TLSLIB_EVENT_FUNCTIONS(TLSLIB_MEMBER)
};
#undef TLSLIB_MEMBER

extern struct tlslib tlslib;

/*
 * Load the libraries the first time; later calls give the first answer.
 * false: one is not there (or lacks a function), and tlslib_error() says
 * why.
 */
bool tlslib_load(void);
const char *tlslib_error(void);

#endif
