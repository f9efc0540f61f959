/* SPDX-License-Identifier: MIT */
/* Learning-rate schedules (sgad_schedule in trainer.h). */
#include <math.h>

#include "trainer_impl.h"

/* PyTorch's CosineAnnealingLR with eta_min 0, held at 0 past its end. */
static double cosine(int64_t position, int64_t length)
{
    if (length <= 0 || position >= length)
        return 0.0;
    return 0.5 * (1.0 + cos(3.14159265358979323846 * (double)position / (double)length));
}

double sgad__schedule_factor(sgad_schedule kind, int64_t length, int64_t period, int64_t iteration)
{
    const int64_t p = iteration / period * period;
    switch (kind) {
    case SGAD_SCHEDULE_COSINE: return cosine(p, length);
    case SGAD_SCHEDULE_PAPER: {
        const int64_t hold = length / 2;
        return p < hold ? 1.0 : cosine(p - hold, length - hold);
    }
    default: return 1.0;
    }
}
