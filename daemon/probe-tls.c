/*
 * https probes over libevent_openssl.  A probe asks whether the program
 * answers, not who it is: the certificate is not verified (a self-signed
 * one on localhost is the usual case).
 */
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "log.h"
#include "probe.h"

static SSL_CTX *probe_tls_ctx;

/* A TLS client bufferevent that connects when evhttp connects it. */
struct bufferevent *
probe_tls_bufferevent(struct event_base *base, const char *host)
{
	struct bufferevent *bev;
	SSL *ssl;

	if (probe_tls_ctx == NULL &&
	    (probe_tls_ctx = SSL_CTX_new(TLS_client_method())) == NULL) {
		log_warnx("https probe: cannot set up TLS");
		return NULL;
	}
	SSL_CTX_set_verify(probe_tls_ctx, SSL_VERIFY_NONE, NULL);
	if ((ssl = SSL_new(probe_tls_ctx)) == NULL)
		return NULL;
	SSL_set_tlsext_host_name(ssl, host);
	bev = bufferevent_openssl_socket_new(base, -1, ssl,
	    BUFFEREVENT_SSL_CONNECTING,
	    BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
	if (bev == NULL) {
		SSL_free(ssl);
		return NULL;
	}
	bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	return bev;
}
