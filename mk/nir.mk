# SPDX-License-Identifier: MIT
# sgad-nir (programs/sgad-nir.c, programs/nir/): NIR graphs in HDF5 files,
# read and written with Debian's libhdf5 (libhdf5-dev), which only this
# program links; the library's dependencies stay as they are. Built by
# default like the other programs, so CI always builds and tests it
# (docs/nir.md says why C and libhdf5 rather than Python's h5py).
PROGRAMS += sgad-nir
NIR_SRCS := $(sort $(wildcard programs/nir/*.c))
HDF5_CFLAGS = $(shell pkg-config --cflags hdf5 2>/dev/null || echo -I/usr/include/hdf5/serial)
HDF5_LIBS = $(shell pkg-config --libs hdf5 2>/dev/null || \
    echo -L/usr/lib/x86_64-linux-gnu/hdf5/serial -lhdf5)

# Its own rule (an explicit rule wins over programs/%'s pattern): the
# support files and libhdf5's flags.
$(BUILD)/programs/sgad-nir: programs/sgad-nir.c $(NIR_SRCS) programs/nir/nir_graph.h programs/cli.h \
    $(SHARED)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(HDF5_CFLAGS) -o $@ programs/sgad-nir.c $(NIR_SRCS) -L$(LIBOUT) \
	    $(PROGRAM_RPATH) -lsgad $(HDF5_LIBS) -lm
