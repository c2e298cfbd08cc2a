/*
 * Conversions the Win32 modules share: error text, UTF-8 and UTF-16,
 * command lines and environment blocks for CreateProcessW, and exit codes
 * as wait statuses.
 */
#include <windows.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <wchar.h>

#include "log.h"
#include "win32.h"
#include "xmalloc.h"

/* Exception codes of crashes, reported as the signal POSIX would give. */
static const struct {
	DWORD	code;
	int	sig;
} util_crashes[] = {
	{ 0xC000013AUL, SIGINT },	/* STATUS_CONTROL_C_EXIT */
	{ 0xC0000005UL, SIGSEGV },	/* STATUS_ACCESS_VIOLATION */
	{ 0xC00000FDUL, SIGSEGV },	/* STATUS_STACK_OVERFLOW */
	{ 0xC000001DUL, SIGILL },	/* STATUS_ILLEGAL_INSTRUCTION */
	{ 0xC0000094UL, SIGFPE },	/* STATUS_INTEGER_DIVIDE_BY_ZERO */
	{ 0xC0000409UL, SIGABRT },	/* STATUS_STACK_BUFFER_OVERRUN */
};

/* FormatMessage's text without its line break, and the number. */
const char *
win32_strerror(DWORD err)
{
	static char	buf[256];
	char		msg[200];
	size_t		n;

	n = FormatMessageA(FORMAT_MESSAGE_FROM_SYSTEM |
	    FORMAT_MESSAGE_IGNORE_INSERTS, NULL, err, 0, msg, sizeof msg, NULL);
	while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '\r' ||
	    msg[n - 1] == '.' || msg[n - 1] == ' '))
		n--;
	msg[n] = '\0';
	if (n == 0)
		snprintf(buf, sizeof buf, "error %lu", (unsigned long)err);
	else
		snprintf(buf, sizeof buf, "%s (error %lu)", msg,
		    (unsigned long)err);
	return buf;
}

/* UTF-8 to a heap UTF-16 string. */
wchar_t *
win32_wide(const char *s)
{
	wchar_t	*w;
	int	 n;

	if (s == NULL)
		return NULL;
	if ((n = MultiByteToWideChar(CP_UTF8, 0, s, -1, NULL, 0)) <= 0)
		return NULL;
	w = xcalloc((size_t)n, sizeof *w);
	MultiByteToWideChar(CP_UTF8, 0, s, -1, w, n);
	return w;
}

/* UTF-16 to a heap UTF-8 string. */
char *
win32_utf8(const wchar_t *w)
{
	char	*s;
	int	 n;

	if (w == NULL)
		return NULL;
	if ((n = WideCharToMultiByte(CP_UTF8, 0, w, -1, NULL, 0, NULL,
	    NULL)) <= 0)
		return NULL;
	s = xcalloc((size_t)n, 1);
	WideCharToMultiByte(CP_UTF8, 0, w, -1, s, n, NULL, NULL);
	return s;
}

/*
 * Quote one argument the way the C runtime takes it apart: backslashes are
 * literal unless they precede a quote, so those are doubled, and an
 * argument with white space or quotes goes between quotes.
 */
static size_t
util_quote(const wchar_t *a, wchar_t *out)
{
	size_t		 n = 0, slashes;
	const wchar_t	*p;
	bool		 quote;

	quote = *a == L'\0' || wcspbrk(a, L" \t\n\v\"") != NULL;
	if (quote && out != NULL)
		out[n] = L'"';
	if (quote)
		n++;
	for (p = a;; p++) {
		slashes = 0;
		while (*p == L'\\') {
			p++;
			slashes++;
		}
		if (*p == L'\0') {
			/* Before the closing quote, backslashes double. */
			if (quote)
				slashes *= 2;
			for (; slashes > 0; slashes--) {
				if (out != NULL)
					out[n] = L'\\';
				n++;
			}
			break;
		}
		if (*p == L'"')
			slashes = slashes * 2 + 1;
		for (; slashes > 0; slashes--) {
			if (out != NULL)
				out[n] = L'\\';
			n++;
		}
		if (out != NULL)
			out[n] = *p;
		n++;
	}
	if (quote && out != NULL)
		out[n] = L'"';
	if (quote)
		n++;
	return n;
}

/* argv as one command line. */
wchar_t *
win32_command_line(char *const *argv)
{
	wchar_t	*line, *w;
	size_t	 n = 0, i;

	for (i = 0; argv[i] != NULL; i++) {
		if ((w = win32_wide(argv[i])) == NULL)
			return NULL;
		n += util_quote(w, NULL) + 1;
		free(w);
	}
	line = xcalloc(n + 1, sizeof *line);
	n = 0;
	for (i = 0; argv[i] != NULL; i++) {
		w = win32_wide(argv[i]);
		if (i > 0)
			line[n++] = L' ';
		n += util_quote(w, line + n);
		free(w);
	}
	line[n] = L'\0';
	return line;
}

/* Order variables by name without regard to case, as Windows keeps them. */
static int
util_env_cmp(const void *a, const void *b)
{
	const wchar_t	*x = *(wchar_t *const *)a, *y = *(wchar_t *const *)b;

	for (;; x++, y++) {
		wchar_t	cx = *x == L'=' ? L'\0' : towupper(*x);
		wchar_t	cy = *y == L'=' ? L'\0' : towupper(*y);

		if (cx != cy)
			return cx < cy ? -1 : 1;
		if (cx == L'\0')
			return 0;
	}
}

/* Whether two "KEY=value" strings name the same variable. */
static bool
util_env_same(const wchar_t *a, const wchar_t *b)
{
	/* Names like "=C:" start with '=': the name runs to the next one. */
	const wchar_t	*ea = wcschr(a + 1, L'='), *eb = wcschr(b + 1, L'=');
	size_t		 la = ea ? (size_t)(ea - a) : wcslen(a);
	size_t		 lb = eb ? (size_t)(eb - b) : wcslen(b);

	return la == lb && _wcsnicmp(a, b, la) == 0;
}

/* The environment block: the daemon's, then each override replacing. */
wchar_t *
win32_environment(char *const *overrides)
{
	wchar_t		*env, *p, **vars = NULL, *block, *w;
	size_t		 n = 0, cap = 0, len = 0, i, j;

	if ((env = GetEnvironmentStringsW()) == NULL)
		return NULL;
	for (p = env; *p != L'\0'; p += wcslen(p) + 1) {
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			vars = xreallocarray(vars, cap, sizeof *vars);
		}
		if ((vars[n++] = _wcsdup(p)) == NULL)
			fatal("%s", __func__);
	}
	FreeEnvironmentStringsW(env);
	for (i = 0; overrides != NULL && overrides[i] != NULL; i++) {
		if ((w = win32_wide(overrides[i])) == NULL)
			continue;
		for (j = 0; j < n; j++)
			if (util_env_same(vars[j], w))
				break;
		if (j < n) {
			free(vars[j]);
			vars[j] = w;
			continue;
		}
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			vars = xreallocarray(vars, cap, sizeof *vars);
		}
		vars[n++] = w;
	}
	qsort(vars, n, sizeof *vars, util_env_cmp);
	for (i = 0; i < n; i++)
		len += wcslen(vars[i]) + 1;
	block = xcalloc(len + 2, sizeof *block);
	p = block;
	for (i = 0; i < n; i++) {
		wcscpy(p, vars[i]);
		p += wcslen(vars[i]) + 1;
		free(vars[i]);
	}
	*p = L'\0';
	free(vars);
	return block;
}

/* See win32.h. */
int
win32_wait_status(DWORD code, int killed_by)
{
	size_t	i;

	if (killed_by != 0 && code == win32_kill_code(killed_by))
		return W_EXITCODE(0, killed_by);
	for (i = 0; i < sizeof util_crashes / sizeof util_crashes[0]; i++)
		if (code == util_crashes[i].code)
			return W_EXITCODE(0, util_crashes[i].sig);
	return W_EXITCODE((int)(code & 0xff), 0);
}

/* 128 + the signal, as a shell reports a process a signal killed. */
DWORD
win32_kill_code(int sig)
{
	return 128 + (DWORD)sig;
}

/* The null device. */
HANDLE
win32_null(bool inherit)
{
	SECURITY_ATTRIBUTES	sa = { sizeof sa, NULL, inherit };

	return CreateFileW(L"NUL", GENERIC_READ | GENERIC_WRITE,
	    FILE_SHARE_READ | FILE_SHARE_WRITE, &sa, OPEN_EXISTING, 0, NULL);
}
