/* SPDX-License-Identifier: MIT */
/* The trainer's state as named tensors and metadata (checkpoint.h), and
 * restoring it: every name, shape, value and setting is checked before the
 * first byte of the trainer changes. The mapping from trainer to contents
 * is this file's alone; the file format below it (io/checkpoint_impl.h)
 * knows tensors and metadata only. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/checkpoint_impl.h"
#include "trainer_impl.h"

static const char *const loss_names[] = {"em", "minimax"};
static const char *const optimizer_names[] = {"rmsprop", "adam"};
static const char *const schedule_names[] = {"constant", "cosine", "paper"};
static const char *const shape_names[] = {"28x28x1", "32x32x3", "64x64x3"};

/* Optimizer settings in the order they are saved. */
static const sgad_option optimizer_options[] = {SGAD_OPT_LR,         SGAD_OPT_RMSPROP_ALPHA,
                                                SGAD_OPT_EPS,        SGAD_OPT_ADAM_BETA1,
                                                SGAD_OPT_ADAM_BETA2, SGAD_OPT_WEIGHT_DECAY};
static const char *const optimizer_keys[] = {"lr",    "alpha", "eps",
                                             "beta1", "beta2", "weight_decay"};
#define N_OPT_KEYS 6

/* ---- collecting --------------------------------------------------------- */

static sgad_status add_net(sgad_ctx *ctx, sgad__ckpt_contents *s, const char *prefix, sgad_net *net)
{
    for (int i = 0; i < sgad_net_param_count(net); i++) {
        const char *name;
        sgad_tensor *v;
        SGAD__TRY(sgad_net_param(net, i, &name, &v, NULL));
        SGAD__TRY(sgad__ckpt_contents_add(ctx, s, prefix, name, v));
    }
    return SGAD_OK;
}

static sgad_status add_optimizer(sgad_ctx *ctx, sgad__ckpt_contents *s, const char *prefix,
                                 sgad_optimizer *o)
{
    for (int i = 0; i < sgad_optimizer_state_count(o); i++) {
        const char *name;
        sgad_tensor *v;
        SGAD__TRY(sgad_optimizer_state(o, i, &name, &v));
        SGAD__TRY(sgad__ckpt_contents_add(ctx, s, prefix, name, v));
    }
    return SGAD_OK;
}

/* The moving average lives in plain arrays: wrap each in a tensor view. */
static sgad_status add_ema(sgad_ctx *ctx, sgad__ckpt_contents *s, sgad_trainer *t,
                           const sgad__copies *ema)
{
    for (int i = 0; i < ema->count; i++) {
        const char *name;
        SGAD__TRY(sgad_net_param(t->g, i, &name, NULL, NULL));
        const sgad_tensor *like = ema->tensors[i];
        sgad_tensor *view;
        SGAD__TRY(sgad_tensor_wrap(ctx, like->ndim, like->dims, ema->copies[i], &view));
        SGAD__TRY(sgad__ckpt_contents_adopt(ctx, s, "ema.G.", name, view));
    }
    return SGAD_OK;
}

static void optimizer_meta(sgad__ckpt_contents *s, const char *which, const sgad_optimizer *o)
{
    char key[48];
    for (int k = 0; k < N_OPT_KEYS; k++) {
        double v = 0;
        sgad_optimizer_get(o, optimizer_options[k], &v);
        snprintf(key, sizeof key, "optimizer_%s.%s", which, optimizer_keys[k]);
        sgad__ckpt_meta(s, key, "%.17g", v);
    }
    snprintf(key, sizeof key, "optimizer_%s.steps", which);
    sgad__ckpt_meta(s, key, "%lld", (long long)sgad_optimizer_steps(o));
}

static void collect_meta(sgad_trainer *t, sgad__ckpt_contents *s)
{
    sgad__ckpt_meta_start(s, NULL);
    sgad__ckpt_meta(s, "model", "%s", t->owns_nets ? sgad_model_name(t->model) : "custom");
    sgad__ckpt_meta(s, "image_shape", "%s",
                    t->owns_nets ? sgad_image_shape_name(t->shape) : "custom");
    sgad__ckpt_meta(s, "steps", "%d", t->owns_nets ? t->steps : 0);
    sgad__ckpt_meta(s, "latent", "%d", t->latent);
    sgad__ckpt_meta(s, "loss", "%s", loss_names[t->loss]);
    sgad__ckpt_meta(s, "optimizer", "%s", optimizer_names[sgad_optimizer_get_kind(t->opt_g)]);
    sgad__ckpt_meta(s, "seed", "%llu", (unsigned long long)t->seed);
    sgad__ckpt_meta(s, "iteration", "%lld", (long long)t->iterations);
    sgad__ckpt_meta(s, "epoch", "%lld", (long long)t->epoch);
    sgad__ckpt_meta(s, "n_critic", "%d", t->n_critic);
    sgad__ckpt_meta(s, "clip", "%.17g", t->clip);
    sgad__ckpt_meta(s, "ema_decay", "%.17g", t->ema_decay);
    sgad__ckpt_meta(s, "schedule", "%s", schedule_names[t->schedule]);
    sgad__ckpt_meta(s, "schedule_length", "%lld", (long long)t->schedule_length);
    sgad__ckpt_meta(s, "schedule_period", "%lld", (long long)t->schedule_period);
    optimizer_meta(s, "g", t->opt_g);
    optimizer_meta(s, "d", t->opt_d);
}

/* The trainer's state; ema: G's moving average to list as ema.G.* (count
 * 0 for none). */
static sgad_status collect_state(sgad_trainer *t, const sgad__copies *ema, sgad__ckpt_contents *s)
{
    const int cap = 2 * sgad_net_param_count(t->g) + sgad_net_param_count(t->d) +
                    sgad_optimizer_state_count(t->opt_g) + sgad_optimizer_state_count(t->opt_d);
    SGAD__TRY(sgad__ckpt_contents_init(t->ctx, s, cap));
    sgad_status st = add_net(t->ctx, s, "G.", t->g);
    if (st == SGAD_OK)
        st = add_optimizer(t->ctx, s, "opt.G.", t->opt_g);
    if (st == SGAD_OK)
        st = add_net(t->ctx, s, "D.", t->d);
    if (st == SGAD_OK)
        st = add_optimizer(t->ctx, s, "opt.D.", t->opt_d);
    if (st == SGAD_OK)
        st = add_ema(t->ctx, s, t, ema); /* last: owned views follow borrowed tensors */
    if (st != SGAD_OK) {
        sgad__ckpt_contents_free(t->ctx, s);
        return st;
    }
    collect_meta(t, s);
    return SGAD_OK;
}

/* ---- saving ------------------------------------------------------------- */

static sgad_status collect_checked(sgad_trainer *t, sgad__ckpt_contents *s)
{
    SGAD__TRY(collect_state(t, &t->ema, s));
    const sgad_status st = sgad__ckpt_contents_check_finite(t->ctx, "sgad_checkpoint_save", s);
    if (st != SGAD_OK)
        sgad__ckpt_contents_free(t->ctx, s);
    return st;
}

sgad_status sgad_checkpoint_save(sgad_trainer *t, const char *path)
{
    if (!t)
        return SGAD_E_INVALID_ARG;
    SGAD__CHECK(t->ctx, path && *path, SGAD_E_INVALID_ARG, "sgad_checkpoint_save: no path");
    sgad__ckpt_contents s;
    SGAD__TRY(collect_checked(t, &s));
    const sgad_status st = sgad__atomic_save(t->ctx, path, &s);
    sgad__ckpt_contents_free(t->ctx, &s);
    return st;
}

sgad_status sgad_checkpoint_save_memory(sgad_trainer *t, void *buf, size_t cap, size_t *size)
{
    static const char fn[] = "sgad_checkpoint_save_memory";
    if (!t)
        return SGAD_E_INVALID_ARG;
    SGAD__CHECK(t->ctx, size != NULL, SGAD_E_INVALID_ARG, "%s: size is NULL", fn);
    sgad__ckpt_contents s;
    SGAD__TRY(collect_checked(t, &s));
    sgad_status st = sgad__checkpoint_size(t->ctx, &s, size);
    if (st == SGAD_OK && (!buf || cap < *size))
        st = sgad__fail(t->ctx, SGAD_E_SHAPE,
                        "%s: the checkpoint needs %zu bytes, the buffer "
                        "has %zu",
                        fn, *size, buf ? cap : 0);
    if (st == SGAD_OK) {
        sgad__sink sink = {t->ctx, -1, buf, cap, 0};
        st = sgad__checkpoint_emit(t->ctx, &s, &sink);
    }
    sgad__ckpt_contents_free(t->ctx, &s);
    return st;
}

/* ---- reading the metadata ------------------------------------------------ */

static const char *need(const sgad_checkpoint *c, const char *fn, const char *key)
{
    const char *v = sgad_checkpoint_meta(c, key);
    if (!v)
        sgad__fail(c->ctx, SGAD_E_FORMAT, "%s: the metadata has no %s", fn, key);
    return v;
}

static sgad_status meta_int(const sgad_checkpoint *c, const char *fn, const char *key, long long lo,
                            long long hi, long long *out)
{
    const char *v = need(c, fn, key);
    if (!v)
        return SGAD_E_FORMAT;
    SGAD__CHECK(c->ctx, sgad__ckpt_parse_whole(v, lo, hi, out), SGAD_E_FORMAT,
                "%s: metadata %s = \"%.32s\" is not a whole number in [%lld, %lld]", fn, key, v, lo,
                hi);
    return SGAD_OK;
}

static sgad_status meta_double(const sgad_checkpoint *c, const char *fn, const char *key,
                               double *out)
{
    const char *v = need(c, fn, key);
    if (!v)
        return SGAD_E_FORMAT;
    SGAD__CHECK(c->ctx, sgad__ckpt_parse_finite(v, out), SGAD_E_FORMAT,
                "%s: metadata %s = \"%.32s\" is not a finite number", fn, key, v);
    return SGAD_OK;
}

static sgad_status meta_enum(const sgad_checkpoint *c, const char *fn, const char *key,
                             const char *const *names, int count, int *out)
{
    const char *v = need(c, fn, key);
    if (!v)
        return SGAD_E_FORMAT;
    for (int i = 0; i < count; i++)
        if (strcmp(v, names[i]) == 0) {
            *out = i;
            return SGAD_OK;
        }
    return sgad__fail(c->ctx, SGAD_E_FORMAT, "%s: metadata %s = \"%.32s\" is not known", fn, key,
                      v);
}

/* Everything restore sets besides tensors, parsed and checked. */
typedef struct settings {
    long long latent, iteration, epoch, n_critic, schedule_length, schedule_period;
    long long steps_g, steps_d;
    int loss, optimizer, schedule;
    unsigned long long seed;
    double clip, ema_decay, opt[2][N_OPT_KEYS];
} settings;

static sgad_status read_optimizer(const sgad_checkpoint *c, const char *fn, const char *which,
                                  double *opt, long long *steps)
{
    char key[48];
    for (int k = 0; k < N_OPT_KEYS; k++) {
        snprintf(key, sizeof key, "optimizer_%s.%s", which, optimizer_keys[k]);
        SGAD__TRY(meta_double(c, fn, key, &opt[k]));
        SGAD__TRY(sgad__option_check(c->ctx, fn, "checkpoint", optimizer_options[k], opt[k]));
    }
    snprintf(key, sizeof key, "optimizer_%s.steps", which);
    return meta_int(c, fn, key, 0, INT64_MAX / 2, steps);
}

static sgad_status read_settings(const sgad_checkpoint *c, const char *fn, settings *st)
{
    const long long big = INT64_MAX / 2;
    SGAD__TRY(meta_int(c, fn, "latent", 1, 4096, &st->latent));
    SGAD__TRY(meta_int(c, fn, "iteration", 0, big, &st->iteration));
    SGAD__TRY(meta_int(c, fn, "epoch", 0, big, &st->epoch));
    SGAD__TRY(meta_int(c, fn, "n_critic", 1, 1000, &st->n_critic));
    SGAD__TRY(meta_int(c, fn, "schedule_length", 1, (long long)1e15, &st->schedule_length));
    SGAD__TRY(meta_int(c, fn, "schedule_period", 1, (long long)1e15, &st->schedule_period));
    SGAD__TRY(meta_enum(c, fn, "loss", loss_names, 2, &st->loss));
    SGAD__TRY(meta_enum(c, fn, "optimizer", optimizer_names, 2, &st->optimizer));
    SGAD__TRY(meta_enum(c, fn, "schedule", schedule_names, 3, &st->schedule));
    SGAD__TRY(meta_double(c, fn, "clip", &st->clip));
    SGAD__TRY(sgad__option_check(c->ctx, fn, "checkpoint", SGAD_OPT_CLIP, st->clip));
    SGAD__TRY(meta_double(c, fn, "ema_decay", &st->ema_decay));
    SGAD__TRY(sgad__option_check(c->ctx, fn, "checkpoint", SGAD_OPT_EMA_DECAY, st->ema_decay));
    const char *seed = need(c, fn, "seed");
    if (!seed)
        return SGAD_E_FORMAT;
    char *end;
    errno = 0;
    st->seed = strtoull(seed, &end, 10);
    SGAD__CHECK(c->ctx, *seed >= '0' && *seed <= '9' && !*end && errno == 0, SGAD_E_FORMAT,
                "%s: metadata seed = \"%.32s\" is not a 64-bit number", fn, seed);
    SGAD__TRY(read_optimizer(c, fn, "g", st->opt[0], &st->steps_g));
    return read_optimizer(c, fn, "d", st->opt[1], &st->steps_d);
}

/* The preset a checkpoint names, or -1 for caller-built nets. */
static sgad_status read_preset(const sgad_checkpoint *c, const char *fn, int *model, int *shape,
                               long long *steps)
{
    const char *m = need(c, fn, "model");
    if (!m)
        return SGAD_E_FORMAT;
    if (strcmp(m, "custom") == 0) {
        *model = *shape = -1;
        *steps = 0;
        return SGAD_OK;
    }
    sgad_model named;
    SGAD__CHECK(c->ctx, sgad_model_from_name(m, &named) == SGAD_OK, SGAD_E_FORMAT,
                "%s: metadata model = \"%.32s\" is not known", fn, m);
    *model = (int)named;
    SGAD__TRY(meta_enum(c, fn, "image_shape", shape_names, 3, shape));
    return meta_int(c, fn, "steps", 1, 1024, steps);
}

/* ---- checking tensors ------------------------------------------------------ */

static int ends_with(const char *s, const char *tail)
{
    const size_t n = strlen(s), m = strlen(tail);
    return n >= m && strcmp(s + n - m, tail) == 0;
}

/* The saved tensor for entry e must exist with e's shape and sane values. */
static sgad_status check_tensor(const sgad_checkpoint *c, const char *fn, const char *name,
                                const sgad_tensor *like)
{
    const sgad__ckpt_tensor *k = sgad__checkpoint_find(c, name);
    SGAD__CHECK(c->ctx, k != NULL, SGAD_E_SHAPE,
                "%s: the checkpoint has no %s: it is of a "
                "different model",
                fn, name);
    int same = k->ndim == like->ndim;
    for (int d = 0; same && d < k->ndim; d++)
        same = k->dims[d] == like->dims[d];
    SGAD__CHECK(c->ctx, same, SGAD_E_SHAPE,
                "%s: %s has another shape in the checkpoint than "
                "in this model",
                fn, name);
    const int nonneg = ends_with(name, ".running_var") || ends_with(name, ".square_avg") ||
                       ends_with(name, ".exp_avg_sq");
    for (uint64_t j = 0; j < (k->end - k->begin) / 4; j++) {
        float v;
        memcpy(&v, c->data + k->begin + 4 * j, 4);
        SGAD__CHECK(c->ctx, isfinite(v) && (!nonneg || v >= 0), SGAD_E_NUMERIC,
                    "%s: %s[%llu] = %g is %s", fn, name, (unsigned long long)j, (double)v,
                    isfinite(v) ? "negative" : "not finite");
    }
    return SGAD_OK;
}

static void copy_tensor(const sgad_checkpoint *c, const char *name, sgad_tensor *dst)
{
    const sgad__ckpt_tensor *k = sgad__checkpoint_find(c, name);
    memcpy(dst->data, c->data + k->begin, (size_t)(k->end - k->begin));
}

/* ---- restoring --------------------------------------------------------------- */

static sgad_status check_config(const sgad_checkpoint *c, const char *fn, sgad_trainer *t,
                                const settings *st)
{
    int model, shape;
    long long steps;
    SGAD__TRY(read_preset(c, fn, &model, &shape, &steps));
    if (t->owns_nets)
        SGAD__CHECK(c->ctx, model == (int)t->model && shape == (int)t->shape && steps == t->steps,
                    SGAD_E_SHAPE,
                    "%s: the checkpoint is of %s %s T=%s; the trainer is %s %s "
                    "T=%d",
                    fn, sgad_checkpoint_meta(c, "model"), sgad_checkpoint_meta(c, "image_shape"),
                    sgad_checkpoint_meta(c, "steps"), sgad_model_name(t->model),
                    sgad_image_shape_name(t->shape), t->steps);
    SGAD__CHECK(c->ctx,
                st->latent == t->latent && st->loss == (int)t->loss &&
                    st->optimizer == (int)sgad_optimizer_get_kind(t->opt_g),
                SGAD_E_SHAPE,
                "%s: the checkpoint has latent %lld, loss %s, optimizer %s; the "
                "trainer latent %d, loss %s, optimizer %s",
                fn, st->latent, loss_names[st->loss], optimizer_names[st->optimizer], t->latent,
                loss_names[t->loss], optimizer_names[sgad_optimizer_get_kind(t->opt_g)]);
    return SGAD_OK;
}

static sgad_status check_all(const sgad_checkpoint *c, const char *fn, const sgad__ckpt_contents *s)
{
    for (int i = 0; i < s->count; i++)
        SGAD__TRY(check_tensor(c, fn, s->entries[i].name, s->entries[i].tensor));
    /* every name found and none repeated, so equal counts leave no stranger */
    SGAD__CHECK(c->ctx, c->ntensors == s->count, SGAD_E_SHAPE,
                "%s: the checkpoint has %d tensors, this trainer %d: it is of a different model",
                fn, c->ntensors, s->count);
    return SGAD_OK;
}

static void apply_settings(sgad_trainer *t, const settings *st)
{
    sgad_optimizer *opts[2] = {t->opt_g, t->opt_d};
    for (int w = 0; w < 2; w++)
        for (int k = 0; k < N_OPT_KEYS; k++)
            sgad_optimizer_set(opts[w], optimizer_options[k], st->opt[w][k]);
    sgad__optimizer_set_steps(t->opt_g, st->steps_g);
    sgad__optimizer_set_steps(t->opt_d, st->steps_d);
    t->seed = st->seed;
    t->iterations = st->iteration;
    t->epoch = st->epoch;
    t->n_critic = (int)st->n_critic;
    t->clip = st->clip;
    t->ema_decay = st->ema_decay;
    t->schedule = (sgad_schedule)st->schedule;
    t->schedule_length = st->schedule_length;
    t->schedule_period = st->schedule_period;
}

sgad_status sgad_checkpoint_restore(const sgad_checkpoint *c, sgad_trainer *t)
{
    static const char fn[] = "sgad_checkpoint_restore";
    if (!c || !t)
        return SGAD_E_INVALID_ARG;
    settings st;
    SGAD__TRY(read_settings(c, fn, &st));
    SGAD__TRY(check_config(c, fn, t, &st));
    /* A saved moving average goes into fresh arrays, which replace the
     * trainer's only once everything has been checked and copied. */
    sgad__copies ema;
    memset(&ema, 0, sizeof ema);
    sgad_status rc = st.ema_decay > 0 ? sgad__copies_add_net(t->ctx, &ema, t->g, NULL) : SGAD_OK;
    sgad__ckpt_contents s;
    if (rc == SGAD_OK && (rc = collect_state(t, &ema, &s)) == SGAD_OK) {
        rc = check_all(c, fn, &s);
        if (rc == SGAD_OK)
            for (int i = 0; i < s.count; i++)
                copy_tensor(c, s.entries[i].name, s.entries[i].tensor);
        sgad__ckpt_contents_free(t->ctx, &s);
    }
    if (rc != SGAD_OK) {
        sgad__copies_free(t->ctx, &ema);
        return rc;
    }
    sgad__copies_free(t->ctx, &t->ema);
    t->ema = ema;
    apply_settings(t, &st);
    return SGAD_OK;
}

sgad_status sgad_checkpoint_restore_generator(const sgad_checkpoint *c, sgad_net *g, int use_ema)
{
    static const char fn[] = "sgad_checkpoint_restore_generator";
    if (!c || !g)
        return SGAD_E_INVALID_ARG;
    const char *prefix = use_ema ? "ema.G." : "G.";
    char name[SGAD_MAX_NAME + 32];
    for (int pass = 0; pass < 2; pass++) /* check all, then copy all */
        for (int i = 0; i < sgad_net_param_count(g); i++) {
            const char *pname;
            sgad_tensor *v;
            SGAD__TRY(sgad_net_param(g, i, &pname, &v, NULL));
            snprintf(name, sizeof name, "%s%s", prefix, pname);
            if (pass == 0)
                SGAD__TRY(check_tensor(c, fn, name, v));
            else
                copy_tensor(c, name, v);
        }
    return SGAD_OK;
}

sgad_status sgad_checkpoint_create_trainer(const sgad_checkpoint *c, sgad_ctx *ctx,
                                           sgad_trainer **out)
{
    static const char fn[] = "sgad_checkpoint_create_trainer";
    if (!c || !ctx)
        return SGAD_E_INVALID_ARG;
    SGAD__CHECK(ctx, out != NULL, SGAD_E_INVALID_ARG, "%s: out is NULL", fn);
    *out = NULL;
    int model, shape;
    long long steps;
    settings st;
    SGAD__TRY(read_preset(c, fn, &model, &shape, &steps));
    SGAD__CHECK(ctx, model >= 0, SGAD_E_UNSUPPORTED,
                "%s: the checkpoint is of nets its "
                "program built; build them the same way and call sgad_checkpoint_restore",
                fn);
    SGAD__TRY(read_settings(c, fn, &st));
    sgad_trainer *t;
    SGAD__TRY(sgad_trainer_create_preset(ctx, (sgad_model)model, (sgad_image_shape)shape,
                                         (int)steps, (int)st.latent, (sgad_loss)st.loss,
                                         (sgad_optimizer_kind)st.optimizer, &t));
    const sgad_status rc = sgad_checkpoint_restore(c, t);
    if (rc != SGAD_OK) {
        sgad_trainer_free(t);
        return rc;
    }
    *out = t;
    return SGAD_OK;
}
