/* SPDX-License-Identifier: MIT */
/* SGAD_OPT_INPUT_PATH and SGAD_OPT_INPUT_PATH_TAKEN, the options of a
 * layer with an event path: they set and report the choice of
 * events/path_choice.h, which knows nothing of layers. */
#ifndef SGAD_INPUT_PATH_H
#define SGAD_INPUT_PATH_H

#include "core/internal.h"
#include "events/path_choice.h"

/* sgad_layer_set of SGAD_OPT_INPUT_PATH and sgad_layer_get of it and of
 * SGAD_OPT_INPUT_PATH_TAKEN, for a layer that has them. */
sgad_status sgad__input_path_set(sgad_layer *l, sgad__input_path *p, sgad_option option,
                                 double value);
sgad_status sgad__input_path_get(const sgad_layer *l, const sgad__input_path *p, sgad_option option,
                                 double *value);

#endif /* SGAD_INPUT_PATH_H */
