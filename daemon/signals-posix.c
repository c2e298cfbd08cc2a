/*
 * Signal handling: every signal is an event of the loop.
 */
#include <event2/event.h>
#include <signal.h>
#include <stdbool.h>

#include "conf.h"
#include "log.h"
#include "output.h"
#include "safeexitd.h"
#include "signals.h"

static struct event *sig_events[5];

static void signals_cb(evutil_socket_t sig, short what, void *arg);
static void signals_policy(const char *name, enum policy_action action);

/* Route the daemon's signals into the loop; SIGPIPE is ignored. */
int
signals_init(struct event_base *base)
{
	static const int sigs[] = { SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR2 };

	signal(SIGPIPE, SIG_IGN);
	for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
		sig_events[i] = evsignal_new(base, sigs[i], signals_cb, NULL);
		if (sig_events[i] == NULL || event_add(sig_events[i], NULL) == -1)
			return -1;
	}
	return 0;
}

/* Stop listening for signals. */
void
signals_fini(void)
{
	for (size_t i = 0; i < sizeof sig_events / sizeof sig_events[0]; i++) {
		if (sig_events[i] != NULL)
			event_free(sig_events[i]);
		sig_events[i] = NULL;
	}
}

/* Apply a configured policy to HUP or QUIT. */
static void
signals_policy(const char *name, enum policy_action action)
{
	struct config_errors errs = { 0 };

	switch (action) {
	case POLICY_IGNORE:
		log_info("%s ignored (policy)", name);
		return;
	case POLICY_SHUTDOWN:
		daemon_shutdown(name);
		return;
	case POLICY_RELOAD:
		log_notice("%s: reloading the config", name);
		if (daemon_reload(NULL, &errs) == -1)
			log_warnx("reload failed; still running the old config");
		config_errors_free(&errs);
		return;
	}
}

/* One signal to the daemon. */
static void
signals_cb(evutil_socket_t sig, short what, void *arg)
{
	const struct config *cfg = daemon_config();

	switch (sig) {
	case SIGTERM:
	case SIGINT:
		if (daemon_shutting_down()) {
			log_notice("%s again: skipping the remaining grace periods",
			    sig == SIGTERM ? "SIGTERM" : "SIGINT");
			daemon_escalate();
		} else
			daemon_shutdown(sig == SIGTERM ? "SIGTERM" : "SIGINT");
		break;
	case SIGHUP:
		signals_policy("SIGHUP", cfg->on_sighup);
		break;
	case SIGQUIT:
		signals_policy("SIGQUIT", cfg->on_sigquit);
		break;
	case SIGUSR2:
		log_info("SIGUSR2: reopening log files");
		log_reopen();
		output_reopen_all();
		break;
	}
}
