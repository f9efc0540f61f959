#!/bin/sh
# SPDX-License-Identifier: MIT
# Compiles each public header alone under several language standards with
# -pedantic-errors -Werror: a header must stand on its own and be valid C99,
# C11, C17 and C++98, C++11, C++17.
set -e
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0
for h in include/sgad/*.h; do
    name=$(basename "$h")
    # The typedef keeps a header of macros only from being an empty unit.
    { echo "#include <sgad/$name>"; echo "typedef int header_test_anchor;"; } > "$tmp/t.c"
    cp "$tmp/t.c" "$tmp/t.cpp"
    for std in c99 c11 c17; do
        gcc -std=$std -pedantic-errors -Wall -Wextra -Werror -Iinclude -fsyntax-only "$tmp/t.c"
        n=$((n + 1))
    done
    for std in c++98 c++11 c++17; do
        g++ -std=$std -pedantic-errors -Wall -Wextra -Werror -Iinclude -fsyntax-only "$tmp/t.cpp"
        n=$((n + 1))
    done
done
echo "headers: $n compilations clean"
