/* SPDX-License-Identifier: MIT */
/* NIR graphs in HDF5 files, through Debian's libhdf5 (serial), laid out as
 * NIR's reference implementation (nir/serialization.py) writes them:
 *
 *   /version                       string: the NIR release followed
 *   /node/type                     "NIRGraph"
 *   /node/nodes/<name>/type        the node's type string, e.g. "LIF"
 *   /node/nodes/<name>/<param>     its parameters (weight, bias, tau, ...)
 *   /node/edges                    [E, 2] strings: (source, destination)
 *   /node/metadata/<key>           optional; sgad_steps and sgad_readout
 *
 * Strings are variable-length UTF-8 (h5py's string_dtype); arrays float32,
 * integers int64, as numpy hands them to h5py. The reader also takes
 * fixed-length strings and any integer or float type, converting through
 * libhdf5, since other writers make those. Every read is checked (class,
 * rank, element count) before data is trusted, so a damaged or foreign
 * file is an error message, never a crash. */
#include <hdf5.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nir_graph.h"

/* The NIR release whose specification (node types, parameter names and
 * shapes) this file follows. */
#define NIR_SPEC_VERSION "1.0.7"

/* Bounds on what a file may ask the reader to allocate. */
#define MAX_ELEMENTS ((int64_t)1 << 31)
#define MAX_NODES 4096
#define MAX_TEXT 4096

static hid_t vlen_string_type(void)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    if (t >= 0 && (H5Tset_size(t, H5T_VARIABLE) < 0 || H5Tset_cset(t, H5T_CSET_UTF8) < 0)) {
        H5Tclose(t);
        return -1;
    }
    return t;
}

/* ---- writing ---------------------------------------------------------- */

/* A dataset of `count` strings in the given shape (ndim 0: scalar). */
static int put_strings(hid_t loc, const char *name, int ndim, const hsize_t *dims,
                       const char *const *values)
{
    hid_t t = vlen_string_type();
    hid_t sp = ndim ? H5Screate_simple(ndim, dims, NULL) : H5Screate(H5S_SCALAR);
    hid_t d = t >= 0 && sp >= 0
                  ? H5Dcreate2(loc, name, t, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT)
                  : -1;
    const int ok = d >= 0 && H5Dwrite(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, values) >= 0;
    if (d >= 0)
        H5Dclose(d);
    if (sp >= 0)
        H5Sclose(sp);
    if (t >= 0)
        H5Tclose(t);
    return ok ? 0 : -1;
}

static int put_string(hid_t loc, const char *name, const char *value)
{
    return put_strings(loc, name, 0, NULL, &value);
}

static int put_array(hid_t loc, const char *name, int ndim, const int64_t *dims, hid_t file_type,
                     hid_t mem_type, const void *values)
{
    hsize_t hd[SGAD_MAX_DIMS];
    for (int i = 0; i < ndim; i++)
        hd[i] = (hsize_t)dims[i];
    hid_t sp = ndim ? H5Screate_simple(ndim, hd, NULL) : H5Screate(H5S_SCALAR);
    hid_t d =
        sp >= 0 ? H5Dcreate2(loc, name, file_type, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT) : -1;
    const int ok = d >= 0 && H5Dwrite(d, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, values) >= 0;
    if (d >= 0)
        H5Dclose(d);
    if (sp >= 0)
        H5Sclose(sp);
    return ok ? 0 : -1;
}

static int put_floats(hid_t loc, const char *name, int ndim, const int64_t *dims, const float *v)
{
    return put_array(loc, name, ndim, dims, H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, v);
}

/* count 0: a scalar. */
static int put_ints(hid_t loc, const char *name, int count, const int64_t *v)
{
    const int64_t n = count;
    return put_array(loc, name, count ? 1 : 0, &n, H5T_STD_I64LE, H5T_NATIVE_INT64, v);
}

/* A neuron's or Scale's parameter: NIR has one value per neuron, shaped as
 * the node's input; libsgad's single value fills it. */
static int put_filled(hid_t loc, const char *name, const nir_node *n, float value)
{
    const int64_t count = nir_numel(n->ndim, n->dims);
    if (count < 1)
        return -1;
    float *v = malloc((size_t)count * sizeof *v);
    if (!v)
        return -1;
    for (int64_t i = 0; i < count; i++)
        v[i] = value;
    const int rc = put_floats(loc, name, n->ndim, n->dims, v);
    free(v);
    return rc;
}

static int put_node_params(hid_t grp, const nir_node *n)
{
    int rc = put_string(grp, "type", nir_type_name(n->type));
    switch (n->type) {
    case NIR_INPUT:
    case NIR_OUTPUT: rc |= put_ints(grp, "shape", n->ndim, n->dims); break;
    case NIR_AFFINE:
        rc |= put_floats(grp, "bias", 1, n->wdims, n->bias);
        rc |= put_floats(grp, "weight", n->wndim, n->wdims, n->weight);
        break;
    case NIR_LINEAR: rc |= put_floats(grp, "weight", n->wndim, n->wdims, n->weight); break;
    case NIR_CONV2D:
        rc |= put_floats(grp, "weight", n->wndim, n->wdims, n->weight);
        rc |= put_floats(grp, "bias", 1, n->wdims, n->bias);
        rc |= put_ints(grp, "stride", 2, n->stride);
        rc |= put_ints(grp, "padding", 2, n->padding);
        rc |= put_ints(grp, "dilation", 2, n->dilation);
        rc |= put_ints(grp, "groups", 0, &n->groups);
        rc |= put_ints(grp, "input_shape", 2, n->dims + 1);
        break;
    case NIR_LIF:
        rc |= put_filled(grp, "tau", n, n->tau);
        rc |= put_filled(grp, "r", n, n->r);
        rc |= put_filled(grp, "v_leak", n, n->v_leak);
        rc |= put_filled(grp, "v_threshold", n, n->v_threshold);
        rc |= put_filled(grp, "v_reset", n, n->v_reset);
        break;
    case NIR_IF:
        rc |= put_filled(grp, "r", n, n->r);
        rc |= put_filled(grp, "v_threshold", n, n->v_threshold);
        rc |= put_filled(grp, "v_reset", n, n->v_reset);
        break;
    case NIR_LI:
        rc |= put_filled(grp, "tau", n, n->tau);
        rc |= put_filled(grp, "r", n, n->r);
        rc |= put_filled(grp, "v_leak", n, n->v_leak);
        break;
    case NIR_AVGPOOL2D:
        rc |= put_ints(grp, "kernel_size", 2, n->kernel);
        rc |= put_ints(grp, "stride", 2, n->stride);
        rc |= put_ints(grp, "padding", 2, n->padding);
        break;
    case NIR_FLATTEN:
        rc |= put_ints(grp, "start_dim", 0, &n->start_dim);
        rc |= put_ints(grp, "end_dim", 0, &n->end_dim);
        rc |= put_ints(grp, "input_type", n->ndim, n->dims);
        break;
    case NIR_SCALE: rc |= put_filled(grp, "scale", n, n->scale); break;
    case NIR_TYPE_COUNT: rc = -1; break;
    }
    return rc;
}

static int put_graph(hid_t f, const nir_graph *g)
{
    int rc = put_string(f, "version", NIR_SPEC_VERSION);
    hid_t node = H5Gcreate2(f, "node", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (node < 0)
        return -1;
    rc |= put_string(node, "type", "NIRGraph");
    hid_t nodes = H5Gcreate2(node, "nodes", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    for (int i = 0; i < g->count && nodes >= 0 && !rc; i++) {
        hid_t grp = H5Gcreate2(nodes, g->nodes[i].name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        rc |= grp < 0 ? -1 : put_node_params(grp, &g->nodes[i]);
        if (grp >= 0)
            H5Gclose(grp);
    }
    rc |= nodes < 0 ? -1 : 0;
    if (nodes >= 0)
        H5Gclose(nodes);
    /* The chain's edges: node i feeds node i + 1. */
    const char **pairs = malloc((size_t)(2 * g->count) * sizeof *pairs);
    if (!pairs) {
        H5Gclose(node);
        return -1;
    }
    for (int i = 0; i + 1 < g->count; i++) {
        pairs[2 * i] = g->nodes[i].name;
        pairs[2 * i + 1] = g->nodes[i + 1].name;
    }
    const hsize_t edims[2] = {(hsize_t)(g->count - 1), 2};
    rc |= put_strings(node, "edges", 2, edims, pairs);
    free(pairs);
    if (!rc && (g->steps > 0 || g->readout != NIR_READOUT_NONE)) {
        hid_t meta = H5Gcreate2(node, "metadata", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        const int64_t steps = g->steps;
        rc |= meta < 0 ? -1 : 0;
        if (meta >= 0 && g->steps > 0)
            rc |= put_ints(meta, "sgad_steps", 0, &steps);
        if (meta >= 0 && g->readout != NIR_READOUT_NONE)
            rc |= put_string(meta, "sgad_readout", nir_readout_name(g->readout));
        if (meta >= 0)
            H5Gclose(meta);
    }
    H5Gclose(node);
    return rc ? -1 : 0;
}

int nir_write(const nir_graph *g, const char *path, char *err)
{
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    if (g->count < 2)
        return nir_fail(err, "%s: a graph needs an Input and an Output", path);
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s.tmp-%ld", path, (long)getpid()) >= (int)sizeof tmp)
        return nir_fail(err, "%s: path too long", path);
    hid_t f = H5Fcreate(tmp, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (f < 0)
        return nir_fail(err, "%s: cannot create the file", tmp);
    int rc = put_graph(f, g);
    rc |= H5Fclose(f) < 0 ? -1 : 0;
    if (rc == 0 && rename(tmp, path) == 0)
        return 0;
    unlink(tmp);
    return nir_fail(err, "%s: writing the HDF5 file failed", path);
}

/* ---- reading ---------------------------------------------------------- */

/* What the reader is at, for messages: the file and the node. */
typedef struct where {
    const char *path, *node;
    char *err;
} where;

static int bad(const where *w, const char *what, const char *name)
{
    if (w->node)
        return nir_fail(w->err, "%s: node '%s': %s '%s'", w->path, w->node, what, name);
    return nir_fail(w->err, "%s: %s '%s'", w->path, what, name);
}

static int exists(hid_t loc, const char *name)
{
    return H5Lexists(loc, name, H5P_DEFAULT) > 0;
}

static int open_dataset(const where *w, hid_t loc, const char *name, hid_t *d, hid_t *sp, int *ndim,
                        int64_t *dims, int64_t *count)
{
    if (!exists(loc, name))
        return bad(w, "missing dataset", name);
    *d = H5Dopen2(loc, name, H5P_DEFAULT);
    if (*d < 0)
        return bad(w, "not a dataset:", name);
    *sp = H5Dget_space(*d);
    const int nd = *sp >= 0 ? H5Sget_simple_extent_ndims(*sp) : -1;
    hsize_t hd[SGAD_MAX_DIMS];
    if (nd < 0 || nd > SGAD_MAX_DIMS || H5Sget_simple_extent_dims(*sp, hd, NULL) < 0) {
        if (*sp >= 0)
            H5Sclose(*sp);
        H5Dclose(*d);
        return bad(w, "unreadable or more than 6-dimensional dataset", name);
    }
    *ndim = nd;
    *count = 1;
    for (int i = 0; i < nd; i++) {
        dims[i] = (int64_t)hd[i];
        if (hd[i] == 0 || hd[i] > (hsize_t)MAX_ELEMENTS || *count > MAX_ELEMENTS / dims[i]) {
            H5Sclose(*sp);
            H5Dclose(*d);
            return bad(w, "empty or too large dataset", name);
        }
        *count *= dims[i];
    }
    return 0;
}

/* Every string of a dataset (any shape), malloc'd, in C order. */
static int get_strings(const where *w, hid_t loc, const char *name, int *ndim, int64_t *dims,
                       char ***out, int64_t *count)
{
    hid_t d, sp;
    if (open_dataset(w, loc, name, &d, &sp, ndim, dims, count) < 0)
        return -1;
    hid_t t = H5Dget_type(d);
    int rc = -1;
    char **s = NULL;
    if (t < 0 || H5Tget_class(t) != H5T_STRING || *count > MAX_NODES * 2) {
        bad(w, "not a string dataset (or too many strings):", name);
        goto done;
    }
    s = calloc((size_t)*count, sizeof *s);
    if (!s) {
        nir_fail(w->err, "out of memory");
        goto done;
    }
    if (H5Tis_variable_str(t) > 0) {
        hid_t m = vlen_string_type();
        if (m >= 0 && H5Dread(d, m, H5S_ALL, H5S_ALL, H5P_DEFAULT, s) >= 0) {
            rc = 0;
            /* libhdf5 allocated the strings; copy them into ours. */
            for (int64_t i = 0; i < *count; i++) {
                char *c = strdup(s[i] ? s[i] : "");
                rc |= c && strlen(c) < MAX_TEXT ? 0 : -1;
                H5free_memory(s[i]);
                s[i] = c;
            }
        }
        if (m >= 0)
            H5Tclose(m);
    } else {
        const size_t len = H5Tget_size(t);
        char *buf = len && len < MAX_TEXT ? malloc((size_t)*count * len) : NULL;
        hid_t m = H5Tcopy(H5T_C_S1);
        if (buf && m >= 0 && H5Tset_size(m, len) >= 0 &&
            H5Dread(d, m, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) >= 0) {
            rc = 0;
            for (int64_t i = 0; i < *count; i++) {
                s[i] = calloc(len + 1, 1);
                if (s[i])
                    memcpy(s[i], buf + (size_t)i * len, len); /* NUL- or space-padded */
                rc |= s[i] ? 0 : -1;
            }
        }
        if (m >= 0)
            H5Tclose(m);
        free(buf);
    }
    if (rc < 0)
        bad(w, "unreadable strings in", name);
done:
    if (rc < 0 && s) {
        for (int64_t i = 0; i < *count; i++)
            free(s[i]);
        free(s);
        s = NULL;
    }
    *out = s;
    if (t >= 0)
        H5Tclose(t);
    H5Sclose(sp);
    H5Dclose(d);
    return rc;
}

static void free_strings(char **s, int64_t count)
{
    for (int64_t i = 0; s && i < count; i++)
        free(s[i]);
    free(s);
}

static int get_string(const where *w, hid_t loc, const char *name, char *buf, size_t cap)
{
    int nd;
    int64_t dims[SGAD_MAX_DIMS], count;
    char **s;
    if (get_strings(w, loc, name, &nd, dims, &s, &count) < 0)
        return -1;
    const int ok = count == 1 && strlen(s[0]) < cap;
    if (ok)
        snprintf(buf, cap, "%s", s[0]);
    free_strings(s, count);
    return ok ? 0 : bad(w, "expected one short string in", name);
}

/* A numeric dataset of any integer or float type, converted to float
 * (mem = H5T_NATIVE_FLOAT) or int64 (H5T_NATIVE_INT64); malloc'd. */
static int get_numbers(const where *w, hid_t loc, const char *name, hid_t mem, int *ndim,
                       int64_t *dims, void **out, int64_t *count)
{
    hid_t d, sp;
    *out = NULL;
    if (open_dataset(w, loc, name, &d, &sp, ndim, dims, count) < 0)
        return -1;
    hid_t t = H5Dget_type(d);
    const H5T_class_t c = t >= 0 ? H5Tget_class(t) : H5T_NO_CLASS;
    int rc = -1;
    if (c != H5T_INTEGER && c != H5T_FLOAT) {
        bad(w, "not a numeric dataset:", name);
    } else if (mem == H5T_NATIVE_INT64 && c != H5T_INTEGER) {
        bad(w, "expected integers in", name);
    } else {
        void *v = malloc((size_t)*count * 8);
        if (v && H5Dread(d, mem, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) >= 0) {
            *out = v;
            rc = 0;
        } else {
            free(v);
            bad(w, "unreadable dataset", name);
        }
    }
    if (t >= 0)
        H5Tclose(t);
    H5Sclose(sp);
    H5Dclose(d);
    return rc;
}

/* One integer or a pair (NIR writes `stride` as a pair and `groups` as a
 * scalar; either may come as the other). */
static int get_pair(const where *w, hid_t loc, const char *name, int64_t *pair)
{
    int nd;
    int64_t dims[SGAD_MAX_DIMS], count;
    int64_t *v;
    if (get_numbers(w, loc, name, H5T_NATIVE_INT64, &nd, dims, (void **)&v, &count) < 0)
        return -1;
    const int ok = nd <= 1 && (count == 1 || count == 2);
    if (ok) {
        pair[0] = v[0];
        pair[1] = v[count - 1];
    }
    free(v);
    return ok ? 0 : bad(w, "expected one or two integers in", name);
}

/* A shape: a 1-D array of at most 4 positive integers (libsgad tensors are
 * [T, N] and a sample of up to 4 dimensions). */
static int get_shape(const where *w, hid_t loc, const char *name, int *ndim, int64_t *out)
{
    int nd;
    int64_t dims[SGAD_MAX_DIMS], count;
    int64_t *v;
    if (get_numbers(w, loc, name, H5T_NATIVE_INT64, &nd, dims, (void **)&v, &count) < 0)
        return -1;
    int ok = nd <= 1 && count <= SGAD_MAX_DIMS - 2;
    for (int64_t i = 0; ok && i < count; i++)
        ok = v[i] >= 1 && v[i] <= ((int64_t)1 << 30);
    if (ok) {
        *ndim = (int)count;
        memcpy(out, v, (size_t)count * sizeof *v);
    }
    free(v);
    return ok ? 0 : bad(w, "expected a shape of 1 to 4 positive sizes in", name);
}

/* A float array: weight or bias. */
static int get_floats(const where *w, hid_t loc, const char *name, int *ndim, int64_t *dims,
                      float **out, int64_t *count)
{
    if (get_numbers(w, loc, name, H5T_NATIVE_FLOAT, ndim, dims, (void **)out, count) < 0)
        return -1;
    for (int64_t i = 0; i < *count; i++)
        if (!(out[0][i] - out[0][i] == 0)) { /* NaN or infinite */
            free(*out);
            *out = NULL;
            return bad(w, "non-finite value in", name);
        }
    return 0;
}

/* A neuron's (or Scale's) per-neuron parameter: libsgad has one value per
 * layer, so every entry must be the same. Its shape becomes the node's;
 * all of a node's parameters must have the same shape. missing_value:
 * used when the dataset is absent and the specification gives a default
 * (v_reset: zeros); NULL makes it required. */
static int get_uniform(const where *w, hid_t loc, const char *name, nir_node *n, float *value,
                       const float *missing_value)
{
    if (missing_value && !exists(loc, name)) {
        *value = *missing_value;
        return 0;
    }
    int nd;
    int64_t dims[SGAD_MAX_DIMS], count;
    float *v;
    if (get_floats(w, loc, name, &nd, dims, &v, &count) < 0)
        return -1;
    for (int64_t i = 1; i < count; i++)
        if (v[i] != v[0]) {
            nir_fail(w->err,
                     "%s: node '%s': %s differs between neurons (%g at 0, %g at %lld); "
                     "libsgad's neurons share one value per layer",
                     w->path, w->node, name, (double)v[0], (double)v[i], (long long)i);
            free(v);
            return -1;
        }
    *value = v[0];
    free(v);
    if (nd > SGAD_MAX_DIMS - 2)
        return bad(w, "more than 4 dimensions in", name);
    if (n->has_dims && (nd != n->ndim || memcmp(dims, n->dims, (size_t)nd * sizeof *dims) != 0))
        return bad(w, "shape mismatch: its parameters have different shapes, see", name);
    n->ndim = nd;
    memcpy(n->dims, dims, (size_t)nd * sizeof *dims);
    n->has_dims = 1;
    return 0;
}

static int get_affine(const where *w, hid_t grp, nir_node *n)
{
    int64_t count, bdims[SGAD_MAX_DIMS];
    int bnd;
    if (get_floats(w, grp, "weight", &n->wndim, n->wdims, &n->weight, &count) < 0)
        return -1;
    if (n->wndim != (n->type == NIR_CONV2D ? 4 : 2))
        return bad(w,
                   n->type == NIR_CONV2D ? "shape mismatch: expected [out, in, kh, kw] in"
                                         : "shape mismatch: expected [out, in] in",
                   "weight");
    if (n->type == NIR_LINEAR)
        return 0;
    if (get_floats(w, grp, "bias", &bnd, bdims, &n->bias, &count) < 0)
        return -1;
    if (count != n->wdims[0])
        return bad(w, "shape mismatch: one value per output expected in", "bias");
    return 0;
}

static int get_conv(const where *w, hid_t grp, nir_node *n)
{
    if (get_affine(w, grp, n) < 0 || get_pair(w, grp, "stride", n->stride) < 0 ||
        get_pair(w, grp, "dilation", n->dilation) < 0 || get_pair(w, grp, "groups", n->kernel) < 0)
        return -1;
    n->groups = n->kernel[0];
    n->kernel[0] = n->wdims[2];
    n->kernel[1] = n->wdims[3];
    /* padding: integers, or NIR's strings 'valid' (none) and 'same'
     * (output as large as the input: stride 1, odd kernel). */
    hid_t d = exists(grp, "padding") ? H5Dopen2(grp, "padding", H5P_DEFAULT) : -1;
    hid_t t = d >= 0 ? H5Dget_type(d) : -1;
    const int text = t >= 0 && H5Tget_class(t) == H5T_STRING;
    if (t >= 0)
        H5Tclose(t);
    if (d >= 0)
        H5Dclose(d);
    if (!text)
        return get_pair(w, grp, "padding", n->padding);
    char pad[16];
    if (get_string(w, grp, "padding", pad, sizeof pad) < 0)
        return -1;
    if (strcmp(pad, "valid") == 0) {
        n->padding[0] = n->padding[1] = 0;
    } else if (strcmp(pad, "same") == 0 && n->stride[0] == 1 && n->stride[1] == 1 &&
               n->kernel[0] % 2 == 1 && n->kernel[1] % 2 == 1) {
        n->padding[0] = n->kernel[0] / 2;
        n->padding[1] = n->kernel[1] / 2;
    } else {
        return bad(w,
                   "padding other than integers, 'valid' or 'same' (stride 1, odd kernel):", pad);
    }
    return 0;
}

static int get_node(const where *w, hid_t grp, nir_node *n)
{
    static const float zero = 0.0f;
    switch (n->type) {
    case NIR_INPUT:
    case NIR_OUTPUT: n->has_dims = 1; return get_shape(w, grp, "shape", &n->ndim, n->dims);
    case NIR_AFFINE:
    case NIR_LINEAR: return get_affine(w, grp, n);
    case NIR_CONV2D:
        if (get_conv(w, grp, n) < 0)
            return -1;
        if (exists(grp, "input_shape")) {
            int nd;
            if (get_shape(w, grp, "input_shape", &nd, n->dims + 1) < 0)
                return -1;
            if (nd != 2)
                return bad(w, "shape mismatch: two sizes (H, W) expected in", "input_shape");
            n->dims[0] = n->wdims[1];
            n->ndim = 3;
            n->has_dims = 1;
        }
        return 0;
    case NIR_LIF:
        return get_uniform(w, grp, "tau", n, &n->tau, NULL) ||
                       get_uniform(w, grp, "r", n, &n->r, NULL) ||
                       get_uniform(w, grp, "v_leak", n, &n->v_leak, NULL) ||
                       get_uniform(w, grp, "v_threshold", n, &n->v_threshold, NULL) ||
                       get_uniform(w, grp, "v_reset", n, &n->v_reset, &zero)
                   ? -1
                   : 0;
    case NIR_IF:
        return get_uniform(w, grp, "r", n, &n->r, NULL) ||
                       get_uniform(w, grp, "v_threshold", n, &n->v_threshold, NULL) ||
                       get_uniform(w, grp, "v_reset", n, &n->v_reset, &zero)
                   ? -1
                   : 0;
    case NIR_LI:
        return get_uniform(w, grp, "tau", n, &n->tau, NULL) ||
                       get_uniform(w, grp, "r", n, &n->r, NULL) ||
                       get_uniform(w, grp, "v_leak", n, &n->v_leak, NULL)
                   ? -1
                   : 0;
    case NIR_AVGPOOL2D:
        return get_pair(w, grp, "kernel_size", n->kernel) ||
                       get_pair(w, grp, "stride", n->stride) ||
                       get_pair(w, grp, "padding", n->padding)
                   ? -1
                   : 0;
    case NIR_FLATTEN: {
        int64_t sd[2], ed[2];
        if (get_pair(w, grp, "start_dim", sd) < 0 || get_pair(w, grp, "end_dim", ed) < 0)
            return -1;
        n->start_dim = sd[0];
        n->end_dim = ed[0];
        if (exists(grp, "input_type")) {
            n->has_dims = 1;
            return get_shape(w, grp, "input_type", &n->ndim, n->dims);
        }
        return 0;
    }
    case NIR_SCALE: return get_uniform(w, grp, "scale", n, &n->scale, NULL);
    case NIR_TYPE_COUNT: break;
    }
    return -1;
}

/* Reads node `name` of /node/nodes into g. */
static int read_node(const char *path, hid_t nodes, const char *name, nir_graph *g, char *err)
{
    where w = {path, name, err};
    hid_t grp = H5Gopen2(nodes, name, H5P_DEFAULT);
    if (grp < 0)
        return nir_fail(err, "%s: node '%s' is not a group", path, name);
    char type[64];
    int rc = get_string(&w, grp, "type", type, sizeof type);
    if (rc == 0) {
        const nir_type t = nir_type_from_name(type);
        if (t == NIR_TYPE_COUNT) {
            rc = nir_fail(err,
                          "%s: node '%s' has type '%s', which sgad-nir does not import "
                          "(it imports Input, Output, Affine, Linear, Conv2d, LIF, IF, LI, "
                          "AvgPool2d, Flatten, Scale)",
                          path, name, type);
        } else {
            nir_node *n = nir_graph_add(g, t, name, err);
            rc = n ? get_node(&w, grp, n) : -1;
        }
    }
    H5Gclose(grp);
    return rc;
}

static int read_metadata(const where *w, hid_t node, nir_graph *g)
{
    if (!exists(node, "metadata"))
        return 0;
    hid_t meta = H5Gopen2(node, "metadata", H5P_DEFAULT);
    if (meta < 0)
        return bad(w, "not a group:", "node/metadata");
    int rc = 0;
    if (exists(meta, "sgad_steps")) {
        int64_t steps[2];
        rc = get_pair(w, meta, "sgad_steps", steps);
        if (rc == 0 && (steps[0] < 1 || steps[0] > 1024))
            rc = bad(w, "steps outside [1, 1024] in", "node/metadata/sgad_steps");
        g->steps = (int)steps[0];
    }
    if (rc == 0 && exists(meta, "sgad_readout")) {
        char r[32];
        rc = get_string(w, meta, "sgad_readout", r, sizeof r);
        if (rc == 0 && strcmp(r, "last_step") == 0)
            g->readout = NIR_READOUT_LAST_STEP;
        else if (rc == 0 && strcmp(r, "time_mean") == 0)
            g->readout = NIR_READOUT_TIME_MEAN;
        else if (rc == 0)
            rc = bad(w, "unknown readout (last_step or time_mean expected):", r);
    }
    H5Gclose(meta);
    return rc;
}

static int index_of(const nir_graph *g, const char *name)
{
    for (int i = 0; i < g->count; i++)
        if (strcmp(g->nodes[i].name, name) == 0)
            return i;
    return -1;
}

/* Orders g's nodes along the edges into the chain Input -> ... -> Output,
 * or says why the graph is not one. */
static int make_chain(const char *path, nir_graph *g, char *const *edges, int64_t n_edges,
                      char *err)
{
    const int n = g->count;
    int *next = malloc((size_t)n * sizeof *next), *indeg = calloc((size_t)n, sizeof *indeg);
    nir_node *order = malloc((size_t)n * sizeof *order);
    int rc = next && indeg && order ? 0 : nir_fail(err, "out of memory");
    for (int i = 0; i < n && !rc; i++)
        next[i] = -1;
    for (int64_t e = 0; e < n_edges && !rc; e++) {
        const int a = index_of(g, edges[2 * e]), b = index_of(g, edges[2 * e + 1]);
        if (a < 0 || b < 0)
            rc = nir_fail(err, "%s: edge %lld names a node that does not exist: '%s'", path,
                          (long long)e, edges[2 * e + (a < 0 ? 0 : 1)]);
        else if (next[a] >= 0 || indeg[b] > 0 || a == b)
            rc = nir_fail(err,
                          "%s: the graph is not a chain at edge '%s' -> '%s' (a libsgad net is a "
                          "sequence of layers: every node needs one input and one output)",
                          path, edges[2 * e], edges[2 * e + 1]);
        else {
            next[a] = b;
            indeg[b]++;
        }
    }
    int input = -1, outputs = 0;
    for (int i = 0; i < n && !rc; i++) {
        if (g->nodes[i].type == NIR_INPUT)
            rc = input >= 0 ? nir_fail(err, "%s: more than one Input node", path) : (input = i, 0);
        outputs += g->nodes[i].type == NIR_OUTPUT;
    }
    if (!rc && (input < 0 || outputs != 1))
        rc = nir_fail(err, "%s: the graph needs exactly one Input and one Output node", path);
    int len = 0;
    for (int i = input; !rc && i >= 0 && len <= n; i = next[i])
        order[len++] = g->nodes[i];
    if (!rc && (len != n || order[len - 1].type != NIR_OUTPUT))
        rc = nir_fail(err,
                      "%s: the edges from the Input reach %d of %d nodes and do not end at the "
                      "Output; a libsgad net is one chain",
                      path, len > n ? n : len, n);
    if (!rc)
        memcpy(g->nodes, order, (size_t)n * sizeof *order);
    free(next);
    free(indeg);
    free(order);
    return rc;
}

static int read_graph(const char *path, hid_t f, nir_graph *g, char *err)
{
    where w = {path, NULL, err};
    if (!exists(f, "node"))
        return nir_fail(err, "%s: no group 'node' (not a NIR file)", path);
    hid_t node = H5Gopen2(f, "node", H5P_DEFAULT);
    if (node < 0)
        return nir_fail(err, "%s: 'node' is not a group (not a NIR file)", path);
    char type[64];
    int rc = get_string(&w, node, "type", type, sizeof type);
    if (rc == 0 && strcmp(type, "NIRGraph") != 0)
        rc = nir_fail(err, "%s: the top node has type '%s', not 'NIRGraph'", path, type);
    hid_t nodes = rc == 0 && exists(node, "nodes") ? H5Gopen2(node, "nodes", H5P_DEFAULT) : -1;
    if (rc == 0 && nodes < 0)
        rc = nir_fail(err, "%s: no group 'node/nodes'", path);
    H5G_info_t info;
    if (rc == 0 && (H5Gget_info(nodes, &info) < 0 || info.nlinks > MAX_NODES))
        rc = nir_fail(err, "%s: node/nodes is unreadable or has over %d nodes", path, MAX_NODES);
    for (hsize_t i = 0; rc == 0 && i < info.nlinks; i++) {
        char name[NIR_NAME_LEN + 1];
        const ssize_t len = H5Lget_name_by_idx(nodes, ".", H5_INDEX_NAME, H5_ITER_INC, i, name,
                                               sizeof name, H5P_DEFAULT);
        if (len < 0 || len >= NIR_NAME_LEN)
            rc = nir_fail(err, "%s: node %llu's name is unreadable or longer than %d bytes", path,
                          (unsigned long long)i, NIR_NAME_LEN - 1);
        else
            rc = read_node(path, nodes, name, g, err);
    }
    char **edges = NULL;
    int64_t edims[SGAD_MAX_DIMS], n_strings = 0;
    int end;
    if (rc == 0)
        rc = get_strings(&w, node, "edges", &end, edims, &edges, &n_strings);
    if (rc == 0 && (end != 2 || edims[1] != 2))
        rc = nir_fail(err, "%s: node/edges must be [E, 2] strings (source, destination)", path);
    if (rc == 0)
        rc = make_chain(path, g, edges, n_strings / 2, err);
    free_strings(edges, n_strings);
    if (rc == 0)
        rc = read_metadata(&w, node, g);
    if (nodes >= 0)
        H5Gclose(nodes);
    H5Gclose(node);
    return rc;
}

int nir_read(const char *path, nir_graph *g, char *err)
{
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    memset(g, 0, sizeof *g);
    if (access(path, R_OK) != 0)
        return nir_fail(err, "%s: cannot read the file", path);
        /* Debian 12's libhdf5 is 1.10, which has H5Fis_hdf5 (deprecated in
     * 1.12 in favour of H5Fis_accessible). */
#if H5_VERSION_GE(1, 12, 0)
    const htri_t is_hdf5 = H5Fis_accessible(path, H5P_DEFAULT);
#else
    const htri_t is_hdf5 = H5Fis_hdf5(path);
#endif
    if (is_hdf5 <= 0)
        return nir_fail(err, "%s: not an HDF5 file", path);
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0)
        return nir_fail(err, "%s: not an HDF5 file, or damaged", path);
    const int rc = read_graph(path, f, g, err);
    H5Fclose(f);
    if (rc < 0)
        nir_graph_free(g);
    return rc;
}
