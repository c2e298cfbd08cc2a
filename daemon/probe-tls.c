/*
 * https probes over libevent_openssl, loaded with the first of them
 * (tlslib.h says why).  A probe asks whether the program answers, not who
 * it is: the certificate is not verified (a self-signed one on localhost
 * is the usual case).
 */
#include <stddef.h>

#include "log.h"
#include "probe.h"
#include "tlslib.h"

static SSL_CTX *probe_tls_ctx;

/* A TLS client bufferevent that connects when evhttp connects it. */
struct bufferevent *
probe_tls_bufferevent(struct event_base *base, const char *host)
{
	static bool warned;
	struct bufferevent *bev;
	SSL *ssl;

	if (!tlslib_load()) {
		/* Once: every https probe fails the same way after it. */
		if (!warned)
			log_warnx("https checks cannot be made: %s",
			    tlslib_error());
		warned = true;
		return NULL;
	}
	if (probe_tls_ctx == NULL) {
		if ((probe_tls_ctx = tlslib.SSL_CTX_new(
		    tlslib.TLS_client_method())) == NULL) {
			log_warnx("https probe: cannot set up TLS");
			return NULL;
		}
		tlslib.SSL_CTX_set_verify(probe_tls_ctx, SSL_VERIFY_NONE,
		    NULL);
	}
	if ((ssl = tlslib.SSL_new(probe_tls_ctx)) == NULL)
		return NULL;
	/* SSL_set_tlsext_host_name(), a macro over SSL_ctrl(). */
	tlslib.SSL_ctrl(ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME,
	    TLSEXT_NAMETYPE_host_name, (void *)host);
	bev = tlslib.bufferevent_openssl_socket_new(base, -1, ssl,
	    BUFFEREVENT_SSL_CONNECTING,
	    BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
	if (bev == NULL) {
		tlslib.SSL_free(ssl);
		return NULL;
	}
	tlslib.bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	return bev;
}
