/* SPDX-License-Identifier: MIT */
/* Surrogate derivatives of the spike function (neuron.h). Each is the
 * derivative of a smooth step that rises from 0 to 1, so each integrates to
 * 1 over u; alpha sets the width. Inline: the neurons' backward pass calls
 * it once per element and time step, and with a constant kind the switch
 * folds away and the loop vectorises. */
#ifndef SGAD_SURROGATE_H
#define SGAD_SURROGATE_H

#include <math.h>

#include "core/internal.h"

/* g(u), u = H - V_th, for the given sgad_surrogate and sharpness alpha. */
static inline float sgad__surrogate(int kind, float alpha, float u)
{
    switch (kind) {
    case SGAD_SURROGATE_SIGMOID: {
        const float s = 1.0f / (1.0f + expf(-alpha * u));
        return alpha * s * (1.0f - s);
    }
    case SGAD_SURROGATE_TRIANGLE: {
        const float v = 1.0f - alpha * fabsf(u);
        return v > 0.0f ? alpha * v : 0.0f;
    }
    default: { /* arctan: d/du of arctan(pi/2 alpha u)/pi + 1/2 */
        const float z = 1.5707963267948966f * alpha * u;
        return 0.5f * alpha / (1.0f + z * z);
    }
    }
}

#endif
