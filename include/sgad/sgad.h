/** @file
 * libsgad: spiking generative adversarial networks in C.
 *
 * The umbrella header: include this one. See docs/design.md for the
 * architecture and each header for its part of the API. */
#ifndef SGAD_SGAD_H
#define SGAD_SGAD_H

#include "export.h"
#include "version.h"
#include "status.h"
#include "context.h"
#include "tensor.h"
#include "layer.h"
#include "neuron.h"
#include "net.h"
#include "decoder.h"
#include "optim.h"
#include "preset.h"
#include "trainer.h"
#include "checkpoint.h"
#include "data.h"
#include "metrics.h"
#include "classifier.h"

#endif /* SGAD_SGAD_H */
