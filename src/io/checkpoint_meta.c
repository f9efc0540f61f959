/* SPDX-License-Identifier: MIT */
/* Checkpoint metadata: the writer every kind of file uses, so that all
 * start with the same identifying entries, and the parsers for values.
 * Values are ours (printable ASCII without quotes or backslashes) and fit
 * their slots; the writer (checkpoint_write.c) rejects a list whose
 * entries overflowed the slots. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "checkpoint_impl.h"

void sgad__ckpt_meta(sgad__ckpt_contents *c, const char *key, const char *fmt, ...)
{
    if (c->nmeta < SGAD__CKPT_META_SLOTS) {
        snprintf(c->keys[c->nmeta], sizeof c->keys[0], "%s", key);
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(c->values[c->nmeta], sizeof c->values[0], fmt, ap);
        va_end(ap);
    }
    c->nmeta++;
}

void sgad__ckpt_meta_start(sgad__ckpt_contents *c, const char *kind)
{
    sgad__ckpt_meta(c, "format", SGAD__CKPT_FORMAT);
    sgad__ckpt_meta(c, "format_version", SGAD__CKPT_VERSION);
    if (kind)
        sgad__ckpt_meta(c, "kind", "%s", kind);
    sgad__ckpt_meta(c, "library_version", "%s", sgad_version_string());
}

int sgad__ckpt_parse_whole(const char *text, long long lo, long long hi, long long *out)
{
    char *end;
    errno = 0;
    const long long x = strtoll(text, &end, 10);
    if (!*text || *end || errno != 0 || x < lo || x > hi)
        return 0;
    *out = x;
    return 1;
}

int sgad__ckpt_parse_finite(const char *text, double *out)
{
    char *end;
    const double x = strtod(text, &end);
    if (!*text || *end || !isfinite(x))
        return 0;
    *out = x;
    return 1;
}
