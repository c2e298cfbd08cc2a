/*
 * Small parsers shared by the config loader, the daemon and the client:
 * durations, booleans, signals, octal modes, POSIX-quoted command lines,
 * environment lists and name lists.  All are pure functions of their input;
 * none of them logs.  Errors come back as a static English message.
 */
#ifndef SAFEEXIT_PARSE_H
#define SAFEEXIT_PARSE_H

#include <stdbool.h>
#include <stddef.h>

/* A NULL-terminated array of heap strings, as built by the parsers below. */
typedef char **strv_t;

/* Parse seconds with optional decimals ("10", "0.25"); finite and >= 0. */
int parse_duration(const char *s, double *out, const char **err);

/* true/false, yes/no, on/off, 1/0 (case-insensitive). */
int parse_bool(const char *s, bool *out, const char **err);

/* A signal by name ("TERM", "SIGTERM", "term") or number ("15"). */
int parse_signal(const char *s, int *out, const char **err);

/* The short name of a signal ("TERM"), or NULL when it has none. */
const char *signal_name(int sig);

/* An octal permission mode or umask ("022", "0660"), at most 0777. */
int parse_mode(const char *s, unsigned *out, const char **err);

/* A non-negative decimal integer that fits an int. */
int parse_uint(const char *s, int *out, const char **err);

/* A byte size: a non-negative integer with an optional KB/MB/GB suffix. */
int parse_size(const char *s, long long *out, const char **err);

/* Split a command line with POSIX shell quoting ('...', "...", \) into argv.
 * No expansion of variables or globs.  An empty command is an error. */
int parse_argv(const char *s, strv_t *out, const char **err);

/* KEY=value pairs separated by commas; values may be quoted as in parse_argv.
 * Produces "KEY=value" strings. */
int parse_env(const char *s, strv_t *out, const char **err);

/* A list separated by commas and/or white space; empty items are dropped. */
int parse_list(const char *s, strv_t *out, const char **err);

/*
 * supervisord's [inet_http_server] port: "PORT", "HOST:PORT", ":PORT" or
 * "*:PORT" (every interface: *host is then ""), with an IPv6 host in
 * brackets.  host gets hostlen bytes at most; *port 1..65535.
 */
int parse_inet_address(const char *s, char *host, size_t hostlen, int *port,
    const char **err);
/* Whether host names this machine's loopback: localhost, 127.0.0.0/8, ::1. */
bool inet_host_loopback(const char *host);

/* Program names: letters, digits, '_', '.', '-'; 1 to 64 characters. */
bool program_name_valid(const char *name);

size_t strv_length(const strv_t v);
void strv_free(strv_t v);
strv_t strv_copy(const strv_t v);
bool strv_contains(const strv_t v, const char *s);

#endif
