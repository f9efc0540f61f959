/* Surrogate derivatives of the spike function (neuron.h). */
#ifndef SGAD_SURROGATE_H
#define SGAD_SURROGATE_H

#include "internal.h"

/* g(u), u = H - V_th, for the given sgad_surrogate and sharpness alpha. */
float sgad__surrogate(int kind, float alpha, float u);

#endif
