/* SPDX-License-Identifier: MIT */
/* The part of NIR (the Neuromorphic Intermediate Representation) that
 * sgad-nir reads and writes, held in memory as a chain of nodes from the
 * graph's one Input to its one Output: a libsgad net is a sequence of
 * layers, so a chain is exactly what both directions need. The HDF5 file
 * layout is in nir_hdf5.c and docs/nir.md; the mapping to and from libsgad
 * layers in nir_export.c and nir_import.c.
 *
 * Invariants of a graph the readers and nir_from_net produce: nodes[0] is
 * the Input, nodes[count - 1] the Output, nothing else is either; every
 * array is owned by its node; names are unique. */
#ifndef SGAD_NIR_GRAPH_H
#define SGAD_NIR_GRAPH_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <sgad/sgad.h>

/* Room for an error message; an export that refuses several layers lists
 * them all, one a line. */
#define NIR_ERR_LEN 4096
#define NIR_NAME_LEN 64

/* The node types sgad-nir speaks, by their NIR type strings. */
typedef enum nir_type {
    NIR_INPUT,
    NIR_OUTPUT,
    NIR_AFFINE,
    NIR_LINEAR,
    NIR_CONV2D,
    NIR_LIF,
    NIR_IF,
    NIR_LI,
    NIR_AVGPOOL2D,
    NIR_FLATTEN,
    NIR_SCALE,
    NIR_TYPE_COUNT
} nir_type;

typedef struct nir_node {
    char name[NIR_NAME_LEN];
    nir_type type;
    /* Affine, Linear: weight [out, in]; Conv2d: [out, in, kh, kw]. */
    float *weight;
    int wndim;
    int64_t wdims[4];
    float *bias; /* Affine, Conv2d: wdims[0] values */
    /* Conv2d (stride, padding, dilation, groups) and AvgPool2d (kernel,
     * stride, padding), as (height, width) pairs. */
    int64_t kernel[2], stride[2], padding[2], dilation[2], groups;
    /* Neurons and Scale: libsgad has one value per layer, so a node read
     * from a file is accepted only if its arrays hold one value each. */
    float tau, r, v_leak, v_threshold, v_reset, scale;
    /* The shape of one sample: Input and Output `shape`; the neurons' and
     * Scale's parameter arrays; Conv2d's input [C, H, W] (its
     * input_shape is dims[1..2]); Flatten's input_type. has_dims is 0 when
     * a file leaves an optional shape out. */
    int ndim, has_dims;
    int64_t dims[SGAD_MAX_DIMS];
    int64_t start_dim, end_dim; /* Flatten */
} nir_node;

/* libsgad's time handling around the per-step graph, which NIR has no node
 * for; written as the graph's metadata (sgad_steps, sgad_readout). */
typedef enum nir_readout {
    NIR_READOUT_NONE,
    NIR_READOUT_LAST_STEP,
    NIR_READOUT_TIME_MEAN
} nir_readout;

typedef struct nir_graph {
    nir_node *nodes;
    int count, cap;
    int steps;           /* > 0: the net starts with repeat(steps) */
    nir_readout readout; /* what the net keeps of the Output's steps */
} nir_graph;

/* The NIR type string of t ("LIF"), or NULL. */
const char *nir_type_name(nir_type t);
/* The type whose string is s, or NIR_TYPE_COUNT. */
nir_type nir_type_from_name(const char *s);
/* The readout's metadata text ("last_step"), "" for none. */
const char *nir_readout_name(nir_readout r);

/* Appends a zeroed node of type t named name: the node, or NULL with err
 * written (out of memory, name too long). */
nir_node *nir_graph_add(nir_graph *g, nir_type t, const char *name, char *err);
void nir_graph_free(nir_graph *g);
/* Writes fmt into err (NIR_ERR_LEN bytes) and returns -1. */
int nir_fail(char *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Product of dims[0..ndim), or -1 past 2^40 elements. */
int64_t nir_numel(int ndim, const int64_t *dims);

/* nir_hdf5.c: the file. write: 0, or -1 with err; the file appears whole
 * or not at all (written under a temporary name and renamed). */
int nir_write(const nir_graph *g, const char *path, char *err);
/* read: a chain of the supported types, or -1 with err naming the file,
 * the node and what is wrong. */
int nir_read(const char *path, nir_graph *g, char *err);

/* nir_export.c: the libsgad net as NIR nodes, with eval-mode batch norm
 * folded into the layer before it. The net takes [T_in, N, sample...]
 * (T_in = 1 when it starts with repeat). Refusals are collected, one
 * line per layer, so one run names every layer that cannot be written. */
int nir_from_net(sgad_net *net, int sample_ndim, const int64_t *sample_dims, nir_graph *g,
                 char *err);

/* nir_import.c: the libsgad net a graph describes; one line per layer made
 * is printed to `log` when not NULL. */
int nir_to_net(const nir_graph *g, sgad_ctx *ctx, sgad_net **out, FILE *log, char *err);

#endif
