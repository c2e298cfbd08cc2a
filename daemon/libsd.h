/*
 * libsystemd, loaded only when the daemon has something to say to systemd:
 * NOTIFY_SOCKET is set, a system bus is there for logind, or the log goes
 * to the journal.  Linked in, the library and what it pulls in (libgcrypt,
 * liblzma, liblz4, libzstd, libcap...) cost over 1 MiB of the daemon's
 * memory wherever nothing else maps them, a container for one, even when
 * none of it is ever called.
 *
 * The functions are called through the table `libsd`, named as in
 * libsystemd without the "sd_" prefix: libsd.bus_process(bus, NULL).
 */
#ifndef SAFEEXITD_LIBSD_H
#define SAFEEXITD_LIBSD_H

#include <stdbool.h>

#include <systemd/sd-bus.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-journal.h>
#include <systemd/sd-login.h>

/* Every function the daemon uses; X(name) stands for sd_name. */
#define LIBSD_FUNCTIONS(X)						\
	X(notify)							\
	X(watchdog_enabled)						\
	X(journal_send)							\
	X(journal_stream_fd)						\
	X(pid_get_session)						\
	X(session_get_state)						\
	X(login_monitor_new)						\
	X(login_monitor_get_fd)						\
	X(login_monitor_flush)						\
	X(login_monitor_unref)						\
	X(bus_open_system)						\
	X(bus_close)							\
	X(bus_unref)							\
	X(bus_get_fd)							\
	X(bus_get_events)						\
	X(bus_get_timeout)						\
	X(bus_process)							\
	X(bus_add_match_async)						\
	X(bus_match_signal_async)					\
	X(bus_call_method_async)					\
	X(bus_slot_unref)						\
	X(bus_error_has_name)						\
	X(bus_message_get_error)					\
	X(bus_message_get_member)					\
	X(bus_message_get_sender)					\
	X(bus_message_is_method_error)					\
	X(bus_message_read)						\
	X(bus_message_read_strv)					\
	X(bus_message_skip)						\
	X(bus_message_enter_container)					\
	X(bus_message_exit_container)

#define LIBSD_MEMBER(name)	__typeof__(sd_##name) *name;
struct libsd {
	LIBSD_FUNCTIONS(LIBSD_MEMBER)
};
#undef LIBSD_MEMBER

extern struct libsd libsd;

/*
 * Load the library the first time; later calls give the first answer.
 * false: it is not there (or lacks a function), and libsd_error() says why.
 */
bool libsd_load(void);
const char *libsd_error(void);

#endif
