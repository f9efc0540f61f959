/* SPDX-License-Identifier: MIT */
/* The choice of a layer's input path (path_choice.h). */
#include "path_choice.h"
#include "core/parallel.h"
#include "kernels/isa.h"
#include "periodic.h"
#include "share_sample.h"

/* The share of nonzero values in x[0..n), estimated in large inputs. */
SGAD__AVX2_CLONE
static double nonzero_share(const sgad_ctx *ctx, const float *x, int64_t n)
{
    if (n <= 0)
        return 0.0;
    const sgad__share_sample sm = sgad__share_sample_of(n, n);
    int64_t nonzero = 0;
#pragma omp parallel for num_threads(sgad__par_threads(ctx, sm.runs * sm.run)) \
    schedule(static) reduction(+ : nonzero)
    for (int64_t i = 0; i < sm.runs; i++)
        for (int64_t j = 0; j < sm.run; j++)
            nonzero += x[i * sm.period + j] != 0.0f;
    return (double)nonzero / (double)(sm.runs * sm.run);
}

/* Records the path chosen. */
static int take(sgad__input_path *p, int events, int periodic)
{
    p->events = events;
    p->periodic = events && periodic;
    p->taken = !events       ? SGAD_PATH_DENSE
               : p->periodic ? SGAD_PATH_EVENTS_BY_PERIOD
                             : SGAD_PATH_EVENTS;
    return events;
}

int sgad__input_path_take_dense(sgad__input_path *p)
{
    return take(p, 0, 0);
}

int sgad__input_path_choose(const sgad_ctx *ctx, sgad__input_path *p, const float *x, int64_t n,
                            double break_even)
{
    if (p->setting != SGAD_PATH_AUTO)
        return take(p, p->setting == SGAD_PATH_EVENTS, 0);
    /* no share is below 0: skip the count */
    return take(p, break_even > 0.0 && nonzero_share(ctx, x, n) < break_even, 0);
}

int sgad__input_path_choose_periodic(const sgad_ctx *ctx, sgad__input_path *p, int64_t steps,
                                     int64_t plane, const float *x, double break_even)
{
    if (p->setting == SGAD_PATH_DENSE || steps < 2 || steps > SGAD__PERIODIC_MAX_STEPS)
        return sgad__input_path_choose(ctx, p, x, steps * plane, break_even);
    double x_share, part_share;
    sgad__periodic_shares(ctx, steps, plane, x, &x_share, &part_share);
    /* Half: the parts cost a pass to write and one to sum the outputs. */
    const int periodic = 2.0 * part_share <= x_share;
    const double share = periodic ? part_share : x_share;
    return take(p, p->setting == SGAD_PATH_EVENTS || share < break_even, periodic);
}
