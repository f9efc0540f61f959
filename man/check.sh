#!/bin/sh
# SPDX-License-Identifier: MIT
# Checks the reference documentation (make check-docs, after make docs):
#
#   1. every page in man/ renders without a single groff warning;
#   2. each program has a page, and its page names every option the
#      program's --help lists and no option the program lacks;
#   3. the Doxygen gate works: the headers with one doc comment removed
#      make Doxygen fail, naming the function;
#   4. the complete examples of docs/guide-c.md and docs/guide-python.md
#      (guide_train.py, guide_layers.py) compile and run;
#   5. docs/tutorial-python.md's script runs in its quick mode.
#
#   man/check.sh PROGRAM_DIR LIB_DIR "PROGRAMS"
set -eu
cd "$(dirname "$0")/.."
bindir=$1
libdir=$2
programs=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0

problem() {
    echo "check-docs: $*" >&2
    failures=$((failures + 1))
}

# 1. Rendering.
before=$failures
for page in man/*.[17]; do
    groff -ww -man -z "$page" >"$tmp/groff" 2>&1 || true
    [ -s "$tmp/groff" ] && problem "$page: groff warns: $(cat "$tmp/groff")"
    MANWIDTH=80 man --warnings -l "$page" >/dev/null 2>"$tmp/man" || problem "$page: man -l failed"
    [ -s "$tmp/man" ] && problem "$page: man -l warns: $(cat "$tmp/man")"
done
[ $failures -eq "$before" ] &&
    echo "check-docs: $(ls man/*.[17] | wc -l) man pages render without warnings"

# 2. Pages against programs. Options appear in roff as \-\-name.
before=$failures
for p in $programs; do
    page="man/$p.1"
    [ -f "$page" ] || { problem "$p has no man page $page"; continue; }
    "$bindir/$p" --help >"$tmp/help" 2>&1 || problem "$p --help failed"
    grep -o -- '--[a-z][a-z-]*' "$tmp/help" | sort -u >"$tmp/help-opts"
    grep -o '\\-\\-[a-z][a-z\\-]*' "$page" | sed 's/\\//g' | sort -u >"$tmp/page-opts"
    for opt in $(comm -23 "$tmp/help-opts" "$tmp/page-opts"); do
        problem "$page does not describe $opt of $p --help"
    done
    for opt in $(comm -13 "$tmp/help-opts" "$tmp/page-opts"); do
        [ "$opt" = "--help" ] || problem "$page describes $opt, which $p --help does not list"
    done
done
[ $failures -eq "$before" ] &&
    echo "check-docs: the pages of $programs name exactly their programs' options"

# 3. The gate fails on a gap: sgad_tensor_numel's comment removed.
mkdir -p "$tmp/gap/sgad" "$tmp/gap-out"
cp include/sgad/*.h "$tmp/gap/sgad/"
sed -i '/the number of elements, or 0 if t is NULL/d' "$tmp/gap/sgad/tensor.h"
if cmp -s include/sgad/tensor.h "$tmp/gap/sgad/tensor.h"; then
    problem "the gap test no longer removes a comment from tensor.h; update man/check.sh"
elif { cat Doxyfile; echo "INPUT = $tmp/gap/sgad"; echo "OUTPUT_DIRECTORY = $tmp/gap-out"; } |
        doxygen - >"$tmp/gap.log" 2>&1; then
    problem "doxygen passed headers with an undocumented function"
elif ! grep -q 'sgad_tensor_numel.*not documented' "$tmp/gap.log"; then
    problem "doxygen failed without naming the undocumented function: $(cat "$tmp/gap.log")"
else
    echo "check-docs: an undocumented function fails make docs"
fi

# 4. The guides' examples: the fenced block that follows a line
# "<!-- example: NAME -->".
extract() {
    awk -v name="$2" '
        $0 == "<!-- example: " name " -->" { want = 1; next }
        want && /^```/ { if (inside) exit; inside = 1; next }
        inside { print }' "$1"
}
extract docs/guide-c.md guide_train.c >"$tmp/guide_train.c"
if [ ! -s "$tmp/guide_train.c" ]; then
    problem "docs/guide-c.md has no example guide_train.c"
elif ! cc -std=c11 -Wall -Wextra -Werror -pedantic-errors -Iinclude -o "$tmp/guide_train" \
        "$tmp/guide_train.c" -L"$libdir" -Wl,-rpath,"$(pwd)/$libdir" -lsgad; then
    problem "the example of docs/guide-c.md does not compile"
elif ! (cd "$tmp" && ./guide_train >"$tmp/guide_c.out" 2>&1); then
    problem "the example of docs/guide-c.md failed: $(cat "$tmp/guide_c.out")"
else
    echo "check-docs: docs/guide-c.md's example ran:"
    sed 's/^/    /' "$tmp/guide_c.out"
fi
for example in guide_train guide_layers; do
    extract docs/guide-python.md $example.py >"$tmp/$example.py"
    if [ ! -s "$tmp/$example.py" ]; then
        problem "docs/guide-python.md has no example $example.py"
    elif ! (cd "$tmp" && PYTHONPATH="$OLDPWD/bindings/python" \
            SGAD_LIBRARY="$OLDPWD/$libdir/libsgad.so.1" /usr/bin/python3 $example.py \
            >"$tmp/$example.out" 2>&1); then
        problem "the example $example.py of docs/guide-python.md failed: $(cat "$tmp/$example.out")"
    else
        echo "check-docs: docs/guide-python.md's example $example.py ran:"
        sed 's/^/    /' "$tmp/$example.out"
    fi
done

# 5. The Python tutorial's script, in its quick mode (fewer steps and
# images; it needs Fashion-MNIST and matplotlib).
extract docs/tutorial-python.md tutorial.py >"$tmp/tutorial.py"
if [ ! -s "$tmp/tutorial.py" ]; then
    problem "docs/tutorial-python.md has no example tutorial.py"
elif ! (cd "$tmp" && SGAD_TUTORIAL_QUICK=1 PYTHONPATH="$OLDPWD/bindings/python" \
        SGAD_LIBRARY="$OLDPWD/$libdir/libsgad.so.1" /usr/bin/python3 tutorial.py \
        >"$tmp/tutorial.out" 2>&1); then
    problem "docs/tutorial-python.md's tutorial.py failed: $(cat "$tmp/tutorial.out")"
elif [ ! -s "$tmp/raster.png" ] || [ ! -s "$tmp/sgad-samples.png" ]; then
    problem "docs/tutorial-python.md's tutorial.py wrote no raster.png or sgad-samples.png"
else
    echo "check-docs: docs/tutorial-python.md's tutorial.py ran (quick mode):"
    sed 's/^/    /' "$tmp/tutorial.out"
fi

if [ $failures -ne 0 ]; then
    echo "check-docs: $failures problem(s)" >&2
    exit 1
fi
echo "check-docs: all checks passed"
