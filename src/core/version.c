/* SPDX-License-Identifier: MIT */
/* Runtime version queries. */
#include "internal.h"

#define SGAD__STR2(x) #x
#define SGAD__STR(x) SGAD__STR2(x)

unsigned sgad_version_number(void)
{
    return SGAD_VERSION_NUMBER;
}

const char *sgad_version_string(void)
{
    return SGAD__STR(SGAD_VERSION_MAJOR) "." SGAD__STR(SGAD_VERSION_MINOR) "." SGAD__STR(
        SGAD_VERSION_PATCH);
}
