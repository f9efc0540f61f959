/* SPDX-License-Identifier: MIT */
/** @file
 * libsgad: spiking generative adversarial networks in C.
 *
 * The umbrella header: include this one. See docs/design.md for the
 * architecture and each header for its part of the API. */
#ifndef SGAD_SGAD_H
#define SGAD_SGAD_H

#include "checkpoint.h"
#include "classifier.h"
#include "context.h"
#include "data.h"
#include "decoder.h"
#include "export.h"
#include "layer.h"
#include "metrics.h"
#include "net.h"
#include "neuron.h"
#include "optim.h"
#include "preset.h"
#include "record.h"
#include "similarity.h"
#include "status.h"
#include "tensor.h"
#include "trainer.h"
#include "version.h"

#endif /* SGAD_SGAD_H */
