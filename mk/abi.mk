# SPDX-License-Identifier: MIT
# The ABI guard (docs/abi.md). abi/libsgad.so.MAJOR.abi records the ABI of
# a release, as abidw (Debian's abigail-tools) reads it from the -g build,
# counting only the types of the public headers. check-abi fails when the
# library removes or changes anything in it, then proves the guard on
# throwaway variants (tests/abi_guard.sh). abi-dump rewrites the record.

ABI_RECORD = abi/$(SONAME).abi
ABIDW_FLAGS := --headers-dir include/sgad --drop-private-types --no-corpus-path \
    --no-comp-dir-path --short-locs --type-id-style hash

.PHONY: check-abi abi-dump abi-deps

abi-deps:
	@SGAD_DEPS_EXTRA=abigail-tools sh tools/install-deps.sh

check-abi: abi-deps lib
	sh abi/check.sh $(SHARED) include/sgad abi
	sh tests/abi_guard.sh

abi-dump: abi-deps lib
	abidw $(ABIDW_FLAGS) --out-file $(ABI_RECORD) $(SHARED)
	@echo "abi-dump: wrote $(ABI_RECORD); commit it with the release"

# An installed libsgad used from C and C++ through pkg-config alone, shared
# and static (tests/consumer.sh).
.PHONY: check-consumer
check-consumer: lib
	sh tests/consumer.sh
