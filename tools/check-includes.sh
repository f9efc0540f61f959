#!/bin/sh
# SPDX-License-Identifier: MIT
# Checks the layering of src/ (src/README.md): a file in src/F/ includes
# only its own folder's headers (bare "name.h") and headers of folders
# below F ("G/name.h"), in the order
#
#     core < io < kernels < events < layers < net < train < eval
#
# and every quoted include names a header that exists. Every file of a
# folder must also have its line in src/README.md (its file tables are the
# map of the tree; a file missing there is a map gone stale). Prints each
# breach as file:line: message and exits 1 if there is one.
#
# Usage: tools/check-includes.sh [SRC_DIR]   (default: src)
set -eu
src=${1:-src}
order="core io kernels events layers net train eval"

rank() {
    i=0
    for f in $order; do
        [ "$f" = "$1" ] && { echo "$i"; return; }
        i=$((i + 1))
    done
    echo -1
}

status=0
for dir in "$src"/*/; do
    folder=$(basename "$dir")
    own=$(rank "$folder")
    if [ "$own" -lt 0 ]; then
        echo "$dir: folder not in the layer order ($order); add it to $0 and src/README.md"
        status=1
        continue
    fi
    for file in "$dir"*.c "$dir"*.h; do
        [ -f "$file" ] || continue
        grep -q "\`$(basename "$file")\`" "$src/README.md" 2>/dev/null ||
            echo "$file: not described in $src/README.md (add its line to the $folder/ table)"
        # file:line:header for each quoted include (system headers use <>).
        out=$(grep -n '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$file" |
              sed 's/^\([0-9]*\):.*"\(.*\)".*/\1 \2/' || true)
        [ -n "$out" ] || continue
        echo "$out" | while read -r line header; do
            case $header in
            sgad/*)
                [ -f "$(dirname "$src")/include/$header" ] ||
                    echo "$file:$line: \"$header\" is not a public header"
                ;;
            */*)
                target=${header%%/*}
                t=$(rank "$target")
                if [ ! -f "$src/$header" ]; then
                    echo "$file:$line: \"$header\" does not exist under $src/"
                elif [ "$t" -lt 0 ]; then
                    echo "$file:$line: \"$header\": folder $target is not in the layer order"
                elif [ "$t" -ge "$own" ]; then
                    echo "$file:$line: $folder includes \"$header\", but $target is not below $folder ($order)"
                fi
                ;;
            *)
                [ -f "$dir$header" ] ||
                    echo "$file:$line: \"$header\" is not in $folder/; name its folder (\"folder/$header\")"
                ;;
            esac
        done
    done
done > "${TMPDIR:-/tmp}/sgad-includes.$$"
if [ -s "${TMPDIR:-/tmp}/sgad-includes.$$" ]; then
    cat "${TMPDIR:-/tmp}/sgad-includes.$$"
    status=1
fi
rm -f "${TMPDIR:-/tmp}/sgad-includes.$$"
[ "$status" = 0 ] && echo "includes: every folder of $src/ uses only those below it; every file is in $src/README.md"
exit "$status"
