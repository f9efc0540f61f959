#!/bin/sh
# SPDX-License-Identifier: MIT
# Compares a built libsgad.so with the recorded ABI of its major version.
#
#   abi/check.sh LIBRARY HEADERS_DIR [RECORD_DIR]
#
# Passes (exit 0) when the library only adds to the record: new functions,
# new enumerators at the end of an enum, changes inside opaque types. Fails
# (exit 1) on anything else abidiff reports: a removed or renamed function,
# a changed parameter, return or enum value. A library whose soname differs
# from the newest record (the major version was bumped) passes with a note:
# its ABI may break, and `make abi-dump` records the new one.
#
# Why not abidiff's "incompatible" bit (8): a changed return type or enum
# value sets only bit 4 (ABI change). So additions are left out of the
# report (--no-added-syms) and then any nonzero status fails, and so does
# any report line counting a removed or changed function or variable, in
# case another abidiff version scores a change differently.
set -u

if [ $# -lt 2 ]; then
    echo "usage: $0 LIBRARY HEADERS_DIR [RECORD_DIR]" >&2
    exit 2
fi
lib=$1
headers=$2
records=${3:-$(dirname "$0")}

fail() {
    echo "check-abi: $*" >&2
    exit 1
}

command -v abidiff >/dev/null 2>&1 ||
    fail "abidiff not found; install Debian's abigail-tools (make deps SGAD_DEPS_EXTRA=abigail-tools)"
[ -f "$lib" ] || fail "no library at $lib; build it first (make lib)"
readelf -S "$lib" | grep -q '\.debug_info' ||
    fail "$lib has no debug information; build it with -g (the default CFLAGS has it)"

soname=$(readelf -d "$lib" | sed -n 's/.*Library soname: \[\(.*\)\].*/\1/p')
[ -n "$soname" ] || fail "$lib has no soname"

# The record of this soname, or else the newest record of an older one.
record="$records/$soname.abi"
if [ ! -f "$record" ]; then
    newest=$(ls "$records"/libsgad.so.*.abi 2>/dev/null | sort -V | tail -n 1)
    [ -n "$newest" ] || fail "no ABI record in $records; create one with make abi-dump"
    recorded=$(sed -n "1s/.*soname='\([^']*\)'.*/\1/p" "$newest")
    if [ "$recorded" != "$soname" ]; then
        echo "check-abi: soname $soname differs from the record's $recorded ($newest):" \
             "the major version was bumped, so the ABI may break." \
             "Record the new ABI with make abi-dump."
        exit 0
    fi
    record=$newest
fi

report=$(abidiff --no-added-syms --hd2 "$headers" "$record" "$lib" 2>&1)
status=$?
if [ $status -ne 0 ] ||
   printf '%s\n' "$report" | grep -Eq '(^|[^0-9])[1-9][0-9]* (Removed|Changed)'; then
    printf '%s\n' "$report" >&2
    fail "$lib breaks the ABI recorded in $record (abidiff status $status)." \
         "Keep the old declarations (add new functions instead), or bump" \
         "SGAD_VERSION_MAJOR in include/sgad/version.h and run make abi-dump (docs/abi.md)."
fi
echo "check-abi: $lib keeps the ABI of $record (additions only)"
