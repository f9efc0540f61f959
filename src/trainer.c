/* The GAN trainer (trainer.h): one D update, then one G update on the
 * same z, all or nothing. Before an iteration every tensor it may change
 * (parameters, batch-norm buffers, optimizer state) is copied aside, and
 * copied back if a gradient turns out not finite. */
#include <math.h>
#include <string.h>

#include "internal.h"
#include "rng.h"

typedef struct saved {
    sgad_tensor *tensor; /* borrowed */
    float *copy;
} saved;

struct sgad_trainer {
    sgad_ctx *ctx;
    sgad_net *g, *d;
    sgad_optimizer *opt_g, *opt_d;
    int latent;
    sgad_loss loss;
    uint64_t seed;
    int64_t iterations;
    double stats[SGAD_STAT_GRAD_NORM_G + 1];
    int nsaved;
    saved *saved;
    /* Work tensors, remade when the batch shape changes. */
    sgad_tensor *z, *real_seq, *fake, *dfake, *score_grad;
};

/* ---- snapshot ------------------------------------------------------------ */

static sgad_status add_saved(sgad_trainer *t, sgad_tensor *v)
{
    saved *s = &t->saved[t->nsaved];
    s->tensor = v;
    s->copy = sgad__alloc(t->ctx, (size_t)v->numel * sizeof(float));
    if (!s->copy)
        return SGAD_E_NOMEM;
    t->nsaved++;
    return SGAD_OK;
}

static sgad_status collect_saved(sgad_trainer *t)
{
    sgad_net *nets[2] = {t->g, t->d};
    sgad_optimizer *opts[2] = {t->opt_g, t->opt_d};
    int total = 0;
    for (int k = 0; k < 2; k++)
        total += sgad_net_param_count(nets[k]) + sgad_optimizer_state_count(opts[k]);
    t->saved = sgad__calloc(t->ctx, (size_t)total, sizeof *t->saved);
    if (!t->saved)
        return SGAD_E_NOMEM;
    for (int k = 0; k < 2; k++) {
        for (int i = 0; i < sgad_net_param_count(nets[k]); i++) {
            sgad_tensor *v;
            SGAD__TRY(sgad_net_param(nets[k], i, NULL, &v, NULL));
            SGAD__TRY(add_saved(t, v));
        }
        for (int i = 0; i < sgad_optimizer_state_count(opts[k]); i++) {
            sgad_tensor *v;
            SGAD__TRY(sgad_optimizer_state(opts[k], i, NULL, &v));
            SGAD__TRY(add_saved(t, v));
        }
    }
    return SGAD_OK;
}

static void snapshot(sgad_trainer *t)
{
    for (int i = 0; i < t->nsaved; i++)
        memcpy(t->saved[i].copy, t->saved[i].tensor->data,
               (size_t)t->saved[i].tensor->numel * sizeof(float));
}

static void restore(sgad_trainer *t, int64_t steps_g, int64_t steps_d)
{
    for (int i = 0; i < t->nsaved; i++)
        memcpy(t->saved[i].tensor->data, t->saved[i].copy,
               (size_t)t->saved[i].tensor->numel * sizeof(float));
    sgad__optimizer_set_steps(t->opt_g, steps_g);
    sgad__optimizer_set_steps(t->opt_d, steps_d);
}

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
    for (int i = 0; i < t->nsaved; i++)
        sgad__free(t->ctx, t->saved[i].copy);
    sgad__free(t->ctx, t->saved);
    sgad_optimizer_free(t->opt_g);
    sgad_optimizer_free(t->opt_d);
    sgad__free(t->ctx, t);
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
    sgad_status s = sgad_optimizer_create(ctx, optimizer, generator, &t->opt_g);
    if (s == SGAD_OK)
        s = sgad_optimizer_create(ctx, optimizer, discriminator, &t->opt_d);
    if (s == SGAD_OK)
        s = collect_saved(t);
    if (s != SGAD_OK) {
        sgad_trainer_free(t);
        return s;
    }
    *out = t;
    return SGAD_OK;
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

int64_t sgad_trainer_iterations(const sgad_trainer *t)
{
    return t ? t->iterations : 0;
}

sgad_status sgad_trainer_stat(const sgad_trainer *t, sgad_stat stat, double *value)
{
    if (!t)
        return SGAD_E_INVALID_ARG;
    SGAD__CHECK(t->ctx, value != NULL, SGAD_E_INVALID_ARG, "sgad_trainer_stat: value is NULL");
    SGAD__CHECK(t->ctx, stat >= SGAD_STAT_D_REAL && stat <= SGAD_STAT_GRAD_NORM_G,
                SGAD_E_INVALID_ARG, "sgad_trainer_stat: unknown figure %d", (int)stat);
    SGAD__CHECK(t->ctx, t->iterations > 0, SGAD_E_STATE,
                "sgad_trainer_stat: no iteration has completed");
    *value = t->stats[stat];
    return SGAD_OK;
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
    SGAD__CHECK(t->ctx, nd == 5 && od[2] == real->dims[1] && od[3] == real->dims[2] &&
                            od[4] == real->dims[3],
                SGAD_E_SHAPE, "%s: the generator makes [%lld, %lld, %lld] images, the real "
                "batch is [%lld, %lld, %lld]", fn, (long long)od[2], (long long)od[3],
                (long long)od[4], (long long)real->dims[1], (long long)real->dims[2],
                (long long)real->dims[3]);
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

/* Standard normal latents by Box-Muller from the counter-based generator. */
static void draw_latents(sgad_trainer *t)
{
    for (int64_t i = 0; i < t->z->numel; i++) {
        const uint64_t stream = (uint64_t)t->iterations;
        const double u1 =
            ((double)(sgad__rng_u64(t->seed, stream, 2 * (uint64_t)i) >> 11) + 1.0) * 0x1p-53;
        const double u2 = (double)(sgad__rng_u64(t->seed, stream, 2 * (uint64_t)i + 1) >> 11) *
                          0x1p-53;
        t->z->data[i] = (float)(sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2));
    }
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

static double grad_norm(sgad_net *net)
{
    double sum = 0;
    for (int i = 0; i < sgad_net_param_count(net); i++) {
        sgad_tensor *g = NULL;
        if (sgad_net_param(net, i, NULL, NULL, &g) != SGAD_OK || !g)
            continue;
        for (int64_t j = 0; j < g->numel; j++)
            sum += (double)g->data[j] * g->data[j];
    }
    return sqrt(sum);
}

static sgad_status update_d(sgad_trainer *t)
{
    double loss_real, loss_fake;
    sgad_net_zero_grad(t->d);
    SGAD__TRY(sgad_net_forward(t->d, t->real_seq, NULL));
    t->stats[SGAD_STAT_D_REAL] = score_grad(t, sgad_net_output(t->d), 1, 1.0, &loss_real);
    SGAD__TRY(sgad_net_backward(t->d, t->score_grad, NULL));
    SGAD__TRY(sgad_net_forward(t->g, t->z, t->fake));
    SGAD__TRY(sgad_net_forward(t->d, t->fake, NULL));
    t->stats[SGAD_STAT_D_FAKE] = score_grad(t, sgad_net_output(t->d), 0, -1.0, &loss_fake);
    SGAD__TRY(sgad_net_backward(t->d, t->score_grad, NULL));
    t->stats[SGAD_STAT_LOSS_D] = loss_real + loss_fake;
    t->stats[SGAD_STAT_WASSERSTEIN] = t->stats[SGAD_STAT_D_FAKE] - t->stats[SGAD_STAT_D_REAL];
    t->stats[SGAD_STAT_GRAD_NORM_D] = grad_norm(t->d);
    return sgad_optimizer_step(t->opt_d);
}

static sgad_status update_g(sgad_trainer *t)
{
    double loss;
    sgad_net_zero_grad(t->g);
    SGAD__TRY(sgad_net_forward(t->g, t->z, t->fake));
    SGAD__TRY(sgad_net_forward(t->d, t->fake, NULL));
    score_grad(t, sgad_net_output(t->d), 1, 1.0, &loss);
    t->stats[SGAD_STAT_LOSS_G] = loss;
    SGAD__TRY(sgad_net_backward(t->d, t->score_grad, t->dfake));
    SGAD__TRY(sgad_net_backward(t->g, t->dfake, NULL));
    t->stats[SGAD_STAT_GRAD_NORM_G] = grad_norm(t->g);
    return sgad_optimizer_step(t->opt_g);
}

sgad_status sgad_trainer_step(sgad_trainer *t, const sgad_tensor *real, const sgad_tensor *z)
{
    if (!t)
        return SGAD_E_INVALID_ARG;
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
    const int64_t steps_g = sgad_optimizer_steps(t->opt_g);
    const int64_t steps_d = sgad_optimizer_steps(t->opt_d);
    snapshot(t);
    sgad_status s = update_d(t);
    if (s == SGAD_OK)
        s = update_g(t);
    if (s != SGAD_OK) {
        restore(t, steps_g, steps_d);
        return s;
    }
    t->iterations++;
    return SGAD_OK;
}

sgad_status sgad_trainer_sample(sgad_trainer *t, const sgad_tensor *z, sgad_tensor *images)
{
    if (!t)
        return SGAD_E_INVALID_ARG;
    SGAD__CHECK(t->ctx, z && images, SGAD_E_INVALID_ARG, "sgad_trainer_sample: z or images "
                "is NULL");
    SGAD__TRY(sgad_net_set_training(t->g, 0));
    const sgad_status s = sgad_net_forward(t->g, z, images);
    sgad_net_set_training(t->g, 1);
    return s;
}
