/* SPDX-License-Identifier: MIT */
/* The GAN trainer (trainer.h): one D update, then one G update on the
 * same z, all or nothing. Before an iteration every tensor it may change
 * (parameters, batch-norm buffers, optimizer state) is copied aside, and
 * copied back if a gradient turns out not finite. */
#include <math.h>
#include <string.h>

#include "core/parallel.h"
#include "core/rng.h"
#include "kernels/isa.h"
#include "kernels/sums.h"
#include "layers/layer_impl.h"
#include "trainer_impl.h"

/* ---- life cycle ---------------------------------------------------------- */

static void free_work(sgad_trainer *t)
{
    sgad_tensor **work[5] = {&t->z, &t->real_seq, &t->fake, &t->dfake, &t->score_grad};
    for (int i = 0; i < 5; i++) {
        sgad_tensor_free(*work[i]);
        *work[i] = NULL;
    }
}

void sgad_trainer_free(sgad_trainer *t)
{
    if (!t)
        return;
    free_work(t);
    sgad__copies_free(t->ctx, &t->snapshot);
    sgad__copies_free(t->ctx, &t->ema);
    sgad__free(t->ctx, t->rates[0]);
    sgad__free(t->ctx, t->rates[1]);
    sgad_optimizer_free(t->opt_g);
    sgad_optimizer_free(t->opt_d);
    if (t->owns_nets) {
        sgad_net_free(t->g);
        sgad_net_free(t->d);
    }
    sgad__free(t->ctx, t);
}

static sgad_status make_parts(sgad_trainer *t, sgad_optimizer_kind optimizer)
{
    SGAD__TRY(sgad_optimizer_create(t->ctx, optimizer, t->g, &t->opt_g));
    SGAD__TRY(sgad_optimizer_create(t->ctx, optimizer, t->d, &t->opt_d));
    /* G's optimizer step is the last thing an iteration does, and it checks
     * every gradient before it changes anything; so a failed iteration has
     * touched G only through its forward passes (batch-norm statistics),
     * and only those need a copy. D's update comes first: all of it. */
    SGAD__TRY(sgad__copies_add_buffers(t->ctx, &t->snapshot, t->g));
    SGAD__TRY(sgad__copies_add_net(t->ctx, &t->snapshot, t->d, t->opt_d));
    sgad_net *nets[2] = {t->g, t->d};
    for (int k = 0; k < 2; k++) {
        const int n = sgad_net_layer_count(nets[k]);
        t->rates[k] = sgad__calloc(t->ctx, (size_t)(n ? n : 1), sizeof(double));
        if (!t->rates[k])
            return SGAD_E_NOMEM;
    }
    return SGAD_OK;
}

sgad_status sgad_trainer_create(sgad_ctx *ctx, sgad_net *generator, sgad_net *discriminator,
                                int latent, sgad_loss loss, sgad_optimizer_kind optimizer,
                                sgad_trainer **out)
{
    static const char fn[] = "sgad_trainer_create";
    if (!ctx)
        return SGAD_E_INVALID_ARG;
    SGAD__CHECK(ctx, out && generator && discriminator, SGAD_E_INVALID_ARG,
                "%s: out, generator or discriminator is NULL", fn);
    *out = NULL;
    SGAD__CHECK(ctx, generator != discriminator, SGAD_E_INVALID_ARG,
                "%s: generator and discriminator are the same net", fn);
    SGAD__CHECK(ctx, latent >= 1 && latent <= 4096, SGAD_E_INVALID_ARG,
                "%s: latent=%d outside [1, 4096]", fn, latent);
    SGAD__CHECK(ctx, loss == SGAD_LOSS_EM || loss == SGAD_LOSS_MINIMAX, SGAD_E_INVALID_ARG,
                "%s: unknown loss %d", fn, (int)loss);
    sgad_trainer *t = sgad__calloc(ctx, 1, sizeof *t);
    if (!t)
        return SGAD_E_NOMEM;
    t->ctx = ctx;
    t->g = generator;
    t->d = discriminator;
    t->latent = latent;
    t->loss = loss;
    t->n_critic = 1;
    t->schedule = SGAD_SCHEDULE_CONSTANT;
    t->schedule_length = t->schedule_period = 1;
    const sgad_status s = make_parts(t, optimizer);
    if (s != SGAD_OK) {
        sgad_trainer_free(t);
        return s;
    }
    *out = t;
    return SGAD_OK;
}

sgad_status sgad_trainer_create_preset(sgad_ctx *ctx, sgad_model model, sgad_image_shape shape,
                                       int steps, int latent, sgad_loss loss,
                                       sgad_optimizer_kind optimizer, sgad_trainer **out)
{
    if (!ctx)
        return SGAD_E_INVALID_ARG;
    SGAD__CHECK(ctx, out != NULL, SGAD_E_INVALID_ARG, "sgad_trainer_create_preset: out is NULL");
    *out = NULL;
    sgad_net *g, *d;
    SGAD__TRY(sgad_preset_create(ctx, model, shape, steps, latent, &g, &d));
    /* the first linear layer's input width is the latent size the preset chose */
    sgad_tensor *w;
    sgad_status s = sgad_layer_param(sgad_net_layer(g, 1), 0, NULL, &w, NULL);
    if (s == SGAD_OK)
        s = sgad_trainer_create(ctx, g, d, (int)sgad_tensor_dim(w, 1), loss, optimizer, out);
    if (s != SGAD_OK) {
        sgad_net_free(g);
        sgad_net_free(d);
        return s;
    }
    sgad_trainer *t = *out;
    t->owns_nets = 1;
    t->model = model;
    t->shape = shape;
    t->steps = steps ? steps : 16;
    return SGAD_OK;
}

sgad_net *sgad_trainer_net(const sgad_trainer *t, int which)
{
    if (!t || (which != 0 && which != 1))
        return NULL;
    return which ? t->d : t->g;
}

sgad_status sgad_trainer_preset(const sgad_trainer *t, sgad_model *model, sgad_image_shape *shape,
                                int *steps, int *latent)
{
    if (!t)
        return SGAD_E_INVALID_ARG;
    SGAD__CHECK(t->ctx, t->owns_nets, SGAD_E_STATE,
                "sgad_trainer_preset: this trainer runs nets its caller built");
    if (model)
        *model = t->model;
    if (shape)
        *shape = t->shape;
    if (steps)
        *steps = t->steps;
    if (latent)
        *latent = t->latent;
    return SGAD_OK;
}

sgad_status sgad_trainer_set_epoch(sgad_trainer *t, int64_t epoch)
{
    if (!t)
        return SGAD_E_INVALID_ARG;
    SGAD__CHECK(t->ctx, epoch >= 0, SGAD_E_INVALID_ARG, "sgad_trainer_set_epoch: epoch %lld < 0",
                (long long)epoch);
    t->epoch = epoch;
    return SGAD_OK;
}

int64_t sgad_trainer_epoch(const sgad_trainer *t)
{
    return t ? t->epoch : 0;
}

sgad_optimizer *sgad_trainer_optimizer(sgad_trainer *t, int which)
{
    if (!t || (which != 0 && which != 1))
        return NULL;
    return which ? t->opt_d : t->opt_g;
}

sgad_status sgad_trainer_set_seed(sgad_trainer *t, uint64_t seed)
{
    if (!t)
        return SGAD_E_INVALID_ARG;
    t->seed = seed;
    return SGAD_OK;
}

sgad_status sgad_trainer_set_shard(sgad_trainer *t, int index, int count)
{
    if (!t)
        return SGAD_E_INVALID_ARG;
    SGAD__CHECK(t->ctx, count >= 1 && index >= 0 && index < count, SGAD_E_INVALID_ARG,
                "sgad_trainer_set_shard: index %d of %d", index, count);
    t->shard_index = index;
    return SGAD_OK;
}

sgad_status sgad_trainer_set_grad_hook(sgad_trainer *t, sgad_grad_hook hook, void *user)
{
    if (!t)
        return SGAD_E_INVALID_ARG;
    t->hook = hook;
    t->hook_user = user;
    return SGAD_OK;
}

sgad_status sgad_draw_latents(sgad_ctx *ctx, uint64_t seed, sgad_tensor *z)
{
    if (!ctx)
        return SGAD_E_INVALID_ARG;
    SGAD__CHECK(ctx, z != NULL, SGAD_E_INVALID_ARG, "sgad_draw_latents: z is NULL");
    /* A stream no iteration uses: iterations count up from 0. */
    sgad__rng_normal_fill(seed, UINT64_MAX, 0, z->data, z->numel);
    return SGAD_OK;
}

uint64_t sgad_trainer_seed(const sgad_trainer *t)
{
    return t ? t->seed : 0;
}

int64_t sgad_trainer_iterations(const sgad_trainer *t)
{
    return t ? t->iterations : 0;
}

/* ---- settings ------------------------------------------------------------ */

static sgad_status set_ema(sgad_trainer *t, double decay)
{
    if (decay == 0.0)
        sgad__copies_free(t->ctx, &t->ema);
    else if (t->ema.count == 0) {
        const sgad_status s = sgad__copies_add_net(t->ctx, &t->ema, t->g, NULL);
        if (s != SGAD_OK) {
            sgad__copies_free(t->ctx, &t->ema);
            return s;
        }
    }
    t->ema_decay = decay;
    return SGAD_OK;
}

sgad_status sgad_trainer_set(sgad_trainer *t, sgad_option option, double value)
{
    static const char fn[] = "sgad_trainer_set";
    if (!t)
        return SGAD_E_INVALID_ARG;
    SGAD__TRY(sgad__option_check(t->ctx, fn, "trainer", option, value));
    switch (option) {
    case SGAD_OPT_N_CRITIC: t->n_critic = (int)value; return SGAD_OK;
    case SGAD_OPT_CLIP: t->clip = value; return SGAD_OK;
    case SGAD_OPT_EMA_DECAY: return set_ema(t, value);
    case SGAD_OPT_SCHEDULE: t->schedule = (sgad_schedule)value; return SGAD_OK;
    case SGAD_OPT_SCHEDULE_LENGTH: t->schedule_length = (int64_t)value; return SGAD_OK;
    case SGAD_OPT_SCHEDULE_PERIOD: t->schedule_period = (int64_t)value; return SGAD_OK;
    default: break;
    }
    SGAD__CHECK(t->ctx, 0, SGAD_E_UNSUPPORTED,
                "%s: option %d is not a trainer's; set it on "
                "a layer or on sgad_trainer_optimizer",
                fn, (int)option);
    return SGAD_E_UNSUPPORTED;
}

sgad_status sgad_trainer_get(const sgad_trainer *t, sgad_option option, double *value)
{
    static const char fn[] = "sgad_trainer_get";
    if (!t)
        return SGAD_E_INVALID_ARG;
    SGAD__CHECK(t->ctx, value != NULL, SGAD_E_INVALID_ARG, "%s: value is NULL", fn);
    switch (option) {
    case SGAD_OPT_N_CRITIC: *value = t->n_critic; return SGAD_OK;
    case SGAD_OPT_CLIP: *value = t->clip; return SGAD_OK;
    case SGAD_OPT_EMA_DECAY: *value = t->ema_decay; return SGAD_OK;
    case SGAD_OPT_SCHEDULE: *value = (double)t->schedule; return SGAD_OK;
    case SGAD_OPT_SCHEDULE_LENGTH: *value = (double)t->schedule_length; return SGAD_OK;
    case SGAD_OPT_SCHEDULE_PERIOD: *value = (double)t->schedule_period; return SGAD_OK;
    default: break;
    }
    SGAD__CHECK(t->ctx, 0, SGAD_E_UNSUPPORTED, "%s: option %d is not a trainer's", fn, (int)option);
    return SGAD_E_UNSUPPORTED;
}

/* ---- figures ------------------------------------------------------------- */

sgad_status sgad_trainer_stat(const sgad_trainer *t, sgad_stat stat, double *value)
{
    if (!t)
        return SGAD_E_INVALID_ARG;
    SGAD__CHECK(t->ctx, value != NULL, SGAD_E_INVALID_ARG, "sgad_trainer_stat: value is NULL");
    SGAD__CHECK(t->ctx, stat >= SGAD_STAT_D_REAL && stat <= SGAD_STAT_LR_G, SGAD_E_INVALID_ARG,
                "sgad_trainer_stat: unknown figure %d", (int)stat);
    SGAD__CHECK(t->ctx, t->iterations > 0, SGAD_E_STATE,
                "sgad_trainer_stat: no iteration has completed");
    *value = t->stats[stat];
    return SGAD_OK;
}

sgad_status sgad_trainer_firing_rate(const sgad_trainer *t, int which, int layer, double *rate)
{
    static const char fn[] = "sgad_trainer_firing_rate";
    if (!t)
        return SGAD_E_INVALID_ARG;
    SGAD__CHECK(t->ctx, rate != NULL && (which == 0 || which == 1), SGAD_E_INVALID_ARG,
                "%s: rate is NULL or which=%d is not 0 (G) or 1 (D)", fn, which);
    const int n = sgad_net_layer_count(which ? t->d : t->g);
    SGAD__CHECK(t->ctx, layer >= 0 && layer < n, SGAD_E_INVALID_ARG, "%s: layer %d outside [0, %d)",
                fn, layer, n);
    SGAD__CHECK(t->ctx, t->iterations > 0, SGAD_E_STATE, "%s: no iteration has completed", fn);
    const double r = t->rates[which][layer];
    SGAD__CHECK(t->ctx, !isnan(r), SGAD_E_UNSUPPORTED, "%s: layer %d of %s does not spike", fn,
                layer, which ? "D" : "G");
    *rate = r;
    return SGAD_OK;
}

/* Adds `weight` times each layer's firing rate in net's last forward to
 * rates; NaN marks layers that do not spike. */
static void record_rates(sgad_net *net, double *rates, double weight, int first)
{
    for (int i = 0; i < sgad_net_layer_count(net); i++) {
        const sgad_layer *l = sgad_net_layer(net, i);
        double r = NAN;
        if (sgad__layer_spiking(l))
            sgad_layer_firing_rate(l, &r);
        rates[i] = first ? weight * r : rates[i] + weight * r;
    }
}

/* ---- one iteration ------------------------------------------------------- */

/* Sizes the work tensors for batch n; real images are repeated over the
 * steps of G's output (SGAN's spike trains) so D sees like with like. */
static sgad_status prepare(sgad_trainer *t, const sgad_tensor *real)
{
    static const char fn[] = "sgad_trainer_step";
    SGAD__CHECK(t->ctx, real && real->ndim == 4, SGAD_E_SHAPE,
                "%s: real images must be [N, C, H, W]", fn);
    const int64_t n = real->dims[0];
    const int64_t zd[3] = {1, n, t->latent};
    int nd;
    int64_t od[SGAD_MAX_DIMS];
    SGAD__TRY(sgad_net_output_dims(t->g, 3, zd, &nd, od));
    SGAD__CHECK(t->ctx,
                nd == 5 && od[2] == real->dims[1] && od[3] == real->dims[2] &&
                    od[4] == real->dims[3],
                SGAD_E_SHAPE,
                "%s: the generator makes [%lld, %lld, %lld] images, the real "
                "batch is [%lld, %lld, %lld]",
                fn, (long long)od[2], (long long)od[3], (long long)od[4], (long long)real->dims[1],
                (long long)real->dims[2], (long long)real->dims[3]);
    if (t->fake && memcmp(t->fake->dims, od, 5 * sizeof *od) == 0)
        return SGAD_OK; /* same batch shape as before */
    free_work(t);
    const int64_t sd[3] = {1, n, 1};
    SGAD__TRY(sgad_tensor_create(t->ctx, 3, zd, &t->z));
    SGAD__TRY(sgad_tensor_create(t->ctx, 5, od, &t->real_seq));
    SGAD__TRY(sgad_tensor_create(t->ctx, 5, od, &t->fake));
    SGAD__TRY(sgad_tensor_create(t->ctx, 5, od, &t->dfake));
    return sgad_tensor_create(t->ctx, 3, sd, &t->score_grad);
}

/* Standard normal latents keyed by the seed and the iteration. */
static void draw_latents(sgad_trainer *t)
{
    /* a shard draws its slice of the global batch's latents */
    sgad__rng_normal_fill(t->seed, (uint64_t)t->iterations,
                          (uint64_t)t->shard_index * (uint64_t)t->z->numel, t->z->data,
                          t->z->numel);
}

/* Mean score and the loss gradient for a batch judged as `target` (1 real,
 * 0 fake) by D, whose output is out; writes dL/dscore into t->score_grad
 * with `sign` for EM (+1 descends the score, -1 ascends it). */
static double score_grad(sgad_trainer *t, const sgad_tensor *out, int target, double sign,
                         double *loss)
{
    const int64_t n = out->numel;
    double mean = 0, l = 0;
    for (int64_t i = 0; i < n; i++) {
        const double p = out->data[i];
        mean += p / (double)n;
        if (t->loss == SGAD_LOSS_EM) {
            t->score_grad->data[i] = (float)(sign / (double)n);
            continue;
        }
        /* PyTorch's BCELoss: logs clamped at -100, gradient (p - y) / max(p(1-p), 1e-12). */
        l -= fmax(log(target ? p : 1.0 - p), -100.0) / (double)n;
        t->score_grad->data[i] = (float)((p - target) / fmax(p * (1.0 - p), 1e-12) / (double)n);
    }
    *loss = t->loss == SGAD_LOSS_EM ? sign * mean : l;
    return mean;
}

/* A parameter's squared gradient is summed in a fixed split into lanes,
 * each on one thread, then the lanes in order: the norm does not depend on
 * the thread count, and G's 6.6 million squares are not one thread's
 * single chain [bench:grad-norm-lanes]. */
#define NORM_LANES 8

SGAD__AVX2_CLONE
static double sum_of_squares(const sgad_ctx *ctx, const float *p, int64_t n)
{
    double lane[NORM_LANES];
#pragma omp parallel for num_threads(sgad__par_threads(ctx, n)) schedule(static)
    for (int l = 0; l < NORM_LANES; l++) {
        const int64_t i0 = n * l / NORM_LANES, i1 = n * (l + 1) / NORM_LANES;
        lane[l] = sgad__dot(p + i0, p + i0, i1 - i0);
    }
    double sum = 0;
    for (int l = 0; l < NORM_LANES; l++)
        sum += lane[l];
    return sum;
}

static double grad_norm(const sgad_trainer *t, sgad_net *net)
{
    double sum = 0;
    for (int i = 0; i < sgad_net_param_count(net); i++) {
        sgad_tensor *g = NULL;
        if (sgad_net_param(net, i, NULL, NULL, &g) != SGAD_OK || !g)
            continue;
        sum += sum_of_squares(t->ctx, g->data, g->numel);
    }
    return sqrt(sum);
}

static sgad_status call_hook(sgad_trainer *t, int which, sgad_net *net)
{
    if (!t->hook)
        return SGAD_OK;
    const sgad_status s = t->hook(t->hook_user, t, which, net);
    SGAD__CHECK(t->ctx, s == SGAD_OK, s,
                "sgad_trainer_step: the gradient hook of %s returned "
                "%s",
                which ? "D" : "G", sgad_status_name(s));
    return SGAD_OK;
}

/* One optimizer step at the caller's learning rate scaled by the schedule. */
static sgad_status scheduled_step(sgad_trainer *t, sgad_optimizer *opt, sgad_stat lr_stat)
{
    const double factor =
        sgad__schedule_factor(t->schedule, t->schedule_length, t->schedule_period, t->iterations);
    double lr;
    SGAD__TRY(sgad_optimizer_get(opt, SGAD_OPT_LR, &lr));
    t->stats[lr_stat] = lr * factor;
    return sgad__optimizer_step_at(opt, lr * factor);
}

/* WGAN's weight clipping: every trained parameter of D into [-c, c]. */
static void clip_weights(sgad_trainer *t)
{
    const float c = (float)t->clip;
    for (int i = 0; i < sgad_net_param_count(t->d); i++) {
        sgad_tensor *v = NULL, *g = NULL;
        if (sgad_net_param(t->d, i, NULL, &v, &g) != SGAD_OK || !g)
            continue; /* buffers are not clipped */
        float *w = v->data;
#pragma omp parallel for num_threads(sgad__par_threads(t->ctx, v->numel)) schedule(static)
        for (int64_t j = 0; j < v->numel; j++)
            w[j] = fminf(fmaxf(w[j], -c), c);
    }
}

static sgad_status update_d(sgad_trainer *t)
{
    double loss_real, loss_fake;
    sgad_net_zero_grad(t->d);
    SGAD__TRY(sgad_net_forward(t->d, t->real_seq, NULL));
    record_rates(t->d, t->rates[1], 0.5, 1);
    t->stats[SGAD_STAT_D_REAL] = score_grad(t, sgad_net_output(t->d), 1, 1.0, &loss_real);
    SGAD__TRY(sgad_net_backward(t->d, t->score_grad, NULL));
    SGAD__TRY(sgad_net_forward(t->g, t->z, t->fake));
    record_rates(t->g, t->rates[0], 1.0, 1);
    SGAD__TRY(sgad_net_forward(t->d, t->fake, NULL));
    record_rates(t->d, t->rates[1], 0.5, 0);
    t->stats[SGAD_STAT_D_FAKE] = score_grad(t, sgad_net_output(t->d), 0, -1.0, &loss_fake);
    SGAD__TRY(sgad_net_backward(t->d, t->score_grad, NULL));
    t->stats[SGAD_STAT_LOSS_D] = loss_real + loss_fake;
    t->stats[SGAD_STAT_WASSERSTEIN] = t->stats[SGAD_STAT_D_FAKE] - t->stats[SGAD_STAT_D_REAL];
    SGAD__TRY(call_hook(t, 1, t->d));
    t->stats[SGAD_STAT_GRAD_NORM_D] = grad_norm(t, t->d);
    SGAD__TRY(scheduled_step(t, t->opt_d, SGAD_STAT_LR_D));
    if (t->clip > 0)
        clip_weights(t);
    return SGAD_OK;
}

static sgad_status update_g(sgad_trainer *t)
{
    double loss;
    sgad_net_zero_grad(t->g);
    /* The authors run G again on the same z here. G's parameters have not
     * changed since update_d ran it, so its activations and t->fake are
     * what that run would give; only its batch norms' running statistics
     * would move again, and the replay moves them the same way. */
    SGAD__TRY(sgad__net_replay_forward(t->g));
    SGAD__TRY(sgad_net_forward(t->d, t->fake, NULL));
    score_grad(t, sgad_net_output(t->d), 1, 1.0, &loss);
    t->stats[SGAD_STAT_LOSS_G] = loss;
    /* only the gradient reaching G counts: D's own are not computed */
    SGAD__TRY(sgad__net_backward_input(t->d, t->score_grad, t->dfake));
    SGAD__TRY(sgad_net_backward(t->g, t->dfake, NULL));
    SGAD__TRY(call_hook(t, 0, t->g));
    t->stats[SGAD_STAT_GRAD_NORM_G] = grad_norm(t, t->g);
    return scheduled_step(t, t->opt_g, SGAD_STAT_LR_G);
}

static sgad_status load_batch(sgad_trainer *t, const sgad_tensor *real, const sgad_tensor *z)
{
    SGAD__TRY(prepare(t, real));
    if (z) {
        SGAD__CHECK(t->ctx, z->numel == t->z->numel, SGAD_E_SHAPE,
                    "sgad_trainer_step: z must be [1, %lld, %d]", (long long)t->z->dims[1],
                    t->latent);
        memcpy(t->z->data, z->data, (size_t)z->numel * sizeof(float));
    } else {
        draw_latents(t);
    }
    const int64_t per_step = real->numel;
    for (int64_t s = 0; s < t->real_seq->dims[0]; s++)
        memcpy(t->real_seq->data + s * per_step, real->data, (size_t)per_step * sizeof(float));
    return SGAD_OK;
}

sgad_status sgad_trainer_step(sgad_trainer *t, const sgad_tensor *real, const sgad_tensor *z)
{
    if (!t)
        return SGAD_E_INVALID_ARG;
    SGAD__TRY(load_batch(t, real, z));
    const int update_gen = (t->iterations + 1) % t->n_critic == 0;
    const int64_t steps_g = sgad_optimizer_steps(t->opt_g);
    const int64_t steps_d = sgad_optimizer_steps(t->opt_d);
    double stats[SGAD_STAT_LR_G + 1];
    memcpy(stats, t->stats, sizeof stats);
    sgad__copies_save(&t->snapshot);
    sgad_status s = update_d(t);
    if (s == SGAD_OK && update_gen)
        s = update_g(t);
    if (s != SGAD_OK) {
        sgad__copies_restore(&t->snapshot);
        sgad__optimizer_set_steps(t->opt_g, steps_g);
        sgad__optimizer_set_steps(t->opt_d, steps_d);
        memcpy(t->stats, stats, sizeof stats);
        return s;
    }
    if (update_gen && t->ema.count)
        sgad__copies_average(&t->ema, t->ema_decay);
    t->stats[SGAD_STAT_G_UPDATED] = update_gen;
    t->iterations++;
    return SGAD_OK;
}
