/* Command-line number parsing shared by the programs in examples/: a whole
 * string that is a number within [lo, hi], or a refusal. Header-only so each
 * program stays one file to build. */
#ifndef SGAD_EXAMPLES_CLI_H
#define SGAD_EXAMPLES_CLI_H

#include <errno.h>
#include <math.h>
#include <stdlib.h>

static inline int cli_integer(const char *s, long long lo, long long hi, long long *out)
{
    char *end;
    errno = 0;
    const long long v = s ? strtoll(s, &end, 10) : 0;
    if (!s || !*s || *end || errno || v < lo || v > hi)
        return 0;
    *out = v;
    return 1;
}

static inline int cli_real(const char *s, double lo, double hi, double *out)
{
    char *end;
    const double v = s ? strtod(s, &end) : 0;
    if (!s || !*s || *end || !isfinite(v) || v < lo || v > hi)
        return 0;
    *out = v;
    return 1;
}

#endif
