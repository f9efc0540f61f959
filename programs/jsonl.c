/* SPDX-License-Identifier: MIT */
/* JSON lines with jansson (jsonl.h). */
#include "jsonl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Lists key in obj's "nonfinite" array unless it is there already. */
static int flag_nonfinite(json_t *obj, const char *key)
{
    json_t *list = json_object_get(obj, "nonfinite");
    if (!list) {
        list = json_array();
        if (!list || json_object_set_new(obj, "nonfinite", list))
            return -1;
    }
    size_t i;
    json_t *k;
    json_array_foreach(list, i, k)
    {
        if (!strcmp(json_string_value(k), key))
            return 0;
    }
    return json_array_append_new(list, json_string(key)) ? -1 : 0;
}

/* json_real refuses NaN and infinities (it returns NULL), so a non-finite
 * value never reaches the writer: it becomes null here. */
static json_t *real_or_null(json_t *obj, const char *key, double v)
{
    if (isfinite(v))
        return json_real(v);
    return flag_nonfinite(obj, key) ? NULL : json_null();
}

int jsonl_set_real(json_t *obj, const char *key, double v)
{
    json_t *value = real_or_null(obj, key, v);
    return value && !json_object_set_new(obj, key, value) ? 0 : -1;
}

int jsonl_append_real(json_t *obj, const char *key, double v)
{
    json_t *array = json_object_get(obj, key);
    if (!array) {
        array = json_array();
        if (!array || json_object_set_new(obj, key, array))
            return -1;
    }
    json_t *value = real_or_null(obj, key, v);
    return value && !json_array_append_new(array, value) ? 0 : -1;
}

/* The length of the valid UTF-8 sequence at s (1..4), or 0 if the bytes
 * there are not one: overlong forms, surrogates and code points past
 * U+10FFFF are not valid (RFC 3629), as jansson also holds. */
static size_t utf8_length(const unsigned char *s)
{
    const unsigned c = s[0];
    size_t n;
    unsigned cp;
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf)
        n = 2, cp = c & 0x1f;
    else if (c >= 0xe0 && c <= 0xef)
        n = 3, cp = c & 0x0f;
    else if (c >= 0xf0 && c <= 0xf4)
        n = 4, cp = c & 0x07;
    else
        return 0;
    for (size_t k = 1; k < n; k++) {
        if ((s[k] & 0xc0) != 0x80) /* also stops at the terminating 0 */
            return 0;
        cp = (cp << 6) | (s[k] & 0x3f);
    }
    if ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
        (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
        return 0;
    return n;
}

int jsonl_set_text(json_t *obj, const char *key, const char *s)
{
    char *copy = strdup(s);
    if (!copy)
        return -1;
    for (size_t i = 0; copy[i];) {
        const size_t n = utf8_length((const unsigned char *)copy + i);
        if (!n)
            copy[i++] = '?';
        else
            i += n;
    }
    const int rc = json_object_set_new(obj, key, json_string(copy)) ? -1 : 0;
    free(copy);
    return rc;
}

int jsonl_write(FILE *f, const json_t *obj, size_t flags)
{
    char *text = json_dumps(obj, flags & ~(size_t)JSON_INDENT(31));
    if (!text)
        return -1;
    const int bad = fputs(text, f) < 0 || fputc('\n', f) == EOF || fflush(f) != 0;
    free(text);
    return bad ? -1 : 0;
}
