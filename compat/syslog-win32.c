/*
 * syslog(3) for Windows over the event log: the Application log, source
 * named by openlog's ident.  Without a registered message file the Event
 * Viewer shows a note before each message, but the text is all there.
 */
#include <windows.h>
#include <stdarg.h>
#include <stdio.h>

#include "syslog.h"

static HANDLE	 syslog_source;
static char	 syslog_ident[64] = "safeexitd";

/* Open the event source; reopening with another ident replaces it. */
void
openlog(const char *ident, int option, int facility)
{
	(void)option;
	(void)facility;
	if (ident != NULL)
		snprintf(syslog_ident, sizeof syslog_ident, "%s", ident);
	closelog();
	syslog_source = RegisterEventSourceA(NULL, syslog_ident);
}

/* One message as one event; its type follows the priority. */
void
syslog(int priority, const char *fmt, ...)
{
	char		 buf[2048];
	const char	*strings[1] = { buf };
	va_list		 ap;
	WORD		 type;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	if (syslog_source == NULL)
		syslog_source = RegisterEventSourceA(NULL, syslog_ident);
	if (syslog_source == NULL)
		return;
	if ((priority & 7) <= LOG_ERR)
		type = EVENTLOG_ERROR_TYPE;
	else if ((priority & 7) == LOG_WARNING)
		type = EVENTLOG_WARNING_TYPE;
	else
		type = EVENTLOG_INFORMATION_TYPE;
	ReportEventA(syslog_source, type, 0, 0, NULL, 1, 0, strings, NULL);
}

/* Let go of the event source. */
void
closelog(void)
{
	if (syslog_source != NULL)
		DeregisterEventSource(syslog_source);
	syslog_source = NULL;
}
