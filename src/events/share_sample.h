/* SPDX-License-Identifier: MIT */
/* The sample of positions on which the path choices count nonzeros
 * (path_choice.c, and periodic.c for an input's periodic parts): both
 * count the same positions, so their shares compare. */
#ifndef SGAD_SHARE_SAMPLE_H
#define SGAD_SHARE_SAMPLE_H

#include <stdint.h>

/* In inputs of SGAD__SHARE_SAMPLE_MIN values or more, a run of
 * SGAD__SHARE_RUN values (a cache line) out of every SGAD__SHARE_RUN *
 * SGAD__SHARE_STRIDE. The choice needs the share to a percent or so, which
 * 10^5 samples give, and a full count is a pass over the input of its own
 * [bench:share-sample]; every 7th value alone would still read every cache
 * line. 7 shares no factor with the power-of-two row lengths of
 * images and feature maps once the runs are counted, so the sample does
 * not keep to a few columns. Smaller inputs are counted whole. */
#define SGAD__SHARE_STRIDE 7
#define SGAD__SHARE_RUN 16
#define SGAD__SHARE_SAMPLE_MIN ((int64_t)1 << 20)

/* The positions counted along `len` values (a whole input, or one step's
 * plane of it) when the input has `total` values: `runs` runs of `run`
 * values, `period` apart. */
typedef struct sgad__share_sample {
    int64_t run, period, runs;
} sgad__share_sample;

static inline sgad__share_sample sgad__share_sample_of(int64_t len, int64_t total)
{
    const int64_t period = SGAD__SHARE_RUN * SGAD__SHARE_STRIDE;
    if (total < SGAD__SHARE_SAMPLE_MIN || len < period)
        return (sgad__share_sample){len, len, 1};
    return (sgad__share_sample){SGAD__SHARE_RUN, period, len / period};
}

#endif /* SGAD_SHARE_SAMPLE_H */
