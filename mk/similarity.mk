# SPDX-License-Identifier: MIT
# sgad-similarity (programs/sgad-similarity.c): a checkpoint's layers
# against recorded brain areas with the measures of similarity.h, and two
# recorded matrices against each other (docs/similarity.md). Built,
# installed and run by the tests like the other programs.
PROGRAMS += sgad-similarity
