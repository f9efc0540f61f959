/* SPDX-License-Identifier: MIT */
/* The input-path options of a layer (input_path.h). */
#include "input_path.h"
#include "layer_impl.h"

sgad_status sgad__input_path_set(sgad_layer *l, sgad__input_path *p, sgad_option option,
                                 double value)
{
    SGAD__CHECK(l->ctx, option == SGAD_OPT_INPUT_PATH, SGAD_E_UNSUPPORTED,
                "sgad_layer_set: a %s layer has no option %d", sgad_layer_kind_name(l->ops->kind),
                (int)option);
    p->setting = (int)value;
    return SGAD_OK;
}

sgad_status sgad__input_path_get(const sgad_layer *l, const sgad__input_path *p, sgad_option option,
                                 double *value)
{
    SGAD__CHECK(l->ctx, option == SGAD_OPT_INPUT_PATH || option == SGAD_OPT_INPUT_PATH_TAKEN,
                SGAD_E_UNSUPPORTED, "sgad_layer_get: a %s layer has no option %d",
                sgad_layer_kind_name(l->ops->kind), (int)option);
    *value = option == SGAD_OPT_INPUT_PATH ? p->setting : p->taken;
    return SGAD_OK;
}
