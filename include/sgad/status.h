/* SPDX-License-Identifier: MIT */
/** @file
 * libsgad: status codes.
 *
 * Every call that can fail returns an sgad_status. On failure the context the
 * object belongs to also keeps a message for a person (sgad_ctx_last_error).
 * Values are pinned: new codes are only ever appended.
 *
 * Threads: sgad_status_name and sgad_status_string may be called from any
 * thread at any time. */
#ifndef SGAD_STATUS_H
#define SGAD_STATUS_H

#include "export.h"

#ifdef __cplusplus
extern "C" {
#endif

/** What a call did: SGAD_OK, or why it failed. */
typedef enum sgad_status {
    SGAD_OK = 0,            /**< success */
    SGAD_E_INVALID_ARG = 1, /**< NULL pointer or a value out of its range */
    SGAD_E_SHAPE = 2,       /**< a tensor's shape does not fit the call */
    SGAD_E_NOMEM = 3,       /**< an allocation failed; nothing was changed */
    SGAD_E_STATE = 4,       /**< call out of order, e.g. backward before forward */
    SGAD_E_NUMERIC = 5,     /**< a NaN or infinity where a finite value is needed */
    SGAD_E_IO = 6,          /**< reading or writing a file failed */
    SGAD_E_FORMAT = 7,      /**< a file or buffer is malformed */
    SGAD_E_UNSUPPORTED = 8, /**< valid request this build or object cannot do */
    SGAD_E_INTERNAL = 9     /**< a bug in libsgad: please report it */
} sgad_status;

/** @return the enumerator's name, e.g. "SGAD_E_SHAPE", or "SGAD_E_UNKNOWN"
 *  for a value this version does not know. Static text, never NULL. */
SGAD_API const char *sgad_status_name(sgad_status status);

/** @return a one-line description, e.g. "tensor shape mismatch". Static
 *  text, never NULL. */
SGAD_API const char *sgad_status_string(sgad_status status);

#ifdef __cplusplus
}
#endif

#endif /* SGAD_STATUS_H */
