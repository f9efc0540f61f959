/* SPDX-License-Identifier: MIT */
/** @file
 * libsgad: tensors.
 *
 * A tensor is a dense, C-ordered (row-major) float32 array with up to
 * SGAD_MAX_DIMS dimensions. Activations are time-major: [T, N, C, H, W] for
 * images and [T, N, F] for feature vectors, where T is the number of time
 * steps and N the batch. Weights use PyTorch's layouts (see layer.h), so
 * they can be exchanged with PyTorch as they are.
 *
 * A tensor either owns its data (sgad_tensor_create) or borrows the caller's
 * buffer (sgad_tensor_wrap); e.g. a numpy array can be wrapped without a copy.
 * Calls report errors through the tensor's context (sgad_ctx_last_error).
 *
 * Threads: an object is used by one thread at a time, together with the
 * context it was made from (context.h); objects of different contexts may
 * be used in parallel. */
#ifndef SGAD_TENSOR_H
#define SGAD_TENSOR_H

#include <stdint.h>

#include "context.h"
#include "export.h"
#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Most dimensions a tensor can have. */
#define SGAD_MAX_DIMS 6

/** A float32 tensor (opaque). Made by sgad_tensor_create or
 *  sgad_tensor_wrap, freed by sgad_tensor_free. */
typedef struct sgad_tensor sgad_tensor;

/** Creates a zero-filled tensor that owns its data.
 *  @param ndim 1..SGAD_MAX_DIMS; @param dims each >= 1, product < 2^40.
 *  @return SGAD_OK, SGAD_E_INVALID_ARG or SGAD_E_NOMEM. */
SGAD_API sgad_status sgad_tensor_create(sgad_ctx *ctx, int ndim, const int64_t *dims,
                                        sgad_tensor **out);

/** Creates a tensor over the caller's buffer of prod(dims) floats. The
 *  buffer is borrowed: it must outlive the tensor and is never freed.
 *  @return SGAD_OK, SGAD_E_INVALID_ARG (data NULL, dims as for
 *  sgad_tensor_create) or SGAD_E_NOMEM. */
SGAD_API sgad_status sgad_tensor_wrap(sgad_ctx *ctx, int ndim, const int64_t *dims, float *data,
                                      sgad_tensor **out);

/** Frees the tensor (and its data if owned). NULL is a no-op. */
SGAD_API void sgad_tensor_free(sgad_tensor *t);

/** @return the data pointer, or NULL if t is NULL. */
SGAD_API float *sgad_tensor_data(const sgad_tensor *t);

/** @return the number of dimensions, or 0 if t is NULL. */
SGAD_API int sgad_tensor_ndim(const sgad_tensor *t);

/** @return dimension i, or 0 if t is NULL or i is out of range. */
SGAD_API int64_t sgad_tensor_dim(const sgad_tensor *t, int i);

/** @return the number of elements, or 0 if t is NULL. */
SGAD_API int64_t sgad_tensor_numel(const sgad_tensor *t);

/** Gives the tensor new dimensions with the same number of elements; the
 *  data stays as it is. SGAD_E_INVALID_ARG for bad dims, SGAD_E_SHAPE if
 *  the element count differs; on failure the tensor keeps its shape. */
SGAD_API sgad_status sgad_tensor_reshape(sgad_tensor *t, int ndim, const int64_t *dims);

#ifdef __cplusplus
}
#endif

#endif /* SGAD_TENSOR_H */
