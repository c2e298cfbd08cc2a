/*
 * Windows helpers the daemon and the client share (Windows build only).
 */
#ifndef SAFEEXIT_WINUTIL_H
#define SAFEEXIT_WINUTIL_H

#include <windows.h>
#include <stdbool.h>

/*
 * Whether w is a window Windows makes for a process by itself (input
 * methods, COM, its console), not one of the program's own: such windows
 * neither count as the program's nor get WM_CLOSE.
 */
bool	winutil_system_window(HWND w);
/* The system's text for an error, without its line break or full stop. */
const char *winutil_strerror(DWORD err);

#endif
