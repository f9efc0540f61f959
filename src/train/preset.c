/* SPDX-License-Identifier: MIT */
/* The paper's models, assembled from the public layer and net API only. */
#include <string.h>

#include "core/internal.h"

typedef struct geom {
    int64_t c, side; /* image channels and side */
    int64_t base;    /* side of the first feature map (7 or 8) */
    int ups;         /* transposed convolutions in G */
    int64_t d_side;  /* side after D's two conv+pool blocks */
    int64_t d_hidden;
} geom;

static geom geom_of(sgad_image_shape shape)
{
    switch (shape) {
    case SGAD_SHAPE_32X32X3: return (geom){3, 32, 8, 2, 5, 1024};
    case SGAD_SHAPE_64X64X3: return (geom){3, 64, 8, 3, 13, 2048};
    default: return (geom){1, 28, 7, 2, 4, 1024};
    }
}

/* Appends the layer a create call just wrote into *l (read here, after the
 * call has run); frees it if the net cannot take it. */
static sgad_status push(sgad_net *net, sgad_status made, sgad_layer **l)
{
    SGAD__TRY(made);
    sgad_status s = sgad_net_adopt(net, *l);
    if (s != SGAD_OK)
        sgad_layer_free(*l);
    return s;
}

static sgad_status add_lif(sgad_ctx *ctx, sgad_net *net)
{
    sgad_layer *l = NULL;
    return push(net, sgad_lif_create(ctx, &l), &l);
}

static sgad_status build_generator(sgad_ctx *ctx, sgad_net *g, sgad_model model, const geom *gm,
                                   int steps, int latent)
{
    sgad_layer *l = NULL;
    const int64_t feat = 128 * gm->base * gm->base, map[3] = {128, gm->base, gm->base};
    SGAD__TRY(push(g, sgad_repeat_create(ctx, steps, &l), &l));
    SGAD__TRY(push(g, sgad_linear_create(ctx, latent, 1024, 1, &l), &l));
    SGAD__TRY(push(g, sgad_batchnorm1d_create(ctx, 1024, &l), &l));
    SGAD__TRY(add_lif(ctx, g));
    SGAD__TRY(push(g, sgad_linear_create(ctx, 1024, feat, 1, &l), &l));
    SGAD__TRY(push(g, sgad_batchnorm1d_create(ctx, feat, &l), &l));
    SGAD__TRY(add_lif(ctx, g));
    SGAD__TRY(push(g, sgad_reshape_create(ctx, 3, map, &l), &l));
    int64_t ch = 128;
    for (int i = 0; i + 1 < gm->ups; i++, ch /= 2) {
        SGAD__TRY(push(g, sgad_convt2d_create(ctx, ch, ch / 2, 4, 2, 1, 1, &l), &l));
        SGAD__TRY(push(g, sgad_batchnorm2d_create(ctx, ch / 2, &l), &l));
        SGAD__TRY(add_lif(ctx, g));
    }
    SGAD__TRY(push(g, sgad_convt2d_create(ctx, ch, gm->c, 4, 2, 1, 1, &l), &l));
    switch (model) {
    case SGAD_MODEL_SGAD:
        SGAD__TRY(push(g, sgad_sigmoid_create(ctx, &l), &l));
        return push(g,
                    sgad_attention_decoder_create(ctx, gm->c * gm->side * gm->side, 256,
                                                  gm->c == 3 ? 1024 : 0, 0, &l),
                    &l);
    case SGAD_MODEL_SGAN: return add_lif(ctx, g);
    default: /* SWGAN and the hybrid's generator: sigmoid(final membrane / T) */
        SGAD__TRY(push(g, sgad_mp_create(ctx, &l), &l));
        SGAD__TRY(push(g, sgad_last_step_create(ctx, 1.0 / steps, &l), &l));
        return push(g, sgad_sigmoid_create(ctx, &l), &l);
    }
}

/* Activation of D's hidden layers: LIF, or LeakyReLU(0.2) for the hybrid. */
static sgad_status add_act(sgad_ctx *ctx, sgad_net *d, int ann)
{
    sgad_layer *l = NULL;
    if (ann)
        return push(d, sgad_leaky_relu_create(ctx, 0.2, &l), &l);
    return add_lif(ctx, d);
}

static sgad_status build_conv_discriminator(sgad_ctx *ctx, sgad_net *d, const geom *gm, int steps,
                                            int ann)
{
    sgad_layer *l = NULL;
    const int64_t flat[1] = {64 * gm->d_side * gm->d_side};
    if (!ann)
        SGAD__TRY(push(d, sgad_repeat_create(ctx, steps, &l), &l));
    SGAD__TRY(push(d, sgad_conv2d_create(ctx, gm->c, 32, 5, 1, 0, 1, &l), &l));
    SGAD__TRY(push(d, sgad_batchnorm2d_create(ctx, 32, &l), &l));
    SGAD__TRY(add_act(ctx, d, ann));
    SGAD__TRY(push(d, sgad_avgpool2d_create(ctx, 2, 2, 0, &l), &l));
    SGAD__TRY(push(d, sgad_conv2d_create(ctx, 32, 64, 5, 1, 0, 1, &l), &l));
    SGAD__TRY(push(d, sgad_batchnorm2d_create(ctx, 64, &l), &l));
    SGAD__TRY(add_act(ctx, d, ann));
    SGAD__TRY(push(d, sgad_avgpool2d_create(ctx, 2, 2, 0, &l), &l));
    SGAD__TRY(push(d, sgad_reshape_create(ctx, 1, flat, &l), &l));
    SGAD__TRY(push(d, sgad_linear_create(ctx, flat[0], gm->d_hidden, 1, &l), &l));
    SGAD__TRY(add_act(ctx, d, ann));
    SGAD__TRY(push(d, sgad_linear_create(ctx, gm->d_hidden, 1, 1, &l), &l));
    if (ann)
        return push(d, sgad_sigmoid_create(ctx, &l), &l);
    SGAD__TRY(push(d, sgad_mp_create(ctx, &l), &l));
    return push(d, sgad_last_step_create(ctx, 1.0 / steps, &l), &l);
}

/* SGAN's discriminator in the authors' code: MLP 784-400 LIF-1 MP. */
static sgad_status build_mlp_discriminator(sgad_ctx *ctx, sgad_net *d, const geom *gm, int steps)
{
    sgad_layer *l = NULL;
    const int64_t flat[1] = {gm->c * gm->side * gm->side};
    SGAD__TRY(push(d, sgad_reshape_create(ctx, 1, flat, &l), &l));
    SGAD__TRY(push(d, sgad_linear_create(ctx, flat[0], 400, 1, &l), &l));
    SGAD__TRY(add_lif(ctx, d));
    SGAD__TRY(push(d, sgad_linear_create(ctx, 400, 1, 1, &l), &l));
    SGAD__TRY(push(d, sgad_mp_create(ctx, &l), &l));
    SGAD__TRY(push(d, sgad_last_step_create(ctx, 1.0 / steps, &l), &l));
    return push(d, sgad_sigmoid_create(ctx, &l), &l);
}

static sgad_status build_discriminator(sgad_ctx *ctx, sgad_net *d, sgad_model model, const geom *gm,
                                       int steps)
{
    if (model == SGAD_MODEL_SGAN)
        return build_mlp_discriminator(ctx, d, gm, steps);
    return build_conv_discriminator(ctx, d, gm, steps, model == SGAD_MODEL_HYBRID);
}

/* The one table of model names: indexed by sgad_model, whose values are
 * pinned to 0..3. Programs, checkpoints and bindings reach it through
 * sgad_model_name and sgad_model_from_name. */
static const char *const model_names[] = {"sgan", "swgan", "sgad", "hybrid"};
#define N_MODELS ((int)(sizeof model_names / sizeof model_names[0]))
_Static_assert(N_MODELS == SGAD_MODEL_HYBRID + 1, "one name per sgad_model");

const char *sgad_model_name(sgad_model model)
{
    if ((int)model >= 0 && (int)model < N_MODELS)
        return model_names[model];
    return "unknown";
}

sgad_status sgad_model_from_name(const char *name, sgad_model *out)
{
    if (!name || !out)
        return SGAD_E_INVALID_ARG;
    for (int i = 0; i < N_MODELS; i++)
        if (strcmp(name, model_names[i]) == 0) {
            *out = (sgad_model)i;
            return SGAD_OK;
        }
    return SGAD_E_INVALID_ARG;
}

const char *sgad_image_shape_name(sgad_image_shape shape)
{
    switch (shape) {
    case SGAD_SHAPE_28X28X1: return "28x28x1";
    case SGAD_SHAPE_32X32X3: return "32x32x3";
    case SGAD_SHAPE_64X64X3: return "64x64x3";
    }
    return "unknown";
}

static int default_latent(sgad_model model, sgad_image_shape shape)
{
    if (model == SGAD_MODEL_SGAN)
        return 100;
    return shape == SGAD_SHAPE_64X64X3 ? 20 : 15;
}

sgad_status sgad_preset_create(sgad_ctx *ctx, sgad_model model, sgad_image_shape shape, int steps,
                               int latent, sgad_net **generator, sgad_net **discriminator)
{
    static const char fn[] = "sgad_preset_create";
    if (!ctx)
        return SGAD_E_INVALID_ARG;
    SGAD__CHECK(ctx, generator && discriminator, SGAD_E_INVALID_ARG, "%s: output is NULL", fn);
    *generator = *discriminator = NULL;
    SGAD__CHECK(ctx, model >= SGAD_MODEL_SGAN && model <= SGAD_MODEL_HYBRID, SGAD_E_INVALID_ARG,
                "%s: unknown model %d", fn, (int)model);
    SGAD__CHECK(ctx, shape >= SGAD_SHAPE_28X28X1 && shape <= SGAD_SHAPE_64X64X3, SGAD_E_INVALID_ARG,
                "%s: unknown image shape %d", fn, (int)shape);
    SGAD__CHECK(ctx, steps >= 0 && steps <= 1024 && latent >= 0 && latent <= 4096,
                SGAD_E_INVALID_ARG,
                "%s: steps=%d must be in [0, 1024] and latent=%d in "
                "[0, 4096] (0 = the paper's)",
                fn, steps, latent);
    steps = steps ? steps : 16;
    latent = latent ? latent : default_latent(model, shape);
    const geom gm = geom_of(shape);
    sgad_net *g = NULL, *d = NULL;
    sgad_status s = sgad_net_create(ctx, &g);
    if (s == SGAD_OK)
        s = sgad_net_create(ctx, &d);
    if (s == SGAD_OK)
        s = build_generator(ctx, g, model, &gm, steps, latent);
    if (s == SGAD_OK)
        s = build_discriminator(ctx, d, model, &gm, steps);
    if (s != SGAD_OK) {
        sgad_net_free(g);
        sgad_net_free(d);
        return s;
    }
    *generator = g;
    *discriminator = d;
    return SGAD_OK;
}
