/*
 * regex.h on Windows: MinGW has none; TRE (cross-built by
 * tools/build-win32) gives regcomp, regexec, regerror and regfree.
 */
#ifndef SAFEEXIT_COMPAT_REGEX_H
#define SAFEEXIT_COMPAT_REGEX_H

#include <tre/regex.h>

#endif
