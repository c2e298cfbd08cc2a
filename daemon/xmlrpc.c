/*
 * XML-RPC over libexpat.  A call is parsed into a small element tree first
 * (bounded in depth and count), then walked into json-c values: two simple
 * steps rather than one state machine in expat's callbacks.  Expat reads no
 * DTD here: a DOCTYPE stops the parse before any entity can be declared,
 * so neither entity expansion nor external entities can happen.
 */
#include <errno.h>
#include <expat.h>
#include <json-c/json.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xmalloc.h"
#include "xmlrpc.h"

/* A growing byte buffer. */
struct xbuf {
	char	*p;
	size_t	 len, cap;
};

/* One element of a parsed call. */
struct xnode {
	char		*name;
	struct xbuf	 text;
	struct xnode	**kids;
	size_t		 nkids, cap;
	struct xnode	*parent;
};

/* The parse in progress. */
struct xparse {
	XML_Parser	 parser;
	struct xnode	*root;
	struct xnode	*cur;
	int		 depth;
	size_t		 elements;
	char		*err;
	size_t		 errlen;
	bool		 failed;
};

static void xbuf_add(struct xbuf *b, const char *s, size_t n);
static void xbuf_str(struct xbuf *b, const char *s);
static void xbuf_printf(struct xbuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void xbuf_escape(struct xbuf *b, const char *s, size_t n);
static void xnode_free(struct xnode *n);
static void xparse_fail(struct xparse *x, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void XMLCALL xparse_start(void *arg, const XML_Char *name,
    const XML_Char **attrs);
static void XMLCALL xparse_end(void *arg, const XML_Char *name);
static void XMLCALL xparse_text(void *arg, const XML_Char *s, int len);
static void XMLCALL xparse_doctype(void *arg, const XML_Char *name,
    const XML_Char *sysid, const XML_Char *pubid, int has_internal);
static void XMLCALL xparse_entity(void *arg, const XML_Char *name,
    int is_param, const XML_Char *value, int value_len, const XML_Char *base,
    const XML_Char *sysid, const XML_Char *pubid, const XML_Char *notation);
static struct xnode *xnode_only_child(struct xnode *n, const char *name,
    char *err, size_t errlen);
static int xnode_value(struct xnode *n, struct json_object **out, char *err,
    size_t errlen);
static int xnode_scalar(struct xnode *n, struct json_object **out, char *err,
    size_t errlen);
static char *xnode_trimmed(struct xnode *n);
static void xmlrpc_encode_value(struct xbuf *b, struct json_object *v);

/* Append n bytes. */
static void
xbuf_add(struct xbuf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap != 0 ? b->cap : 256;

		while (cap < b->len + n + 1)
			cap *= 2;
		b->p = xrealloc(b->p, cap);
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

/* Append a C string. */
static void
xbuf_str(struct xbuf *b, const char *s)
{
	xbuf_add(b, s, strlen(s));
}

/* Append formatted text (short: numbers). */
static void
xbuf_printf(struct xbuf *b, const char *fmt, ...)
{
	char tmp[64];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	if (n > 0)
		xbuf_add(b, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

/*
 * Append text as XML character data: & < > escaped, CR as a reference (a
 * parser would turn a raw one into LF), and what XML 1.0 cannot carry
 * (invalid UTF-8, control characters, U+FFFE/U+FFFF) as U+FFFD: a log tail
 * may hold any bytes, and one bad byte must not make the reply unreadable.
 */
static void
xbuf_escape(struct xbuf *b, const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, run = 0;

	while (i < n) {
		unsigned c = u[i];
		size_t k = 0;
		uint32_t cp = 0;

		if (c >= 0x20 && c < 0x80 && c != '&' && c != '<' && c != '>') {
			i++;
			continue;
		}
		xbuf_add(b, s + run, i - run);
		if (c == '&' || c == '<' || c == '>' || c == '\r') {
			xbuf_str(b, c == '&' ? "&amp;" : c == '<' ? "&lt;" :
			    c == '>' ? "&gt;" : "&#13;");
			run = ++i;
			continue;
		}
		if (c == '\t' || c == '\n') {
			run = i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			k = 1, cp = c & 0x1f;
		else if (c >= 0xe0 && c <= 0xef)
			k = 2, cp = c & 0x0f;
		else if (c >= 0xf0 && c <= 0xf4)
			k = 3, cp = c & 0x07;
		if (k != 0 && i + k < n) {
			size_t j;

			for (j = 1; j <= k && i + j < n; j++) {
				if ((u[i + j] & 0xc0) != 0x80)
					break;
				cp = (cp << 6) | (u[i + j] & 0x3f);
			}
			if (j == k + 1 &&
			    !(k == 2 && cp < 0x800) && !(k == 3 && cp < 0x10000) &&
			    cp <= 0x10ffff && !(cp >= 0xd800 && cp <= 0xdfff) &&
			    cp != 0xfffe && cp != 0xffff) {
				run = i;
				i += k + 1;
				continue;
			}
		}
		xbuf_str(b, "\xef\xbf\xbd");
		run = ++i;
	}
	xbuf_add(b, s + run, n - run);
}

/* Free an element and everything under it. */
static void
xnode_free(struct xnode *n)
{
	if (n == NULL)
		return;
	for (size_t i = 0; i < n->nkids; i++)
		xnode_free(n->kids[i]);
	free(n->kids);
	free(n->text.p);
	free(n->name);
	free(n);
}

/* Stop the parse with a message (the first one wins). */
static void
xparse_fail(struct xparse *x, const char *fmt, ...)
{
	va_list ap;

	if (x->failed)
		return;
	x->failed = true;
	va_start(ap, fmt);
	vsnprintf(x->err, x->errlen, fmt, ap);
	va_end(ap);
	XML_StopParser(x->parser, XML_FALSE);
}

/* An element opens: a new node under the current one. */
static void XMLCALL
xparse_start(void *arg, const XML_Char *name, const XML_Char **attrs)
{
	struct xparse *x = arg;
	struct xnode *n;

	(void)attrs;
	if (x->failed)
		return;
	if (++x->depth > XMLRPC_MAX_DEPTH) {
		xparse_fail(x, "elements nest more than %d deep", XMLRPC_MAX_DEPTH);
		return;
	}
	if (++x->elements > XMLRPC_MAX_ELEMENTS) {
		xparse_fail(x, "more than %d elements", XMLRPC_MAX_ELEMENTS);
		return;
	}
	n = xcalloc(1, sizeof *n);
	n->name = xstrdup(name);
	n->parent = x->cur;
	if (x->cur == NULL)
		x->root = n;
	else {
		if (x->cur->nkids == x->cur->cap) {
			x->cur->cap = x->cur->cap != 0 ? x->cur->cap * 2 : 4;
			x->cur->kids = xreallocarray(x->cur->kids, x->cur->cap,
			    sizeof *x->cur->kids);
		}
		x->cur->kids[x->cur->nkids++] = n;
	}
	x->cur = n;
}

/* An element closes. */
static void XMLCALL
xparse_end(void *arg, const XML_Char *name)
{
	struct xparse *x = arg;

	(void)name;
	if (x->failed || x->cur == NULL)
		return;
	x->cur = x->cur->parent;
	x->depth--;
}

/* Character data goes to the open element (the input bounds its size). */
static void XMLCALL
xparse_text(void *arg, const XML_Char *s, int len)
{
	struct xparse *x = arg;

	if (!x->failed && x->cur != NULL && len > 0)
		xbuf_add(&x->cur->text, s, (size_t)len);
}

/* No DOCTYPE: nothing may declare entities (billion laughs, XXE). */
static void XMLCALL
xparse_doctype(void *arg, const XML_Char *name, const XML_Char *sysid,
    const XML_Char *pubid, int has_internal)
{
	(void)name, (void)sysid, (void)pubid, (void)has_internal;
	xparse_fail(arg, "a DOCTYPE is not allowed");
}

/* Belt and braces: an entity declaration, should one get through. */
static void XMLCALL
xparse_entity(void *arg, const XML_Char *name, int is_param,
    const XML_Char *value, int value_len, const XML_Char *base,
    const XML_Char *sysid, const XML_Char *pubid, const XML_Char *notation)
{
	(void)name, (void)is_param, (void)value, (void)value_len, (void)base;
	(void)sysid, (void)pubid, (void)notation;
	xparse_fail(arg, "entity declarations are not allowed");
}

/* The single child element of n, which must be called name (NULL: any). */
static struct xnode *
xnode_only_child(struct xnode *n, const char *name, char *err, size_t errlen)
{
	if (n->nkids != 1 || (name != NULL && strcmp(n->kids[0]->name, name) != 0)) {
		snprintf(err, errlen, "<%s> must hold one <%s>", n->name,
		    name != NULL ? name : "value");
		return NULL;
	}
	return n->kids[0];
}

/* n's text without surrounding white space, in place. */
static char *
xnode_trimmed(struct xnode *n)
{
	char *s = n->text.p != NULL ? n->text.p : (char *)"";
	size_t len;

	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
		s++;
	len = strlen(s);
	while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t' ||
	    s[len - 1] == '\n' || s[len - 1] == '\r'))
		s[--len] = '\0';
	return s;
}

/* A typed scalar: <int>, <string>... */
static int
xnode_scalar(struct xnode *n, struct json_object **out, char *err,
    size_t errlen)
{
	const char *t = n->name;
	char *s, *end;

	if (n->nkids != 0) {
		snprintf(err, errlen, "<%s> may not hold elements", t);
		return -1;
	}
	if (strcmp(t, "string") == 0) {
		*out = json_object_new_string_len(n->text.p != NULL ? n->text.p : "",
		    (int)n->text.len);
		return 0;
	}
	s = xnode_trimmed(n);
	if (strcmp(t, "int") == 0 || strcmp(t, "i4") == 0 || strcmp(t, "i8") == 0) {
		long long v;

		errno = 0;
		v = strtoll(s, &end, 10);
		if (*s == '\0' || *end != '\0' || errno != 0 ||
		    (t[1] != '8' && (v < INT32_MIN || v > INT32_MAX))) {
			snprintf(err, errlen, "<%s> is not an integer in range", t);
			return -1;
		}
		*out = json_object_new_int64(v);
	} else if (strcmp(t, "boolean") == 0) {
		if (strcmp(s, "0") != 0 && strcmp(s, "1") != 0) {
			snprintf(err, errlen, "<boolean> must be 0 or 1");
			return -1;
		}
		*out = json_object_new_boolean(*s == '1');
	} else if (strcmp(t, "double") == 0) {
		double d;

		errno = 0;
		d = strtod(s, &end);
		if (*s == '\0' || *end != '\0' || errno != 0 || !isfinite(d)) {
			snprintf(err, errlen, "<double> is not a finite number");
			return -1;
		}
		*out = json_object_new_double(d);
	} else if (strcmp(t, "base64") == 0 ||
	    strcmp(t, "dateTime.iso8601") == 0)
		*out = json_object_new_string(s);
	else if (strcmp(t, "nil") == 0) {
		if (*s != '\0') {
			snprintf(err, errlen, "<nil> must be empty");
			return -1;
		}
		*out = NULL;
	} else {
		snprintf(err, errlen, "unsupported element <%.32s>", t);
		return -1;
	}
	return 0;
}

/* A <value>: untyped text is a string, else its one typed child. */
static int
xnode_value(struct xnode *n, struct json_object **out, char *err,
    size_t errlen)
{
	struct xnode *t, *d;
	struct json_object *c, *v;

	*out = NULL;
	if (strcmp(n->name, "value") != 0) {
		snprintf(err, errlen, "<%.32s> where a <value> was expected", n->name);
		return -1;
	}
	if (n->nkids == 0) {
		*out = json_object_new_string_len(n->text.p != NULL ? n->text.p : "",
		    (int)n->text.len);
		return 0;
	}
	if ((t = xnode_only_child(n, NULL, err, errlen)) == NULL)
		return -1;
	if (strcmp(t->name, "array") == 0) {
		if ((d = xnode_only_child(t, "data", err, errlen)) == NULL)
			return -1;
		c = json_object_new_array();
		for (size_t i = 0; i < d->nkids; i++) {
			if (xnode_value(d->kids[i], &v, err, errlen) != 0) {
				json_object_put(c);
				return -1;
			}
			json_object_array_add(c, v);
		}
	} else if (strcmp(t->name, "struct") == 0) {
		c = json_object_new_object();
		for (size_t i = 0; i < t->nkids; i++) {
			struct xnode *m = t->kids[i];

			if (strcmp(m->name, "member") != 0 || m->nkids != 2 ||
			    strcmp(m->kids[0]->name, "name") != 0 ||
			    m->kids[0]->nkids != 0) {
				snprintf(err, errlen,
				    "a <member> must hold a <name> and a <value>");
				json_object_put(c);
				return -1;
			}
			if (xnode_value(m->kids[1], &v, err, errlen) != 0) {
				json_object_put(c);
				return -1;
			}
			json_object_object_add(c, m->kids[0]->text.p != NULL ?
			    m->kids[0]->text.p : "", v);
		}
	} else
		return xnode_scalar(t, out, err, errlen);
	*out = c;
	return 0;
}

/* Decode a methodCall (xmlrpc.h). */
int
xmlrpc_decode_call(const char *buf, size_t len, char **method,
    struct json_object **params, char *err, size_t errlen)
{
	struct xparse x = { .err = err, .errlen = errlen };
	struct xnode *root, *name = NULL, *ps = NULL;
	struct json_object *a = NULL, *v;
	char *m;
	int rc = -1;

	*method = NULL;
	*params = NULL;
	if (len > INT32_MAX) {
		snprintf(err, errlen, "request too large");
		return -1;
	}
	x.parser = XML_ParserCreate("UTF-8");
	if (x.parser == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	XML_SetUserData(x.parser, &x);
	XML_SetElementHandler(x.parser, xparse_start, xparse_end);
	XML_SetCharacterDataHandler(x.parser, xparse_text);
	XML_SetStartDoctypeDeclHandler(x.parser, xparse_doctype);
	XML_SetEntityDeclHandler(x.parser, xparse_entity);
	XML_SetParamEntityParsing(x.parser, XML_PARAM_ENTITY_PARSING_NEVER);
	if (XML_Parse(x.parser, buf, (int)len, XML_TRUE) != XML_STATUS_OK &&
	    !x.failed) {
		snprintf(err, errlen, "not well-formed XML: %s at line %lu",
		    XML_ErrorString(XML_GetErrorCode(x.parser)),
		    (unsigned long)XML_GetCurrentLineNumber(x.parser));
		x.failed = true;
	}
	XML_ParserFree(x.parser);
	root = x.root;
	if (x.failed)
		goto out;
	if (root == NULL || strcmp(root->name, "methodCall") != 0) {
		snprintf(err, errlen, "not a <methodCall>");
		goto out;
	}
	for (size_t i = 0; i < root->nkids; i++) {
		struct xnode *k = root->kids[i];

		if (strcmp(k->name, "methodName") == 0 && name == NULL)
			name = k;
		else if (strcmp(k->name, "params") == 0 && ps == NULL)
			ps = k;
		else {
			snprintf(err, errlen, "unexpected <%.32s> in <methodCall>",
			    k->name);
			goto out;
		}
	}
	if (name == NULL || name->nkids != 0) {
		snprintf(err, errlen, "no <methodName>");
		goto out;
	}
	m = xnode_trimmed(name);
	if (*m == '\0' || strlen(m) > XMLRPC_MAX_METHOD ||
	    strspn(m, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789_.:/") != strlen(m)) {
		snprintf(err, errlen, "bad method name");
		goto out;
	}
	a = json_object_new_array();
	for (size_t i = 0; ps != NULL && i < ps->nkids; i++) {
		struct xnode *p = ps->kids[i], *val;

		if (strcmp(p->name, "param") != 0) {
			snprintf(err, errlen, "unexpected <%.32s> in <params>",
			    p->name);
			goto out;
		}
		if ((val = xnode_only_child(p, "value", err, errlen)) == NULL ||
		    xnode_value(val, &v, err, errlen) != 0)
			goto out;
		json_object_array_add(a, v);
	}
	*method = xstrdup(m);
	*params = a;
	a = NULL;
	rc = 0;
out:
	json_object_put(a);
	xnode_free(root);
	return rc;
}

/* One value, recursively (json-c's own depth bounds the input). */
static void
xmlrpc_encode_value(struct xbuf *b, struct json_object *v)
{
	xbuf_str(b, "<value>");
	switch (json_object_get_type(v)) {
	case json_type_null:
		xbuf_str(b, "<nil/>");
		break;
	case json_type_boolean:
		xbuf_str(b, json_object_get_boolean(v) ? "<boolean>1</boolean>" :
		    "<boolean>0</boolean>");
		break;
	case json_type_int: {
		int64_t i = json_object_get_int64(v);

		if (i >= INT32_MIN && i <= INT32_MAX)
			xbuf_printf(b, "<int>%lld</int>", (long long)i);
		else
			xbuf_printf(b, "<i8>%lld</i8>", (long long)i);
		break;
	}
	case json_type_double: {
		double d = json_object_get_double(v);

		xbuf_printf(b, "<double>%.17g</double>", isfinite(d) ? d : 0.0);
		break;
	}
	case json_type_string:
		xbuf_str(b, "<string>");
		xbuf_escape(b, json_object_get_string(v),
		    (size_t)json_object_get_string_len(v));
		xbuf_str(b, "</string>");
		break;
	case json_type_array:
		xbuf_str(b, "<array><data>");
		for (size_t i = 0; i < json_object_array_length(v); i++)
			xmlrpc_encode_value(b, json_object_array_get_idx(v, i));
		xbuf_str(b, "</data></array>");
		break;
	case json_type_object:
		xbuf_str(b, "<struct>");
		json_object_object_foreach(v, key, val) {
			xbuf_str(b, "<member><name>");
			xbuf_escape(b, key, strlen(key));
			xbuf_str(b, "</name>");
			xmlrpc_encode_value(b, val);
			xbuf_str(b, "</member>");
		}
		xbuf_str(b, "</struct>");
		break;
	}
	xbuf_str(b, "</value>");
}

/* Encode a methodResponse (xmlrpc.h). */
char *
xmlrpc_encode_response(struct json_object *value, size_t *len)
{
	struct xbuf b = { 0 };

	xbuf_str(&b, "<?xml version=\"1.0\"?>\n<methodResponse><params><param>");
	xmlrpc_encode_value(&b, value);
	xbuf_str(&b, "</param></params></methodResponse>\n");
	*len = b.len;
	return b.p;
}

/* Encode a fault (xmlrpc.h). */
char *
xmlrpc_encode_fault(int code, const char *string, size_t *len)
{
	struct xbuf b = { 0 };

	xbuf_str(&b, "<?xml version=\"1.0\"?>\n<methodResponse><fault><value>"
	    "<struct><member><name>faultCode</name><value><int>");
	xbuf_printf(&b, "%d", code);
	xbuf_str(&b, "</int></value></member><member><name>faultString</name>"
	    "<value><string>");
	xbuf_escape(&b, string, strlen(string));
	xbuf_str(&b, "</string></value></member></struct></value></fault>"
	    "</methodResponse>\n");
	*len = b.len;
	return b.p;
}
