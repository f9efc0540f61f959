/* SPDX-License-Identifier: MIT */
/* Event-driven products: matrix products whose left operand is sparse, as
 * spike trains are (a few percent of LIF outputs are 1). The operand is
 * first listed as its nonzero values ("events"); the products then do work
 * only for those, so their cost follows the number of spikes rather than
 * the operand's size. This header holds the listing step every product
 * shares; the products are in event_tiles.h (linear), spike_trains.h,
 * conv_events.h and convt_events.h, their weight operand's panel form in
 * panels.h and the choice between them and the dense products in
 * path_choice.h. */
#ifndef SGAD_NONZEROS_H
#define SGAD_NONZEROS_H

#include <stdint.h>

/* Writes the positions of the nonzero values of x[0..n) (n < 2^31), in
 * order, to index and returns their count: the listing step of every
 * event path. Tests blocks of 8 values at once, since most blocks of a
 * sparse spike input are all zero. */
int64_t sgad__nonzero_positions(const float *x, int64_t n, int32_t *index);

#endif /* SGAD_NONZEROS_H */
