/* SPDX-License-Identifier: MIT */
/** @file
 * libsgad: version numbers.
 *
 * Versions with the same major number are ABI compatible: a program built
 * against 1.x runs with any later 1.y. The Makefile reads these three lines
 * to name the shared library, so keep their form.
 *
 * Threads: every function here may be called from any thread at any time. */
#ifndef SGAD_VERSION_H
#define SGAD_VERSION_H

#include "export.h"

/** Major version: changes only when the ABI breaks (the soname libsgad.so.MAJOR). */
#define SGAD_VERSION_MAJOR 1
/** Minor version: grows when functions are added. */
#define SGAD_VERSION_MINOR 0
/** Patch version: fixes that change no declaration. */
#define SGAD_VERSION_PATCH 0

/** MAJOR*10000 + MINOR*100 + PATCH, e.g. 10000 for 1.0.0. */
#define SGAD_VERSION_NUMBER                                                                        \
    (SGAD_VERSION_MAJOR * 10000 + SGAD_VERSION_MINOR * 100 + SGAD_VERSION_PATCH)

#ifdef __cplusplus
extern "C" {
#endif

/** @return SGAD_VERSION_NUMBER of the library actually loaded. Compare it
 *  with the macro to detect a header/library mismatch. */
SGAD_API unsigned sgad_version_number(void);

/** @return the version as static text, e.g. "1.0.0". Never NULL. */
SGAD_API const char *sgad_version_string(void);

#ifdef __cplusplus
}
#endif

#endif /* SGAD_VERSION_H */
