/* SPDX-License-Identifier: MIT */
/* Status names and descriptions. */
#include "internal.h"

const char *sgad_status_name(sgad_status status)
{
    switch (status) {
    case SGAD_OK: return "SGAD_OK";
    case SGAD_E_INVALID_ARG: return "SGAD_E_INVALID_ARG";
    case SGAD_E_SHAPE: return "SGAD_E_SHAPE";
    case SGAD_E_NOMEM: return "SGAD_E_NOMEM";
    case SGAD_E_STATE: return "SGAD_E_STATE";
    case SGAD_E_NUMERIC: return "SGAD_E_NUMERIC";
    case SGAD_E_IO: return "SGAD_E_IO";
    case SGAD_E_FORMAT: return "SGAD_E_FORMAT";
    case SGAD_E_UNSUPPORTED: return "SGAD_E_UNSUPPORTED";
    case SGAD_E_INTERNAL: return "SGAD_E_INTERNAL";
    }
    return "SGAD_E_UNKNOWN";
}

const char *sgad_status_string(sgad_status status)
{
    switch (status) {
    case SGAD_OK: return "success";
    case SGAD_E_INVALID_ARG: return "invalid argument";
    case SGAD_E_SHAPE: return "tensor shape mismatch";
    case SGAD_E_NOMEM: return "out of memory";
    case SGAD_E_STATE: return "call out of order";
    case SGAD_E_NUMERIC: return "non-finite value";
    case SGAD_E_IO: return "input/output error";
    case SGAD_E_FORMAT: return "malformed data";
    case SGAD_E_UNSUPPORTED: return "not supported";
    case SGAD_E_INTERNAL: return "internal error";
    }
    return "unknown status";
}
