/* SPDX-License-Identifier: MIT */
/* JSON lines for the programs' logs and results (sgad-train's train.jsonl,
 * sgad-eval's last line), written with jansson so that every line is JSON
 * whatever the values.
 *
 * JSON has no NaN or infinity. A value that is not finite is written as
 * null, and its key is listed in the object's "nonfinite" array (each key
 * once, in the order met; for an array of numbers, the array's key), so a
 * reader can tell a non-finite figure from one that does not apply, which
 * is also null (sgad-eval's real_accuracy without labels). "nonfinite" is
 * there only when some value was not finite. */
#ifndef SGAD_PROGRAMS_JSONL_H
#define SGAD_PROGRAMS_JSONL_H

#include <jansson.h>
#include <stdio.h>

/* obj[key] = v: a JSON number when v is finite, else null with key listed
 * in obj's "nonfinite". 0, or -1 when out of memory. */
int jsonl_set_real(json_t *obj, const char *key, double v);

/* Appends v to the array obj[key] (made empty first if obj has no key):
 * a number when finite, else null with key listed in obj's "nonfinite".
 * 0, or -1 when out of memory. */
int jsonl_append_real(json_t *obj, const char *key, double v);

/* obj[key] = s as a JSON string. JSON strings are UTF-8: a byte of s that
 * is not part of valid UTF-8 (a path may hold any byte) is written as '?'.
 * 0, or -1 when out of memory. */
int jsonl_set_text(json_t *obj, const char *key, const char *s);

/* Writes obj on one line, a newline, and flushes f. flags: jansson's
 * json_dumps flags, such as JSON_COMPACT (no space after ',' and ':') and
 * JSON_REAL_PRECISION(9) (9 significant digits tell floats apart); never
 * JSON_INDENT, which would break the line. 0, or -1 when out of memory or
 * f could not be written. */
int jsonl_write(FILE *f, const json_t *obj, size_t flags);

#endif
