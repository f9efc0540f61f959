#!/bin/sh
# SPDX-License-Identifier: MIT
# Every source file of the tree (C, Rust, Python, shell, make, man pages)
# names its licence in its first three lines; prints the ones that do not
# and exits 1 if there is one. Files git does not track are not looked at.
set -eu
missing=$(git ls-files 2>/dev/null |
    grep -E '\.(c|h|rs|py|sh|mk)$|(^|/)Makefile$|^\.ci/run$|^man/.*\.[17]$' |
    while read -r f; do
        [ -f "$f" ] || continue
        head -n 3 "$f" | grep -q 'SPDX-License-Identifier: MIT' || echo "$f"
    done)
if [ -n "$missing" ]; then
    echo "$missing" | sed 's/$/: no "SPDX-License-Identifier: MIT" line in its first 3 lines/'
    exit 1
fi
echo "spdx: every source file names its licence (MIT)"
