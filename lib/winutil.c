/*
 * Windows helpers the daemon and the client share (see winutil.h).
 */
#include <windows.h>

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "winutil.h"

/* See winutil.h. */
bool
winutil_system_window(HWND w)
{
	static const char *const helpers[] = {
		"IME", "MSCTFIME UI", "OleMainThreadWndClass",
		"CicMarshalWndClass", "ConsoleWindowClass",
	};
	char	cls[64];
	size_t	i;

	if (GetClassNameA(w, cls, sizeof cls) == 0)
		return false;
	for (i = 0; i < sizeof helpers / sizeof helpers[0]; i++)
		if (strcmp(cls, helpers[i]) == 0)
			return true;
	return false;
}

/* See winutil.h.  Not thread-safe: one static buffer. */
const char *
winutil_strerror(DWORD err)
{
	static char	buf[256];
	size_t		n;

	n = FormatMessageA(FORMAT_MESSAGE_FROM_SYSTEM |
	    FORMAT_MESSAGE_IGNORE_INSERTS, NULL, err, 0, buf, sizeof buf, NULL);
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' ||
	    buf[n - 1] == '.'))
		n--;
	if (n == 0)
		n = (size_t)snprintf(buf, sizeof buf, "error %lu",
		    (unsigned long)err);
	buf[n] = '\0';
	return buf;
}
