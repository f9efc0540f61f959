# SPDX-License-Identifier: MIT
# libsgad build. `make` builds lib/libsgad.so.X.Y.Z, its links and
# lib/libsgad.a from the same PIC objects; `make check` runs the Check suite.
# Sanitizer builds go to their own directories (make check-asan).

VERSION_H := include/sgad/version.h
MAJOR := $(shell sed -n 's/^\#define SGAD_VERSION_MAJOR \([0-9]*\)/\1/p' $(VERSION_H))
MINOR := $(shell sed -n 's/^\#define SGAD_VERSION_MINOR \([0-9]*\)/\1/p' $(VERSION_H))
PATCH := $(shell sed -n 's/^\#define SGAD_VERSION_PATCH \([0-9]*\)/\1/p' $(VERSION_H))
VERSION := $(MAJOR).$(MINOR).$(PATCH)

PREFIX ?= /usr/local
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
DESTDIR ?=

CC ?= cc
OPT ?= -O3 -march=x86-64-v2
CFLAGS ?= $(OPT) -g
WARN := -std=c11 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes
SAN ?=
BUILD ?= build/release
LIBOUT ?= lib

ALL_CFLAGS = $(WARN) $(CFLAGS) $(SAN) -D_POSIX_C_SOURCE=200809L -Iinclude -Isrc -fopenmp
# -fno-math-errno: no libsgad code reads errno after a math call, and with
# it sqrtf is the instruction alone, so loops using it vectorise (the
# optimizer's). The values are the same: sqrt is exactly rounded.
# -ffp-contract=off: no multiply-add is fused, whatever the C dialect or
# target, so the AVX2 clones of the hot loops (src/isa.h) give the
# baseline's bits. ISA_CLONES=0 builds every function for the baseline only.
ISA_CLONES ?= 1
LIB_CFLAGS = $(ALL_CFLAGS) -fno-math-errno -ffp-contract=off -fPIC -fvisibility=hidden -DSGAD_BUILDING \
    $(if $(filter 0,$(ISA_CLONES)),-DSGAD_NO_TARGET_CLONES)
LIB_LIBS := -lblis -llapack -ljansson -lpng -lz -lm -lpthread -fopenmp

SRCS := $(wildcard src/*/*.c)
OBJS := $(SRCS:src/%.c=$(BUILD)/obj/%.o)

SONAME := libsgad.so.$(MAJOR)
SHARED := $(LIBOUT)/libsgad.so.$(VERSION)
STATIC := $(LIBOUT)/libsgad.a

CHECK_LIBS = $(shell pkg-config --libs check 2>/dev/null || echo -lcheck_pic -lsubunit -lrt -lm)
TEST_SRCS := $(wildcard tests/*.c tests/unit/*/*.c)
# Library sources the tests compile in to test them alone (pure functions;
# the library's own copies are hidden), and the programs' parts they test
# the same way (the JSON-lines writer, with jansson).
TEST_LIB_SRCS := src/net/plan.c programs/jsonl.c
TEST_BIN := $(BUILD)/tests/check_sgad
# Programs the tests run as child processes (crash and fault tests).
TEST_HELPERS = $(BUILD)/tests/ckpt_helper $(BUILD)/tests/libfaultio.so $(PROGRAM_BINS)
TEST_ENV = SGAD_TEST_DIR=$(CURDIR)/tests SGAD_TEST_BIN=$(CURDIR)/$(BUILD)/tests \
    SGAD_TEST_PROGRAMS=$(CURDIR)/$(BUILD)/programs
BENCH_BIN := $(BUILD)/bench/bench_layers $(BUILD)/bench/sgad-bench
DEMO_BIN := $(BUILD)/examples/demo_layers
PROGRAMS := sgad-train sgad-sample sgad-inspect
PROGRAM_BINS = $(PROGRAMS:%=$(BUILD)/programs/%)
# Sources a program links besides programs/NAME.c: sgad-train's serial
# implementation of programs/parallel.h (the MPI build links mpi/sgad_mpi.c)
# and the JSON-lines writer (programs/jsonl.c, with jansson).
PROGRAM_SRCS_sgad-train := programs/parallel_serial.c programs/jsonl.c

# One fragment per optional concern (bindings, ABI guard, docs, metrics):
# each may add to PROGRAMS and define its own targets. Included here, before
# the rules that list PROGRAMS, so their additions are built and installed.
.DEFAULT_GOAL := all
include $(sort $(wildcard mk/*.mk))

.PHONY: all lib check check-format format check-includes check-spdx analyze check-asan asan-run check-same-bits check-valgrind check-headers bench demo deps clean \
        install install-strip uninstall fixtures check-fixtures fuzz check-tools demo-layers mpi check-mpi check-python check-python-install

all: lib $(DEMO_BIN) $(BENCH_BIN) $(PROGRAM_BINS)

lib: $(SHARED) $(STATIC)

$(BUILD)/obj/%.o: src/%.c
	@mkdir -p $(@D)
	$(CC) $(LIB_CFLAGS) -MMD -MP -c $< -o $@

$(SHARED): $(OBJS) sgad.map
	@mkdir -p $(@D)
	$(CC) -shared $(SAN) -Wl,-soname,$(SONAME) -Wl,--version-script=sgad.map -Wl,--no-undefined \
	    -o $@ $(OBJS) $(LIB_LIBS)
	ln -sf libsgad.so.$(VERSION) $(LIBOUT)/$(SONAME)
	ln -sf $(SONAME) $(LIBOUT)/libsgad.so

$(STATIC): $(OBJS)
	@mkdir -p $(@D)
	rm -f $@
	ar rcs $@ $(OBJS)

# Tests link the shared library from the tree through an rpath. The list of
# suites is collected from the test files, so adding a test file needs no
# other edit.
$(BUILD)/tests/suites.inc: $(TEST_SRCS)
	@mkdir -p $(@D)
	sed -n 's/^Suite \*\(suite_[a-z0-9_]*\)(void)$$/SGAD_SUITE(\1)/p' $(TEST_SRCS) > $@

$(TEST_BIN): $(TEST_SRCS) $(TEST_LIB_SRCS) tests/*.h programs/jsonl.h $(BUILD)/tests/suites.inc $(SHARED)
	$(CC) $(ALL_CFLAGS) -Wno-missing-prototypes -D_DEFAULT_SOURCE -I$(BUILD)/tests -Itests \
	    -Iprograms -o $@ $(TEST_SRCS) $(TEST_LIB_SRCS) \
	    -L$(LIBOUT) -Wl,-rpath,$(CURDIR)/$(LIBOUT) -lsgad $(CHECK_LIBS) -ljansson -lz -lm

$(BUILD)/tests/ckpt_helper: tests/helpers/ckpt_helper.c tests/tiny_gan.c tests/tiny_gan.h $(SHARED)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -Itests -o $@ tests/helpers/ckpt_helper.c tests/tiny_gan.c \
	    -L$(LIBOUT) -Wl,-rpath,$(CURDIR)/$(LIBOUT) -lsgad -lm

# The fault shim is never sanitised: it sits in front of libc for the helper.
$(BUILD)/tests/libfaultio.so: tests/helpers/fault_io.c
	@mkdir -p $(@D)
	$(CC) -std=c11 -Wall -Wextra -Werror -O2 -fPIC -shared -o $@ $< -ldl

check: deps lib $(TEST_BIN) $(TEST_HELPERS) check-headers check-format check-includes check-spdx
	$(TEST_ENV) $(TEST_BIN)

# Every C file of ours formatted as .clang-format says (Debian's
# clang-format 14; other versions break some lines differently).
FORMAT_FILES = $(sort $(wildcard src/*/*.[ch] include/sgad/*.h programs/*.[ch] programs/*/*.[ch] \
    examples/*.c bench/*.c tests/*.[ch] tests/*/*.[ch] tests/unit/*/*.c))
check-format:
	@command -v clang-format >/dev/null || { echo "check-format: clang-format not found; apt-get install clang-format" >&2; exit 1; }
	@clang-format --dry-run --Werror $(FORMAT_FILES)
	@echo "format: $(words $(FORMAT_FILES)) files as .clang-format says"

format:
	clang-format -i $(FORMAT_FILES)

check-headers:
	sh tests/headers.sh

# The layering of src/ (src/README.md): each folder includes only its own
# headers and those of the folders below it.
check-includes:
	sh tools/check-includes.sh src

# Every source file names its licence (MIT) in its first lines.
check-spdx:
	@sh tools/check-spdx.sh

# clang-tidy 14 over the library's sources with the library's flags; the
# checks, their thresholds and what is switched off (and why) are in
# .clang-tidy. Any finding fails; clang's own "N warnings generated" lines
# (suppressed ones) go to $(BUILD)/analyze.log.
analyze:
	@command -v clang-tidy >/dev/null || { echo "analyze: clang-tidy not found; apt-get install clang-tidy" >&2; exit 1; }
	@mkdir -p $(BUILD)
	@clang-tidy --quiet $(SRCS) -- $(LIB_CFLAGS) 2>$(BUILD)/analyze.log || \
	    { grep -v 'warnings generated' $(BUILD)/analyze.log >&2; exit 1; }
	@echo "analyze: clang-tidy (.clang-tidy) finds nothing in $(words $(SRCS)) files"

# The Python bindings (Debian's python3-numpy and python3-pytest).
# It includes the install flow (tests/test_install.py, a few seconds).
check-python: lib
	SGAD_LIBRARY=$(CURDIR)/$(LIBOUT)/libsgad.so.1 /usr/bin/python3 -m pytest -q bindings/python/tests

# Only the pip install flow: a venv with --system-site-packages, pip install
# --no-build-isolation --no-index of bindings/python, imports that find
# libsgad through SGAD_LIBRARY and pkg-config.
check-python-install: lib
	SGAD_LIBRARY=$(CURDIR)/$(LIBOUT)/libsgad.so.1 /usr/bin/python3 -m pytest -q bindings/python/tests/test_install.py

# The PyTorch converter's round trip (needs Debian's python3-torch).
check-tools: lib $(TEST_HELPERS)
	$(TEST_ENV) sh tests/test_tools.sh

# The ASan build is also the baseline build: without the AVX2 clones, so
# that the suite runs each hot loop's baseline version too (the default
# build runs the clones on an AVX2 machine).
ASAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
ASAN_MAKE = BUILD=build/asan LIBOUT=build/asan/lib OPT=-O1 ISA_CLONES=0 SAN="$(ASAN_FLAGS)"
check-asan: deps
	$(MAKE) $(ASAN_MAKE) \
	    build/asan/tests/check_sgad build/asan/tests/ckpt_helper build/asan/tests/libfaultio.so \
	    $(PROGRAMS:%=build/asan/programs/%)
	$(MAKE) --no-print-directory BUILD=build/asan asan-run

# One run in the test process itself (CK_FORK=no), so LeakSanitizer sees
# every test's allocations; the crash tests fork their own children.
asan-run:
	$(TEST_ENV) CK_FORK=no ASAN_OPTIONS=detect_leaks=1 CK_TIMEOUT_MULTIPLIER=4 \
	    build/asan/tests/check_sgad

# One SGAD training (28x28, T 16, batch 16, 3 iterations) from this build
# (-O3, AVX2 clones where the CPU has AVX2) and from the ASan build (-O1,
# no clones): the checkpoints must be equal byte for byte (src/isa.h).
check-same-bits: deps lib $(BUILD)/tests/ckpt_helper
	$(MAKE) --no-print-directory $(ASAN_MAKE) build/asan/tests/ckpt_helper
	$(BUILD)/tests/ckpt_helper train-sized 16 16 2 3 $(BUILD)/tests/same-bits.ckpt
	build/asan/tests/ckpt_helper train-sized 16 16 2 3 build/asan/tests/same-bits.ckpt
	cmp $(BUILD)/tests/same-bits.ckpt build/asan/tests/same-bits.ckpt
	@echo "same bits: the -O3 build (AVX2 clones) and the -O1 baseline build train alike"

# --fair-sched=yes: valgrind runs one thread at a time, and without a fair
# lock a thread waiting at a BLIS or OpenMP barrier spins through its whole
# time slice (a 2-thread linear layer's backward: 92 s, 0.5 s with it).
check-valgrind: deps lib $(TEST_BIN) $(TEST_HELPERS)
	$(TEST_ENV) CK_FORK=no CK_TIMEOUT_MULTIPLIER=20 SGAD_TEST_SKIP_SLOW=1 \
	    valgrind --fair-sched=yes --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect \
	    --suppressions=tests/valgrind.supp $(TEST_BIN)

$(BUILD)/bench/%: bench/%.c $(SHARED)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -D_DEFAULT_SOURCE -o $@ $< -L$(LIBOUT) -Wl,-rpath,$(CURDIR)/$(LIBOUT) \
	    -lsgad -lblis -lm

# The installed programs (and sgad-train-mpi) find the library through a
# RUNPATH relative to their own directory ($$ORIGIN), so the binaries make
# builds are the ones make install copies: first the path from BINDIR to
# LIBDIR (installed: /usr/bin -> ../lib), then the path from the program's
# build directory to LIBOUT (in the tree: ../../../lib). No absolute
# build-tree path is recorded. BINDIR and LIBDIR are read when the programs
# are linked: if they are not siblings under one prefix (../lib), give them
# to make as well as to make install.
relpath = $(shell realpath -m --relative-to=$(1) $(2))
PROGRAM_RPATH = -Wl,-rpath,'$$ORIGIN/$(call relpath,$(BINDIR),$(LIBDIR))' \
    -Wl,-rpath,'$$ORIGIN/$(call relpath,$(@D),$(LIBOUT))'

$(PROGRAM_BINS): programs/cli.h programs/jsonl.h
$(BUILD)/programs/sgad-train: programs/parallel.h $(PROGRAM_SRCS_sgad-train)
$(BUILD)/programs/%: programs/%.c $(SHARED)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(PROGRAM_SRCS_$*) -L$(LIBOUT) $(PROGRAM_RPATH) -lsgad -ljansson -lm

$(BUILD)/examples/%: examples/%.c $(SHARED)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -o $@ $< -L$(LIBOUT) -Wl,-rpath,$(CURDIR)/$(LIBOUT) -lsgad -lm

# One table of whole SGAD iterations, fresh and continuing the trained
# state of mk/bench.mk's bench-checkpoint (bench/table.py; mk/bench.mk has
# the per-layer bench and the comparison with PyTorch).
bench: deps $(BENCH_BIN) $(BENCH_CKPT)
	$(PYTHON) bench/table.py --bin $(BUILD)/bench/sgad-bench --iters $(BENCH_ITERS) \
	    --checkpoint $(BENCH_CKPT) --data $(BENCH_DATA) $(BENCH_ARGS)

# The README's first command: SGAD on Debian's Fashion-MNIST for about ten
# minutes on 2 cores (batch 32, T 8 to get a few hundred iterations in that
# budget), writing demo-out/samples.png, a JSON-lines log and checkpoints.
DEMO_DATA := /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz
demo:
	@SGAD_DEPS_EXTRA=dataset-fashion-mnist sh tools/install-deps.sh
	$(MAKE) --no-print-directory lib $(PROGRAM_BINS)
	$(BUILD)/programs/sgad-train --model sgad --data $(DEMO_DATA) --batch 32 --steps 8 \
	    --iters 100000 --time-limit 540 --threads 2 --sample-every 50 --checkpoint-every 100 \
	    --out demo-out

# The spiking CNN of the first milestone, on synthetic bars.
demo-layers: deps $(DEMO_BIN)
	$(DEMO_BIN)

# libFuzzer targets (clang): the library sources, compiled once with ASan,
# UBSan and the fuzzer's coverage, linked into each target; each runs
# FUZZ_SECONDS on a corpus seeded with valid files, FUZZ_JOBS targets at a
# time (tests/fuzz/run.sh). A finding leaves a crash-* file and fails.
FUZZ_SECONDS ?= 60
FUZZ_JOBS ?= 2
FUZZ_TARGETS := checkpoint idx cifar png npy
FUZZ_CFLAGS := -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
    -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE \
    -Iinclude -Isrc -Itests
FUZZ_OBJS := $(SRCS:src/%.c=build/fuzz/obj/%.o)

FUZZ_LIBS := -lblis -llapack -ljansson -lpng -lz -lm -lpthread
build/fuzz/obj/%.o: src/%.c
	@mkdir -p $(@D)
	clang $(FUZZ_CFLAGS) -MMD -MP -c $< -o $@

build/fuzz/fuzz_checkpoint: tests/fuzz/fuzz_checkpoint.c $(FUZZ_OBJS) tests/tiny_gan.c
	@mkdir -p $(@D)
	clang $(FUZZ_CFLAGS) -o $@ $< tests/tiny_gan.c $(FUZZ_OBJS) $(FUZZ_LIBS)

# One binary per data reader from the same source.
build/fuzz/fuzz_idx build/fuzz/fuzz_cifar build/fuzz/fuzz_png: tests/fuzz/fuzz_data.c $(FUZZ_OBJS)
	@mkdir -p $(@D)
	clang $(FUZZ_CFLAGS) -DSGAD_FUZZ_FORMAT=$(FUZZ_FORMAT_$(@F)) -o $@ $< $(FUZZ_OBJS) \
	    $(FUZZ_LIBS)

# The float-matrix reader (similarity.h), seeded by tests/fuzz/seeds_npy.py.
build/fuzz/fuzz_npy: tests/fuzz/fuzz_npy.c $(FUZZ_OBJS)
	@mkdir -p $(@D)
	clang $(FUZZ_CFLAGS) -o $@ $< $(FUZZ_OBJS) $(FUZZ_LIBS)

build/fuzz/corpus/npy: tests/fuzz/seeds_npy.py
	/usr/bin/python3 tests/fuzz/seeds_npy.py build/fuzz/corpus

FUZZ_FORMAT_fuzz_idx := SGAD_DATA_IDX
FUZZ_FORMAT_fuzz_cifar := SGAD_DATA_CIFAR10
FUZZ_FORMAT_fuzz_png := SGAD_DATA_PNG

build/fuzz/corpus/checkpoint: $(BUILD)/tests/ckpt_helper
	@mkdir -p $@
	$(BUILD)/tests/ckpt_helper seed $@/seed-tiny.safetensors

# Seeds for the data readers: small valid files in each format.
build/fuzz/corpus/idx build/fuzz/corpus/cifar build/fuzz/corpus/png: tests/fuzz/seeds.py
	/usr/bin/python3 tests/fuzz/seeds.py build/fuzz/corpus

fuzz: deps $(FUZZ_TARGETS:%=build/fuzz/fuzz_%) $(FUZZ_TARGETS:%=build/fuzz/corpus/%)
	sh tests/fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_JOBS) $(FUZZ_TARGETS)

# The optional MPI layer (Debian's libopenmpi-dev): sgad-train linked with
# the MPI implementation of programs/parallel.h, for data-parallel
# training; the library itself never links MPI.
MPICC ?= mpicc
MPI_BIN := $(BUILD)/mpi/sgad-train-mpi
$(MPI_BIN): programs/sgad-train.c programs/cli.h programs/parallel.h programs/mpi/sgad_mpi.c \
    programs/jsonl.c programs/jsonl.h $(SHARED)
	@command -v $(MPICC) >/dev/null || { echo "make mpi: $(MPICC) not found; apt-get install libopenmpi-dev openmpi-bin" >&2; exit 1; }
	@mkdir -p $(@D)
	$(MPICC) $(ALL_CFLAGS) -o $@ programs/sgad-train.c programs/mpi/sgad_mpi.c programs/jsonl.c \
	    -L$(LIBOUT) $(PROGRAM_RPATH) -lsgad -ljansson -lm

mpi: lib $(MPI_BIN)

check-mpi: mpi $(TEST_HELPERS)
	$(TEST_ENV) SGAD_MPI_BIN=$(CURDIR)/$(MPI_BIN) sh tests/test_mpi.sh

# Installs the Debian packages the build and tests need, if any is missing.
deps:
	@sh tools/install-deps.sh

# Regenerates every golden fixture (needs Debian's python3-torch and
# python3-scipy): the layers', the whole models' and the Fréchet distance's.
FIXTURE_GENERATORS = tests/gen_fixtures.py tests/gen_model_fixtures.py tests/gen_metrics_fixtures.py \
    tests/gen_similarity_fixtures.py
fixtures:
	for gen in $(FIXTURE_GENERATORS); do /usr/bin/python3 $$gen tests/fixtures || exit 1; done

# Regenerates them into build/fixtures-regen and compares with the
# committed ones: same files and arrays, inputs bitwise, computed values
# within their float32 error (tests/fixtures_diff.py explains the rule).
check-fixtures:
	rm -rf build/fixtures-regen
	for gen in $(FIXTURE_GENERATORS); do \
	    /usr/bin/python3 $$gen build/fixtures-regen || exit 1; done
	/usr/bin/python3 tests/fixtures_diff.py tests/fixtures build/fixtures-regen

sgad.pc: sgad.pc.in $(VERSION_H) FORCE
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' \
	    -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|' -e 's|@VERSION@|$(VERSION)|' $< > $@

FORCE:

# Installs what make built: the library, headers, pkg-config file, the
# programs of $(BUILD)/programs (their RUNPATH is relative, see
# PROGRAM_RPATH), sgad-train-mpi if make mpi built it, and the man pages.
install: lib $(PROGRAM_BINS) sgad.pc install-man
	install -d $(DESTDIR)$(LIBDIR)/pkgconfig $(DESTDIR)$(INCLUDEDIR)/sgad
	install -m 644 include/sgad/*.h $(DESTDIR)$(INCLUDEDIR)/sgad/
	install -m 755 $(SHARED) $(DESTDIR)$(LIBDIR)/
	ln -sf libsgad.so.$(VERSION) $(DESTDIR)$(LIBDIR)/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(LIBDIR)/libsgad.so
	install -m 644 $(STATIC) $(DESTDIR)$(LIBDIR)/
	install -m 644 sgad.pc $(DESTDIR)$(LIBDIR)/pkgconfig/
	install -d $(DESTDIR)$(BINDIR)
	install -m 755 $(PROGRAM_BINS) $(DESTDIR)$(BINDIR)/
	if [ -f $(MPI_BIN) ]; then install -m 755 $(MPI_BIN) $(DESTDIR)$(BINDIR)/; fi

install-strip: install
	strip --strip-unneeded $(DESTDIR)$(LIBDIR)/libsgad.so.$(VERSION)

uninstall: uninstall-man
	rm -f $(DESTDIR)$(LIBDIR)/libsgad.so.$(VERSION) $(DESTDIR)$(LIBDIR)/$(SONAME) \
	    $(DESTDIR)$(LIBDIR)/libsgad.so $(DESTDIR)$(LIBDIR)/libsgad.a \
	    $(DESTDIR)$(LIBDIR)/pkgconfig/sgad.pc $(PROGRAMS:%=$(DESTDIR)$(BINDIR)/%) \
	    $(DESTDIR)$(BINDIR)/sgad-train-mpi
	rm -rf $(DESTDIR)$(INCLUDEDIR)/sgad

clean:
	rm -rf build lib sgad.pc

-include $(OBJS:.o=.d) $(FUZZ_OBJS:.o=.d)
