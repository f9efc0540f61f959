/* SPDX-License-Identifier: MIT */
/* Internals shared by the metrics sources (metrics_stats.c,
 * metrics_frechet.c). */
#ifndef SGAD_METRICS_IMPL_H
#define SGAD_METRICS_IMPL_H

#include "core/internal.h"

/* n (the product of all but the last dimension) and d (the last) of a
 * feature tensor, checked: at least 2 dimensions, n >= 2, d in range. */
sgad_status sgad__features_shape(const sgad_tensor *t, const char *fn, int64_t *n, int64_t *d);

#endif /* SGAD_METRICS_IMPL_H */
