/* SPDX-License-Identifier: MIT */
/* Saving and loading the feature classifier in the checkpoint format
 * (checkpoint.h): the same canonical writer, metadata writer, crash-safe
 * saving and validating reader as training checkpoints, with the
 * classifier's own tensor names and metadata. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "classifier_impl.h"
#include "io/checkpoint_impl.h"

#define KIND "classifier"

static sgad_status collect(sgad_classifier *c, const char *fn, sgad__ckpt_contents *s)
{
    const int n = sgad_net_param_count(c->net);
    SGAD__TRY(sgad__ckpt_contents_init(c->ctx, s, n));
    for (int i = 0; i < n; i++) {
        const char *name;
        sgad_tensor *v;
        SGAD__TRY(sgad_net_param(c->net, i, &name, &v, NULL));
        SGAD__TRY(sgad__ckpt_contents_add(c->ctx, s, "C.", name, v));
    }
    SGAD__TRY(sgad__ckpt_contents_check_finite(c->ctx, fn, s));
    sgad__ckpt_meta_start(s, KIND);
    sgad__ckpt_meta(s, "channels", "%lld", (long long)c->channels);
    sgad__ckpt_meta(s, "size", "%lld", (long long)c->size);
    sgad__ckpt_meta(s, "classes", "%d", c->classes);
    sgad__ckpt_meta(s, "features", "%d", SGAD__CLS_FEATURES);
    return SGAD_OK;
}

sgad_status sgad_classifier_save(sgad_classifier *c, const char *path)
{
    static const char fn[] = "sgad_classifier_save";
    if (!c)
        return SGAD_E_INVALID_ARG;
    SGAD__CHECK(c->ctx, path, SGAD_E_INVALID_ARG, "%s: path is NULL", fn);
    sgad__ckpt_contents s;
    sgad_status st = collect(c, fn, &s);
    if (st == SGAD_OK)
        st = sgad__atomic_save(c->ctx, path, &s);
    sgad__ckpt_contents_free(c->ctx, &s);
    return st;
}

/* A whole-number metadata value in [lo, hi]. */
static sgad_status meta_int(const sgad_checkpoint *c, const char *fn, const char *path,
                            const char *key, long long lo, long long hi, long long *out)
{
    const char *v = sgad_checkpoint_meta(c, key);
    SGAD__CHECK(c->ctx, v && sgad__ckpt_parse_whole(v, lo, hi, out), SGAD_E_FORMAT,
                "%s: %s: metadata \"%s\" is %s%s%s, not a whole number in [%lld, %lld]", fn, path,
                key, v ? "\"" : "", v ? v : "missing", v ? "\"" : "", lo, hi);
    return SGAD_OK;
}

static sgad_status check_kind(const sgad_checkpoint *c, const char *fn, const char *path)
{
    const char *kind = sgad_checkpoint_meta(c, "kind");
    SGAD__CHECK(c->ctx, kind && strcmp(kind, KIND) == 0, SGAD_E_FORMAT,
                "%s: %s is a libsgad checkpoint but not of a classifier (kind %s); train one "
                "with sgad-eval --train-classifier",
                fn, path,
                kind ? kind
                     : "missing: a "
                       "training checkpoint");
    return SGAD_OK;
}

/* Every parameter of the new classifier must be in the file with its
 * shape, and the file must hold nothing else. */
static sgad_status fill(sgad_classifier *cls, const sgad_checkpoint *c, const char *fn,
                        const char *path)
{
    const int n = sgad_net_param_count(cls->net);
    SGAD__CHECK(c->ctx, sgad_checkpoint_tensor_count(c) == n, SGAD_E_FORMAT,
                "%s: %s holds %d tensors; this classifier has %d", fn, path,
                sgad_checkpoint_tensor_count(c), n);
    for (int i = 0; i < n; i++) {
        const char *name;
        sgad_tensor *v;
        char full[SGAD_MAX_NAME + 8];
        SGAD__TRY(sgad_net_param(cls->net, i, &name, &v, NULL));
        snprintf(full, sizeof full, "C.%s", name);
        const sgad__ckpt_tensor *t = sgad__checkpoint_find(c, full);
        SGAD__CHECK(c->ctx, t, SGAD_E_FORMAT, "%s: %s lacks tensor %s", fn, path, full);
        int same = t->ndim == v->ndim;
        for (int d = 0; same && d < v->ndim; d++)
            same = t->dims[d] == v->dims[d];
        SGAD__CHECK(c->ctx, same, SGAD_E_FORMAT,
                    "%s: %s: tensor %s has another shape than this "
                    "classifier's",
                    fn, path, full);
        SGAD__TRY(sgad_checkpoint_tensor_read(c, full, v));
        for (int64_t j = 0; j < v->numel; j++)
            SGAD__CHECK(c->ctx, isfinite(v->data[j]), SGAD_E_FORMAT,
                        "%s: %s: %s[%lld] is not "
                        "finite",
                        fn, path, full, (long long)j);
    }
    return SGAD_OK;
}

static sgad_status build(sgad_ctx *ctx, const sgad_checkpoint *c, const char *path,
                         sgad_classifier **out)
{
    static const char fn[] = "sgad_classifier_load";
    long long channels = 0, size = 0, classes = 0, features = 0; /* set by meta_int */
    SGAD__TRY(check_kind(c, fn, path));
    SGAD__TRY(meta_int(c, fn, path, "channels", 1, 3, &channels));
    SGAD__TRY(meta_int(c, fn, path, "size", 8, 256, &size));
    SGAD__TRY(meta_int(c, fn, path, "classes", 2, 1000, &classes));
    SGAD__TRY(meta_int(c, fn, path, "features", SGAD__CLS_FEATURES, SGAD__CLS_FEATURES, &features));
    SGAD__TRY(sgad_classifier_create(ctx, channels, size, (int)classes, out));
    const sgad_status st = fill(*out, c, fn, path);
    if (st != SGAD_OK) {
        sgad_classifier_free(*out);
        *out = NULL;
    }
    return st;
}

sgad_status sgad_classifier_load(sgad_ctx *ctx, const char *path, sgad_classifier **out)
{
    if (!ctx)
        return SGAD_E_INVALID_ARG;
    SGAD__CHECK(ctx, path && out, SGAD_E_INVALID_ARG, "sgad_classifier_load: path or out is NULL");
    *out = NULL;
    sgad_checkpoint *c;
    SGAD__TRY(sgad_checkpoint_read(ctx, path, &c));
    const sgad_status st = build(ctx, c, path, out);
    sgad_checkpoint_free(c);
    return st;
}
