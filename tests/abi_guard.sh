#!/bin/sh
# SPDX-License-Identifier: MIT
# Proves the ABI guard (abi/check.sh) both ways: builds variants of the
# library from patched copies of the tree in a temporary directory (the
# tree itself is never touched) and checks each against the recorded ABI.
#
#   must pass: an added function in a new version node and an enumerator
#              appended to an enum; a new field inside an opaque struct;
#              a removed function together with a bumped major version
#   must fail: a renamed (so removed) function; a changed enum value; a
#              parameter whose type changed from double to float; a function
#              moved from node SGAD_1.0 to a new node
#
# Each patch is checked to have changed the copy, so a variant can never
# silently be the unchanged library.
set -eu
cd "$(dirname "$0")/.."
tree=$(pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# The variants are built by a make of their own, not the caller's.
unset MAKEFLAGS MFLAGS MAKELEVEL || true

# A copy of what the library is built from.
cp -r include src sgad.map Makefile "$tmp/"
mkdir "$tmp/base"
mv "$tmp/include" "$tmp/src" "$tmp/sgad.map" "$tmp/Makefile" "$tmp/base/"

failures=0

# new_variant NAME: a fresh copy of the tree in $tmp/NAME.
new_variant() {
    rm -rf "${tmp:?}/$1"
    cp -r "$tmp/base" "$tmp/$1"
}

# patch NAME FILE SED_SCRIPT: edits the copy; the file must change.
patch_file() {
    f="$tmp/$1/$2"
    cp "$f" "$f.orig"
    sed -i "$3" "$f"
    if cmp -s "$f" "$f.orig"; then
        echo "abi-guard: the patch '$3' no longer applies to $2; update tests/abi_guard.sh" >&2
        exit 1
    fi
    rm "$f.orig"
}

# expect NAME pass|fail: builds the variant and checks it against abi/.
expect() {
    dir="$tmp/$1"
    if ! make -C "$dir" -j2 BUILD=build LIBOUT=lib lib >"$dir/build.log" 2>&1; then
        cat "$dir/build.log" >&2
        echo "abi-guard: variant $1 does not build" >&2
        exit 1
    fi
    lib=$(ls "$dir"/lib/libsgad.so.*.*.*)
    if sh "$tree/abi/check.sh" "$lib" "$dir/include/sgad" "$tree/abi" >"$dir/check.log" 2>&1; then
        got=pass
    else
        got=fail
    fi
    if [ "$got" = "$2" ]; then
        echo "abi-guard: $1: $got, as it must"
    else
        cat "$dir/check.log" >&2
        echo "abi-guard: $1: expected $2, got $got" >&2
        failures=$((failures + 1))
    fi
}

# Additions, as a release makes them: a function in a new version node, an
# option appended to sgad_option.
new_variant added
patch_file added include/sgad/version.h \
    '/^SGAD_API const char \*sgad_version_string(void);$/a SGAD_API int sgad_abi_guard_added(void);'
printf '\nint sgad_abi_guard_added(void)\n{\n    return 1;\n}\n' >>"$tmp/added/src/core/version.c"
printf 'SGAD_1.1 {\n    global:\n        sgad_abi_guard_added;\n} SGAD_1.0;\n' >>"$tmp/added/sgad.map"
patch_file added include/sgad/layer.h \
    's/^\( *SGAD_OPT_SCHEDULE_PERIOD = 505\)/    SGAD_OPT_ABI_GUARD_ADDED = 506,\n\1/'
expect added pass
if ! readelf -W --dyn-syms "$tmp/added/lib/libsgad.so.1" | grep -q 'sgad_abi_guard_added@@SGAD_1.1'; then
    echo "abi-guard: the added function is not in node SGAD_1.1" >&2
    failures=$((failures + 1))
fi

# A change inside an opaque struct is private.
new_variant private
patch_file private src/core/internal.h 's/^\(struct sgad_ctx {\)$/\1\n    int abi_guard_private;/'
expect private pass

# sgad_version_string renamed: a removed function.
new_variant renamed
for f in $(grep -rl sgad_version_string "$tmp/renamed/include" "$tmp/renamed/src"); do
    patch_file renamed "${f#"$tmp/renamed/"}" 's/sgad_version_string/sgad_version_text/g'
done
expect renamed fail

# A status code moved: every caller that tests for it breaks.
new_variant enum
patch_file enum include/sgad/status.h 's/SGAD_E_SHAPE = 2,/SGAD_E_SHAPE = 12,/'
expect enum fail

# A parameter narrowed from double to float: callers pass it in the wrong way.
new_variant param
patch_file param include/sgad/layer.h \
    's/sgad_layer_set(sgad_layer \*layer, sgad_option option, double value)/sgad_layer_set(sgad_layer *layer, sgad_option option, float value)/'
patch_file param src/layers/layer.c \
    's/sgad_layer_set(sgad_layer \*l, sgad_option option, double value)/sgad_layer_set(sgad_layer *l, sgad_option option, float value)/'
expect param fail

# An existing function moved to a new version node: programs linked
# against sgad_version_string@SGAD_1.0 would no longer find it.
new_variant moved
printf 'SGAD_1.1 {\n    global:\n        sgad_version_string;\n} SGAD_1.0;\n' >>"$tmp/moved/sgad.map"
expect moved fail

# The same removal with the major version bumped: a new soname may break.
new_variant major
for f in $(grep -rl sgad_version_string "$tmp/major/include" "$tmp/major/src"); do
    patch_file major "${f#"$tmp/major/"}" 's/sgad_version_string/sgad_version_text/g'
done
patch_file major include/sgad/version.h 's/^#define SGAD_VERSION_MAJOR [0-9]*$/#define SGAD_VERSION_MAJOR 99/'
expect major pass

if [ $failures -ne 0 ]; then
    echo "abi-guard: $failures variant(s) judged wrongly" >&2
    exit 1
fi
echo "abi-guard: all 7 variants judged as they must be"
