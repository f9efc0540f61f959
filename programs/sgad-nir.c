/* SPDX-License-Identifier: MIT */
/* sgad-nir: interchange with the neuromorphic ecosystem through NIR, the
 * Neuromorphic Intermediate Representation (docs/nir.md).
 *
 *   sgad-nir export --checkpoint PATH --net d|g --out FILE.nir
 *   sgad-nir import FILE.nir [--out FILE.nir] [--input X --batch N [--steps T] --output Y]
 *   sgad-nir run --checkpoint PATH --net d|g [--fold-bn] --input X --batch N [--steps T]
 *                --output Y
 *
 * Inputs and outputs of a run are raw little-endian float32 files holding
 * the net's tensor [T, N, sample...] in C order (T = 1 for a net that
 * starts by repeating its input, as the presets do). Exit status 0, 1 for
 * a file or net that cannot be read, written or converted (the message
 * says which node or layer and why), 2 for bad arguments.
 *
 * The program links Debian's libhdf5; libsgad itself does not. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sgad/sgad.h>

#include "cli.h"
#include "nir/nir_graph.h"

typedef struct options {
    const char *command, *file, *checkpoint, *net, *out, *input, *output;
    long long batch, steps;
    int fold_bn;
} options;

static void usage(FILE *f)
{
    fprintf(f, "usage: sgad-nir export --checkpoint PATH --net d|g --out FILE.nir\n"
               "       sgad-nir import FILE.nir [--out FILE.nir]\n"
               "                       [--input X --batch N [--steps T] --output Y]\n"
               "       sgad-nir run --checkpoint PATH --net d|g [--fold-bn]\n"
               "                    --input X --batch N [--steps T] --output Y\n"
               "Writes a checkpoint's net as a NIR graph (HDF5), reads a NIR graph into a "
               "libsgad net,\nand runs either on raw float32 input. See sgad-nir(1).\n");
}

static int parse(int argc, char **argv, options *o)
{
    *o = (options){0};
    if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        usage(stdout);
        exit(0);
    }
    if (argc < 2 ||
        (strcmp(argv[1], "export") && strcmp(argv[1], "import") && strcmp(argv[1], "run"))) {
        fprintf(stderr, "sgad-nir: the first argument is export, import or run\n");
        usage(stderr);
        return 2;
    }
    o->command = argv[1];
    const int importing = !strcmp(o->command, "import");
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int ok = 1, takes = 1;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            exit(0);
        } else if (importing && a[0] != '-' && !o->file) {
            o->file = a;
            takes = 0;
        } else if (!strcmp(a, "--fold-bn") && !strcmp(o->command, "run")) {
            o->fold_bn = 1;
            takes = 0;
        } else if (!strcmp(a, "--checkpoint") && !importing) {
            ok = (o->checkpoint = v) != NULL;
        } else if (!strcmp(a, "--net") && !importing) {
            ok = v && (!strcmp(v, "d") || !strcmp(v, "g"));
            o->net = v;
        } else if (!strcmp(a, "--out") && strcmp(o->command, "run")) {
            ok = (o->out = v) != NULL;
        } else if (!strcmp(a, "--input") && strcmp(o->command, "export")) {
            ok = (o->input = v) != NULL;
        } else if (!strcmp(a, "--output") && strcmp(o->command, "export")) {
            ok = (o->output = v) != NULL;
        } else if (!strcmp(a, "--batch") && strcmp(o->command, "export")) {
            ok = cli_integer(v, 1, 1 << 20, &o->batch);
        } else if (!strcmp(a, "--steps") && strcmp(o->command, "export")) {
            ok = cli_integer(v, 1, 1024, &o->steps);
        } else {
            fprintf(stderr, "sgad-nir %s: unknown option '%s'\n", o->command, a);
            usage(stderr);
            return 2;
        }
        if (!ok) {
            fprintf(stderr, "sgad-nir: bad value for %s: '%s'\n", a, v ? v : "(missing)");
            usage(stderr);
            return 2;
        }
        i += takes;
    }
    const char *missing = NULL;
    if (importing && !o->file)
        missing = "FILE.nir";
    else if (!importing && !o->checkpoint)
        missing = "--checkpoint";
    else if (!importing && !o->net)
        missing = "--net";
    else if (!strcmp(o->command, "export") && !o->out)
        missing = "--out";
    else if (!strcmp(o->command, "run") && !o->input)
        missing = "--input";
    else if (o->input && !o->output)
        missing = "--output";
    else if (o->input && !o->batch)
        missing = "--batch";
    else if (!o->input && (o->output || o->batch || o->steps))
        missing = "--input";
    if (missing) {
        fprintf(stderr, "sgad-nir %s: %s is required\n", o->command, missing);
        usage(stderr);
        return 2;
    }
    return 0;
}

/* A checkpoint's trainer and the net asked for, with the shape of one
 * input sample: a latent for G, an image for D. */
typedef struct source {
    sgad_checkpoint *ckpt;
    sgad_trainer *trainer;
    sgad_net *net;
    int ndim;
    int64_t dims[SGAD_MAX_DIMS];
} source;

static int open_source(sgad_ctx *ctx, const options *o, source *s)
{
    *s = (source){0};
    sgad_model model;
    sgad_image_shape shape;
    int steps, latent;
    if (sgad_checkpoint_read(ctx, o->checkpoint, &s->ckpt) != SGAD_OK ||
        sgad_checkpoint_create_trainer(s->ckpt, ctx, &s->trainer) != SGAD_OK ||
        sgad_trainer_preset(s->trainer, &model, &shape, &steps, &latent) != SGAD_OK) {
        fprintf(stderr, "sgad-nir: %s: %s\n", o->checkpoint, sgad_ctx_last_error(ctx));
        return 1;
    }
    const int d = !strcmp(o->net, "d");
    s->net = sgad_trainer_net(s->trainer, d);
    if (!d) {
        s->ndim = 1;
        s->dims[0] = latent;
    } else {
        static const int64_t images[3][3] = {{1, 28, 28}, {3, 32, 32}, {3, 64, 64}};
        s->ndim = 3;
        memcpy(s->dims, images[shape], sizeof images[shape]);
    }
    /* Evaluation mode: batch norm uses its running statistics, which is
     * what export folds. */
    return sgad_net_set_training(s->net, 0) == SGAD_OK ? 0 : 1;
}

static void close_source(source *s)
{
    sgad_trainer_free(s->trainer);
    sgad_checkpoint_free(s->ckpt);
}

static const char *net_name(const options *o)
{
    return !strcmp(o->net, "d") ? "D" : "G";
}

/* Runs net on the raw float32 file o->input, writing o->output. */
static int run_net(sgad_ctx *ctx, sgad_net *net, int ndim, const int64_t *sample, const options *o)
{
    const int repeats = sgad_layer_get_kind(sgad_net_layer(net, 0)) == SGAD_LAYER_REPEAT;
    if (!repeats && !o->steps) {
        fprintf(stderr, "sgad-nir: the net takes T steps of input (it does not start with "
                        "repeat): give --steps\n");
        return 2;
    }
    int64_t dims[SGAD_MAX_DIMS] = {repeats ? 1 : o->steps, o->batch};
    memcpy(dims + 2, sample, (size_t)ndim * sizeof *sample);
    int64_t odims[SGAD_MAX_DIMS];
    int ond, rc = 1;
    sgad_tensor *x = NULL, *y = NULL;
    if (sgad_net_output_dims(net, ndim + 2, dims, &ond, odims) != SGAD_OK ||
        sgad_tensor_create(ctx, ndim + 2, dims, &x) != SGAD_OK ||
        sgad_tensor_create(ctx, ond, odims, &y) != SGAD_OK) {
        fprintf(stderr, "sgad-nir: %s\n", sgad_ctx_last_error(ctx));
        goto done;
    }
    const int64_t n = sgad_tensor_numel(x);
    FILE *f = fopen(o->input, "rb");
    if (!f) {
        fprintf(stderr, "sgad-nir: cannot open %s\n", o->input);
        goto done;
    }
    const size_t got = fread(sgad_tensor_data(x), sizeof(float), (size_t)n, f);
    const int extra = fgetc(f) != EOF;
    fclose(f);
    if (got != (size_t)n || extra) {
        fprintf(stderr,
                "sgad-nir: %s: expected exactly %lld float32 values (T %lld x N %lld x the "
                "sample), found %s\n",
                o->input, (long long)n, (long long)dims[0], (long long)dims[1],
                extra ? "more" : "fewer");
        goto done;
    }
    if (sgad_net_forward(net, x, y) != SGAD_OK) {
        fprintf(stderr, "sgad-nir: %s\n", sgad_ctx_last_error(ctx));
        goto done;
    }
    f = fopen(o->output, "wb");
    const size_t m = (size_t)sgad_tensor_numel(y);
    if (!f || fwrite(sgad_tensor_data(y), sizeof(float), m, f) != m || fclose(f) != 0) {
        fprintf(stderr, "sgad-nir: cannot write %s\n", o->output);
        goto done;
    }
    printf("output [");
    for (int d = 0; d < ond; d++)
        printf("%s%lld", d ? ", " : "", (long long)odims[d]);
    printf("]: %zu float32 values written to %s\n", m, o->output);
    rc = 0;
done:
    sgad_tensor_free(x);
    sgad_tensor_free(y);
    return rc;
}

static int cmd_export(sgad_ctx *ctx, const options *o)
{
    source s;
    int rc = open_source(ctx, o, &s);
    nir_graph g;
    static char err[NIR_ERR_LEN];
    if (rc == 0 && nir_from_net(s.net, s.ndim, s.dims, &g, err) < 0) {
        fprintf(stderr, "sgad-nir: cannot export %s of %s as NIR:\n%s\n", net_name(o),
                o->checkpoint, err);
        rc = 1;
    } else if (rc == 0) {
        if (nir_write(&g, o->out, err) < 0) {
            fprintf(stderr, "sgad-nir: %s\n", err);
            rc = 1;
        } else {
            printf("%s of %s: %d NIR nodes written to %s\n", net_name(o), o->checkpoint, g.count,
                   o->out);
        }
        nir_graph_free(&g);
    }
    close_source(&s);
    return rc;
}

static int cmd_import(sgad_ctx *ctx, const options *o)
{
    static char err[NIR_ERR_LEN];
    nir_graph g;
    sgad_net *net = NULL;
    if (nir_read(o->file, &g, err) < 0) {
        fprintf(stderr, "sgad-nir: %s\n", err);
        return 1;
    }
    printf("%s: %d nodes\n", o->file, g.count);
    int rc = 0;
    if (nir_to_net(&g, ctx, &net, stdout, err) < 0) {
        fprintf(stderr, "sgad-nir: %s: %s\n", o->file, err);
        rc = 1;
    }
    if (rc == 0 && o->out) {
        nir_graph again;
        if (nir_from_net(net, g.nodes[0].ndim, g.nodes[0].dims, &again, err) < 0 ||
            nir_write(&again, o->out, err) < 0) {
            fprintf(stderr, "sgad-nir: %s\n", err);
            rc = 1;
        } else {
            printf("the imported net written to %s\n", o->out);
        }
        nir_graph_free(&again);
    }
    if (rc == 0 && o->input)
        rc = run_net(ctx, net, g.nodes[0].ndim, g.nodes[0].dims, o);
    sgad_net_free(net);
    nir_graph_free(&g);
    return rc;
}

static int cmd_run(sgad_ctx *ctx, const options *o)
{
    source s;
    int rc = open_source(ctx, o, &s);
    sgad_net *net = s.net, *folded = NULL;
    if (rc == 0 && o->fold_bn) {
        /* The net the export describes, without the file in between. */
        static char err[NIR_ERR_LEN];
        nir_graph g;
        if (nir_from_net(s.net, s.ndim, s.dims, &g, err) < 0 ||
            nir_to_net(&g, ctx, &folded, NULL, err) < 0) {
            fprintf(stderr, "sgad-nir: %s of %s:\n%s\n", net_name(o), o->checkpoint, err);
            rc = 1;
        }
        nir_graph_free(&g);
        net = folded;
    }
    if (rc == 0)
        rc = run_net(ctx, net, s.ndim, s.dims, o);
    sgad_net_free(folded);
    close_source(&s);
    return rc;
}

int main(int argc, char **argv)
{
    options o;
    int rc = parse(argc, argv, &o);
    if (rc)
        return rc;
    sgad_ctx *ctx;
    if (sgad_ctx_create(&ctx) != SGAD_OK)
        return 1;
    if (!strcmp(o.command, "export"))
        rc = cmd_export(ctx, &o);
    else if (!strcmp(o.command, "import"))
        rc = cmd_import(ctx, &o);
    else
        rc = cmd_run(ctx, &o);
    sgad_ctx_free(ctx);
    return rc;
}
