/*
 * The resource limit keys of a program: rlimits set before exec (limit_*,
 * "soft[:hard]") and the limits of its cgroup (memory_max, cpu_max, ...).
 * Parsed and checked here, where the value is read, so a bad one is
 * reported at its line; whether the host can apply a cgroup limit is for
 * the daemon to say (resources-posix.c), not the config.
 */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config-load.h"

static const char *const rlimit_keys[PRL_COUNT] = {
	[PRL_NOFILE] = "limit_nofile",
	[PRL_NPROC] = "limit_nproc",
	[PRL_CORE] = "limit_core",
	[PRL_MEMLOCK] = "limit_memlock",
	[PRL_AS] = "limit_as",
	[PRL_CPU] = "limit_cpu",
};

static const char *const cglimit_keys[PCG_COUNT] = {
	[PCG_MEMORY_MAX] = "memory_max",
	[PCG_MEMORY_HIGH] = "memory_high",
	[PCG_CPU_MAX] = "cpu_max",
	[PCG_PIDS_MAX] = "pids_max",
	[PCG_IO_WEIGHT] = "io_weight",
};

static int limit_number(const char *s, size_t len, enum limit_unit unit,
    const char *infinity, uint64_t *out);

const char *
program_rlimit_key(enum program_rlimit r)
{
	return rlimit_keys[r];
}

const char *
program_cglimit_key(enum program_cglimit c)
{
	return cglimit_keys[c];
}

/*
 * The number in s[0..len) in unit, or the word infinity (LIMIT_INFINITY):
 * 0, or -1 when it is not one.
 */
static int
limit_number(const char *s, size_t len, enum limit_unit unit,
    const char *infinity, uint64_t *out)
{
	static const struct {
		char		 c;
		unsigned	 shift;
	} suffixes[] = { { 'K', 10 }, { 'M', 20 }, { 'G', 30 }, { 'T', 40 } };
	uint64_t v = 0;
	size_t i = 0;

	if (len == strlen(infinity) && strncasecmp(s, infinity, len) == 0) {
		*out = LIMIT_INFINITY;
		return 0;
	}
	if (len == 0 || !isdigit((unsigned char)s[0]))
		return -1;
	for (; i < len && isdigit((unsigned char)s[i]); i++) {
		if (v > (UINT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (i < len && unit == LIMIT_BYTES) {
		char c = (char)toupper((unsigned char)s[i]);
		size_t k;

		for (k = 0; k < sizeof suffixes / sizeof suffixes[0] &&
		    suffixes[k].c != c; k++)
			;
		if (k == sizeof suffixes / sizeof suffixes[0] ||
		    v > (UINT64_MAX >> suffixes[k].shift) - 1)
			return -1;
		v <<= suffixes[k].shift;
		i++;
		if (i < len && toupper((unsigned char)s[i]) == 'B')
			i++;
	}
	if (i != len || v == LIMIT_INFINITY)
		return -1;
	*out = v;
	return 0;
}

/* An rlimit, "soft[:hard]": one number sets both, as systemd's Limit*=. */
static int
type_rlimit_set(struct config_build *b, const struct config_key *k,
    const struct entry *e)
{
	struct rlimit_config *f = CONFIG_FIELD(k, b->obj, struct rlimit_config);
	enum limit_unit unit = (enum limit_unit)k->aux;
	const char *colon = strchr(e->value, ':');
	size_t slen = colon != NULL ? (size_t)(colon - e->value) : strlen(e->value);
	uint64_t soft, hard;

	if (limit_number(e->value, slen, unit, "infinity", &soft) == -1 ||
	    (colon != NULL && limit_number(colon + 1, strlen(colon + 1), unit,
	    "infinity", &hard) == -1))
		return config_value_error(b, e, unit == LIMIT_BYTES ?
		    "'SOFT[:HARD]' sizes (K, M, G suffixes) or 'infinity' "
		    "expected, not" : unit == LIMIT_SECONDS ?
		    "'SOFT[:HARD]' seconds or 'infinity' expected, not" :
		    "'SOFT[:HARD]' numbers or 'infinity' expected, not");
	if (colon == NULL)
		hard = soft;
	if (soft > hard) {
		config_key_error(b, e, "the soft limit is above the hard one in '%s'",
		    e->value);
		return -1;
	}
	f->set = true;
	f->soft = soft;
	f->hard = hard;
	return 0;
}

/* A cgroup limit: a size, a percentage of one CPU, a count or a weight. */
static int
type_cglimit_set(struct config_build *b, const struct config_key *k,
    const struct entry *e)
{
	struct cglimit_config *f = CONFIG_FIELD(k, b->obj, struct cglimit_config);
	const char *v = e->value;
	size_t len = strlen(v);
	uint64_t n;

	switch ((enum program_cglimit)k->aux) {
	case PCG_MEMORY_MAX:
	case PCG_MEMORY_HIGH:
		if (limit_number(v, len, LIMIT_BYTES, "max", &n) == -1)
			return config_value_error(b, e, "a size (K, M, G "
			    "suffixes) or 'max' expected, not");
		break;
	case PCG_CPU_MAX:
		/* 100% is one CPU; a quota below 1% of a period is refused. */
		if (len < 2 || v[len - 1] != '%' ||
		    limit_number(v, len - 1, LIMIT_COUNT, "max", &n) == -1 ||
		    n == 0 || n > 100000) {
			if (strcasecmp(v, "max") == 0) {
				n = LIMIT_INFINITY;
				break;
			}
			return config_value_error(b, e, "a percentage of one CPU "
			    "(200% = two CPUs) or 'max' expected, not");
		}
		break;
	case PCG_PIDS_MAX:
		if (limit_number(v, len, LIMIT_COUNT, "max", &n) == -1 || n == 0)
			return config_value_error(b, e, "a number of processes "
			    "or 'max' expected, not");
		break;
	case PCG_IO_WEIGHT:
		if (limit_number(v, len, LIMIT_COUNT, "", &n) == -1 || n < 1 ||
		    n > 10000)
			return config_value_error(b, e, "a weight from 1 to "
			    "10000 expected, not");
		break;
	default:
		fatalx("%s: no such limit", __func__);
	}
	f->set = true;
	f->value = n;
	f->line = e->line;
	return 0;
}

const struct config_type config_type_rlimit = { type_rlimit_set, NULL, NULL };
const struct config_type config_type_cglimit = { type_cglimit_set, NULL, NULL };

