/* SPDX-License-Identifier: MIT */
/* The feature classifier: its net, evaluation and accuracy (classifier.h).
 * The architecture is deliberately small: three 3x3 convolutions trained
 * from scratch reach ~90% on Fashion-MNIST in a couple of epochs on one
 * core, and a 64-feature summary keeps the Fréchet distance's covariance
 * well estimated from a few thousand images. */
#include <string.h>

#include "classifier_impl.h"

/* Hands a new layer to the net; frees it if the net cannot take it. */
static sgad_status adopt(sgad_net *net, sgad_layer *layer)
{
    const sgad_status st = sgad_net_adopt(net, layer);
    if (st != SGAD_OK)
        sgad_layer_free(layer);
    return st;
}

/* conv 3x3 (no bias: batch norm follows) - batch norm - leaky ReLU 0.2 -
 * average pool of pool x pool. */
static sgad_status add_block(sgad_ctx *ctx, sgad_net *net, int64_t in, int64_t out, int pool)
{
    sgad_layer *l = NULL;
    SGAD__TRY(sgad_conv2d_create(ctx, in, out, 3, 1, 1, 0, &l));
    SGAD__TRY(adopt(net, l));
    SGAD__TRY(sgad_batchnorm2d_create(ctx, out, &l));
    SGAD__TRY(adopt(net, l));
    SGAD__TRY(sgad_leaky_relu_create(ctx, 0.2, &l));
    SGAD__TRY(adopt(net, l));
    SGAD__TRY(sgad_avgpool2d_create(ctx, pool, pool, 0, &l));
    return adopt(net, l);
}

static sgad_status build(sgad_classifier *c)
{
    sgad_ctx *ctx = c->ctx;
    sgad_layer *l = NULL;
    SGAD__TRY(sgad_net_create(ctx, &c->net));
    SGAD__TRY(add_block(ctx, c->net, c->channels, 16, 2));
    SGAD__TRY(add_block(ctx, c->net, 16, 32, 2));
    SGAD__TRY(add_block(ctx, c->net, 32, SGAD__CLS_FEATURES, (int)(c->size / 4)));
    const int64_t flat[1] = {SGAD__CLS_FEATURES};
    SGAD__TRY(sgad_reshape_create(ctx, 1, flat, &l));
    SGAD__TRY(adopt(c->net, l));
    SGAD__TRY(sgad_linear_create(ctx, SGAD__CLS_FEATURES, c->classes, 1, &l));
    SGAD__TRY(adopt(c->net, l));
    SGAD__TRY(sgad_optimizer_create(ctx, SGAD_OPTIMIZER_ADAM, c->net, &c->opt));
    return sgad_optimizer_set(c->opt, SGAD_OPT_LR, 1e-3);
}

sgad_status sgad_classifier_create(sgad_ctx *ctx, int64_t channels, int64_t size, int classes,
                                   sgad_classifier **out)
{
    static const char fn[] = "sgad_classifier_create";
    if (!ctx)
        return SGAD_E_INVALID_ARG;
    SGAD__CHECK(ctx, out, SGAD_E_INVALID_ARG, "%s: out is NULL", fn);
    *out = NULL;
    SGAD__CHECK(ctx, channels == 1 || channels == 3, SGAD_E_INVALID_ARG,
                "%s: channels=%lld; the classifier takes 1 (grey) or 3 (RGB)", fn,
                (long long)channels);
    SGAD__CHECK(ctx, size >= 8 && size <= 256 && size % 4 == 0, SGAD_E_INVALID_ARG,
                "%s: size=%lld; square images of a multiple of 4 in [8, 256] (two 2x2 pools)", fn,
                (long long)size);
    SGAD__CHECK(ctx, classes >= 2 && classes <= 1000, SGAD_E_INVALID_ARG,
                "%s: classes=%d outside [2, 1000]", fn, classes);
    sgad_classifier *c = sgad__calloc(ctx, 1, sizeof *c);
    if (!c)
        return SGAD_E_NOMEM;
    c->ctx = ctx;
    c->channels = channels;
    c->size = size;
    c->classes = classes;
    const sgad_status st = build(c);
    if (st != SGAD_OK) {
        sgad_classifier_free(c);
        return st;
    }
    *out = c;
    return SGAD_OK;
}

void sgad_classifier_free(sgad_classifier *c)
{
    if (!c)
        return;
    sgad_optimizer_free(c->opt);
    sgad_net_free(c->net);
    sgad__free(c->ctx, c->dlogits);
    sgad__free(c->ctx, c);
}

int64_t sgad_classifier_feature_dim(const sgad_classifier *c)
{
    return c ? SGAD__CLS_FEATURES : 0;
}

int sgad_classifier_classes(const sgad_classifier *c)
{
    return c ? c->classes : 0;
}

sgad_status sgad_classifier_image_dims(const sgad_classifier *c, int64_t *channels, int64_t *height,
                                       int64_t *width)
{
    if (!c)
        return SGAD_E_INVALID_ARG;
    if (channels)
        *channels = c->channels;
    if (height)
        *height = c->size;
    if (width)
        *width = c->size;
    return SGAD_OK;
}

sgad_optimizer *sgad_classifier_optimizer(sgad_classifier *c)
{
    return c ? c->opt : NULL;
}

sgad_status sgad__classifier_images(sgad_classifier *c, const char *fn, const sgad_tensor *images,
                                    sgad_tensor **view, int64_t *batch)
{
    SGAD__CHECK(c->ctx, images, SGAD_E_INVALID_ARG, "%s: images is NULL", fn);
    const int nd = images->ndim;
    const int64_t *d = images->dims;
    const int ok = (nd == 4 || (nd == 5 && d[0] == 1)) && d[nd - 3] == c->channels &&
                   d[nd - 2] == c->size && d[nd - 1] == c->size;
    char shape[SGAD__SHAPE_STR_LEN];
    sgad__shape s;
    sgad__shape_of(images, &s);
    SGAD__CHECK(c->ctx, ok, SGAD_E_SHAPE,
                "%s: images %s; the classifier takes [N, %lld, %lld, "
                "%lld] or [1, N, %lld, %lld, %lld]",
                fn, sgad__shape_str(&s, shape, sizeof shape), (long long)c->channels,
                (long long)c->size, (long long)c->size, (long long)c->channels, (long long)c->size,
                (long long)c->size);
    *batch = d[nd - 4];
    const int64_t dims[5] = {1, *batch, c->channels, c->size, c->size};
    return sgad_tensor_wrap(c->ctx, 5, dims, images->data, view);
}

sgad_status sgad__classifier_dataset(sgad_classifier *c, const char *fn, sgad_dataset *d,
                                     int64_t *count, int64_t batch)
{
    SGAD__CHECK(c->ctx, d, SGAD_E_INVALID_ARG, "%s: dataset is NULL", fn);
    int64_t ch, h, w;
    int label = -1;
    SGAD__TRY(sgad_dataset_image_dims(d, &ch, &h, &w));
    SGAD__CHECK(c->ctx, ch == c->channels && h == c->size && w == c->size, SGAD_E_INVALID_ARG,
                "%s: the dataset's images are %lldx%lldx%lld, the classifier's %lldx%lldx%lld", fn,
                (long long)h, (long long)w, (long long)ch, (long long)c->size, (long long)c->size,
                (long long)c->channels);
    const int64_t n = sgad_dataset_count(d);
    SGAD__TRY(sgad_dataset_label(d, 0, &label));
    SGAD__CHECK(c->ctx, label >= 0, SGAD_E_INVALID_ARG,
                "%s: the dataset has no labels (give "
                "an IDX label file)",
                fn);
    SGAD__CHECK(c->ctx, *count >= 0 && *count <= n, SGAD_E_INVALID_ARG,
                "%s: count=%lld outside [0, %lld] (0: all)", fn, (long long)*count, (long long)n);
    SGAD__CHECK(c->ctx, batch >= 1 && batch <= 65536, SGAD_E_INVALID_ARG,
                "%s: batch=%lld outside [1, 65536]", fn, (long long)batch);
    if (*count == 0)
        *count = n;
    return SGAD_OK;
}

int sgad__argmax(const float *v, int n)
{
    int best = 0;
    for (int k = 1; k < n; k++)
        if (v[k] > v[best])
            best = k;
    return best;
}

static sgad_status run_view(sgad_classifier *c, sgad_tensor *x, int64_t b, sgad_tensor *features,
                            int *labels)
{
    static const char fn[] = "sgad_classifier_run";
    SGAD__CHECK(c->ctx, !features || sgad_tensor_numel(features) == b * SGAD__CLS_FEATURES,
                SGAD_E_SHAPE, "%s: features hold %lld values; %lld images need %lld x %d", fn,
                (long long)sgad_tensor_numel(features), (long long)b, (long long)b,
                SGAD__CLS_FEATURES);
    SGAD__TRY(sgad_net_set_training(c->net, 0));
    SGAD__TRY(sgad_net_forward(c->net, x, NULL));
    if (features)
        SGAD__TRY(sgad_net_activation(c->net, SGAD__CLS_FEATURE_LAYER, features));
    const float *logits = sgad_tensor_data(sgad_net_output(c->net));
    for (int64_t i = 0; labels && i < b; i++)
        labels[i] = sgad__argmax(logits + i * c->classes, c->classes);
    return SGAD_OK;
}

sgad_status sgad_classifier_run(sgad_classifier *c, const sgad_tensor *images,
                                sgad_tensor *features, int *labels)
{
    if (!c)
        return SGAD_E_INVALID_ARG;
    sgad_tensor *x;
    int64_t b;
    SGAD__TRY(sgad__classifier_images(c, "sgad_classifier_run", images, &x, &b));
    const sgad_status st = run_view(c, x, b, features, labels);
    sgad_tensor_free(x);
    return st;
}

/* Counts right labels among images first .. first+b-1 of d. */
static sgad_status count_right(sgad_classifier *c, sgad_dataset *d, int64_t first, sgad_tensor *x,
                               int *labels, int64_t *right)
{
    SGAD__TRY(sgad_dataset_read(d, first, x));
    SGAD__TRY(sgad_classifier_run(c, x, NULL, labels));
    for (int64_t i = 0; i < sgad_tensor_dim(x, 0); i++) {
        int truth;
        SGAD__TRY(sgad_dataset_label(d, first + i, &truth));
        *right += labels[i] == truth;
    }
    return SGAD_OK;
}

sgad_status sgad_classifier_accuracy(sgad_classifier *c, sgad_dataset *d, int64_t count,
                                     int64_t batch, double *accuracy)
{
    static const char fn[] = "sgad_classifier_accuracy";
    if (!c)
        return SGAD_E_INVALID_ARG;
    SGAD__CHECK(c->ctx, accuracy, SGAD_E_INVALID_ARG, "%s: accuracy is NULL", fn);
    SGAD__TRY(sgad__classifier_dataset(c, fn, d, &count, batch));
    int *labels = sgad__alloc(c->ctx, (size_t)batch * sizeof *labels);
    if (!labels)
        return SGAD_E_NOMEM;
    int64_t right = 0;
    sgad_status st = SGAD_OK;
    for (int64_t first = 0; st == SGAD_OK && first < count; first += batch) {
        const int64_t b = count - first < batch ? count - first : batch;
        const int64_t dims[4] = {b, c->channels, c->size, c->size};
        sgad_tensor *x = NULL;
        st = sgad_tensor_create(c->ctx, 4, dims, &x);
        if (st == SGAD_OK)
            st = count_right(c, d, first, x, labels, &right);
        sgad_tensor_free(x);
    }
    sgad__free(c->ctx, labels);
    if (st == SGAD_OK)
        *accuracy = (double)right / (double)count;
    return st;
}
