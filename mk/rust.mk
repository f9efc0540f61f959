# The Rust bindings (bindings/rust, docs/guide-rust.md): sgad-sys, whose
# FFI declarations bindgen generates from include/sgad at build time, and
# the safe crate sgad. check-rust builds and tests both against the in-tree
# library, offline, from the crates Debian installs under
# /usr/share/cargo/registry, with Debian's cargo and rustc: CI needs no
# rustup and no network. The rustup toolchain works too:
#   make check-rust RUST_CARGO=cargo RUST_RUSTC=rustc RUST_RUSTDOC=rustdoc
# Cargo's output goes to build/rust (the lock file it writes is ignored:
# a crates.io lock would not match the directory registry's checksums).

RUST_DEBS := cargo rustc librust-libc-dev librust-pkg-config-dev librust-bindgen-dev bindgen
RUST_CARGO ?= /usr/bin/cargo
RUST_RUSTC ?= /usr/bin/rustc
RUST_RUSTDOC ?= /usr/bin/rustdoc
RUST_REGISTRY ?= /usr/share/cargo/registry
RUST_TARGET ?= $(CURDIR)/build/rust
RUST_OFFLINE = --offline --config 'source.crates-io.replace-with="debian"' \
    --config 'source.debian.directory="$(RUST_REGISTRY)"'
# The in-tree library, found at build time (sgad-sys/build.rs) and at run time.
RUST_ENV = SGAD_LIB_DIR=$(CURDIR)/$(LIBOUT) SGAD_INCLUDE_DIR=$(CURDIR)/include \
    LD_LIBRARY_PATH=$(CURDIR)/$(LIBOUT)$${LD_LIBRARY_PATH:+:$$LD_LIBRARY_PATH} \
    RUSTC=$(RUST_RUSTC) RUSTDOC=$(RUST_RUSTDOC)

.PHONY: check-rust rust-deps

rust-deps:
	@SGAD_DEPS_EXTRA="$(RUST_DEBS)" sh tools/install-deps.sh

check-rust: rust-deps lib
	cd bindings/rust && $(RUST_ENV) $(RUST_CARGO) test $(RUST_OFFLINE) --workspace \
	    --target-dir $(RUST_TARGET)
