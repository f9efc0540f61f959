/* SPDX-License-Identifier: MIT */
/* Command-line parsing shared by the programs in programs/: a whole string
 * that is a number within [lo, hi], or a refusal; an argument split into
 * its flag and value, so that every value option is accepted both as
 * "--flag value" and as "--flag=value"; and a table of options that take a
 * value, looked up by flag and stored into the program's fields.
 * Header-only, so a program needs no other file for it. */
#ifndef SGAD_PROGRAMS_CLI_H
#define SGAD_PROGRAMS_CLI_H

#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

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

/* One argument argv[i] as an option: its flag and its value. */
typedef struct cli_arg {
    char flag[64];     /* argv[i] up to its first '=' (a "--" argument), else argv[i] */
    const char *value; /* the text after that '=', else argv[i + 1] (NULL past the end) */
    int attached;      /* 1 if the value came after '=' in argv[i] itself */
} cli_arg;

/* Splits argv[i] (i < argc). A flag that does not fit in cli_arg's flag
 * is left whole and cut there: it then names no option, as no option is
 * that long, so it is reported as unknown. Only "--" arguments are split,
 * so a value such as "a=b" given as the next argument stays whole. */
static inline void cli_split(cli_arg *a, int argc, char **argv, int i)
{
    const char *s = argv[i], *eq = strncmp(s, "--", 2) == 0 ? strchr(s, '=') : NULL;
    const size_t len = eq ? (size_t)(eq - s) : strlen(s);
    const size_t keep = len < sizeof a->flag ? len : sizeof a->flag - 1;
    memcpy(a->flag, s, keep);
    a->flag[keep] = 0;
    a->attached = eq && len < sizeof a->flag;
    a->value = a->attached ? eq + 1 : i + 1 < argc ? argv[i + 1] : NULL;
}

/* How many arguments after argv[i] the option used: its value's, unless
 * that was attached with '=' or the option takes none. */
static inline int cli_used(const cli_arg *a, int takes_value)
{
    return takes_value && !a->attached;
}

/* The type of an option's field. */
typedef enum cli_kind {
    CLI_TEXT,   /* const char *: the argument itself */
    CLI_INT,    /* int, bounds [lo, hi] within int's range */
    CLI_LLONG,  /* long long, bounds [lo, hi] */
    CLI_ULLONG, /* unsigned long long, bounds [lo, hi] with lo >= 0 */
    CLI_REAL    /* double, bounds [real_lo, real_hi] */
} cli_kind;

/* An option that takes the next argument as its value. The union member
 * named by kind points at the field; its type is checked where the table
 * is written. */
typedef struct cli_option {
    const char *flag;
    cli_kind kind;
    union {
        const char **text;
        int *int_field;
        long long *llong_field;
        unsigned long long *ullong_field;
        double *real_field;
    };
    long long lo, hi;
    double real_lo, real_hi;
} cli_option;

/* The row of table[0..n) whose flag is `flag`, or NULL. */
static inline const cli_option *cli_find(const cli_option *table, size_t n, const char *flag)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(table[i].flag, flag) == 0)
            return &table[i];
    return NULL;
}

/* Stores `value` (NULL: the argument is missing) in the option's field: 1,
 * or 0 if it is missing or not a whole number within the bounds, the
 * field then unchanged. */
static inline int cli_store(const cli_option *opt, const char *value)
{
    long long n;
    switch (opt->kind) {
    case CLI_TEXT:
        if (!value)
            return 0;
        *opt->text = value;
        return 1;
    case CLI_INT:
        if (!cli_integer(value, opt->lo, opt->hi, &n))
            return 0;
        *opt->int_field = (int)n;
        return 1;
    case CLI_LLONG: return cli_integer(value, opt->lo, opt->hi, opt->llong_field);
    case CLI_ULLONG:
        if (!cli_integer(value, opt->lo, opt->hi, &n))
            return 0;
        *opt->ullong_field = (unsigned long long)n;
        return 1;
    case CLI_REAL: return cli_real(value, opt->real_lo, opt->real_hi, opt->real_field);
    }
    return 0;
}

#endif
