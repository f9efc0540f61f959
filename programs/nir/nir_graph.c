/* SPDX-License-Identifier: MIT */
/* The in-memory graph's bookkeeping: type names, nodes, errors. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nir_graph.h"

/* Indexed by nir_type; the strings are NIR's class names, which its
 * files store in each node's `type` dataset. */
static const char *const type_names[NIR_TYPE_COUNT] = {"Input",     "Output",  "Affine", "Linear",
                                                       "Conv2d",    "LIF",     "IF",     "LI",
                                                       "AvgPool2d", "Flatten", "Scale"};

const char *nir_type_name(nir_type t)
{
    return t >= 0 && t < NIR_TYPE_COUNT ? type_names[t] : NULL;
}

nir_type nir_type_from_name(const char *s)
{
    for (int t = 0; t < NIR_TYPE_COUNT; t++)
        if (strcmp(type_names[t], s) == 0)
            return (nir_type)t;
    return NIR_TYPE_COUNT;
}

const char *nir_readout_name(nir_readout r)
{
    switch (r) {
    case NIR_READOUT_LAST_STEP: return "last_step";
    case NIR_READOUT_TIME_MEAN: return "time_mean";
    case NIR_READOUT_NONE: break;
    }
    return "";
}

int nir_fail(char *err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, NIR_ERR_LEN, fmt, ap);
    va_end(ap);
    return -1;
}

int64_t nir_numel(int ndim, const int64_t *dims)
{
    int64_t n = 1;
    for (int d = 0; d < ndim; d++) {
        if (dims[d] < 1 || dims[d] > ((int64_t)1 << 40) / n)
            return -1;
        n *= dims[d];
    }
    return n;
}

nir_node *nir_graph_add(nir_graph *g, nir_type t, const char *name, char *err)
{
    if (strlen(name) >= NIR_NAME_LEN) {
        nir_fail(err, "node name '%.40s...' is longer than %d bytes", name, NIR_NAME_LEN - 1);
        return NULL;
    }
    if (g->count == g->cap) {
        const int cap = g->cap ? 2 * g->cap : 16;
        nir_node *n = realloc(g->nodes, (size_t)cap * sizeof *n);
        if (!n) {
            nir_fail(err, "out of memory");
            return NULL;
        }
        g->nodes = n;
        g->cap = cap;
    }
    nir_node *n = &g->nodes[g->count++];
    memset(n, 0, sizeof *n);
    snprintf(n->name, sizeof n->name, "%s", name);
    n->type = t;
    n->groups = 1;
    n->dilation[0] = n->dilation[1] = 1;
    return n;
}

void nir_graph_free(nir_graph *g)
{
    for (int i = 0; i < g->count; i++) {
        free(g->nodes[i].weight);
        free(g->nodes[i].bias);
    }
    free(g->nodes);
    memset(g, 0, sizeof *g);
}
