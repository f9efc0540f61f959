#!/bin/sh
# SPDX-License-Identifier: MIT
# Installs libsgad into a staging directory as a package would
# (make install DESTDIR=... PREFIX=/usr), then builds the C and C++
# programs of tests/consumer/ with nothing but what pkg-config says, and
# runs them: first against libsgad.so, then, with the shared library taken
# out of the staging tree, against libsgad.a with `pkg-config --static`.
# Also checks that install puts every man page in place and uninstall
# removes every file.
set -eu
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
stage="$tmp/stage"
CC=${CC:-cc}
CXX=${CXX:-c++}

if ! ${MAKE:-make} --no-print-directory install DESTDIR="$stage" PREFIX=/usr \
        >"$tmp/install.log" 2>&1; then
    cat "$tmp/install.log" >&2
    echo "consumer: make install failed" >&2
    exit 1
fi

# Every man page is installed (MANDIR = PREFIX/share/man).
for page in man/*.1 man/*.7; do
    section=${page##*.}
    [ -f "$stage/usr/share/man/man$section/${page#man/}" ] ||
        { echo "consumer: make install left out $page" >&2; exit 1; }
done

# Only the staged sgad.pc, its paths under the staging directory.
unset PKG_CONFIG_PATH
export PKG_CONFIG_LIBDIR="$stage/usr/lib/pkgconfig"
export PKG_CONFIG_SYSROOT_DIR="$stage"

# build MODE PKG_CONFIG_FLAGS: compiles both programs into $tmp/MODE-*.
build() {
    flags=$(pkg-config $2 --cflags --libs sgad)
    echo "consumer: $1: pkg-config $2 --cflags --libs sgad = $flags"
    # shellcheck disable=SC2086
    "$CC" -std=c11 -Wall -Wextra -Werror -pedantic-errors tests/consumer/consumer.c $flags \
        -o "$tmp/$1-c"
    # shellcheck disable=SC2086
    "$CXX" -std=c++11 -Wall -Wextra -Werror -pedantic-errors tests/consumer/consumer.cpp $flags \
        -o "$tmp/$1-cpp"
}

# run MODE: runs both programs; each prints "...: ok" as its last line.
run() {
    for p in "$tmp/$1-c" "$tmp/$1-cpp"; do
        "$p" >"$tmp/out" 2>&1 || { cat "$tmp/out" >&2; echo "consumer: $p failed" >&2; exit 1; }
        sed 's/^/    /' "$tmp/out"
        tail -n 1 "$tmp/out" | grep -q ': ok$' || { echo "consumer: $p did not finish" >&2; exit 1; }
    done
}

build shared ""
for p in "$tmp/shared-c" "$tmp/shared-cpp"; do
    LD_LIBRARY_PATH="$stage/usr/lib" ldd "$p" | grep -q "libsgad.so.1 => $stage/usr/lib/libsgad.so.1" || {
        LD_LIBRARY_PATH="$stage/usr/lib" ldd "$p" >&2
        echo "consumer: $p does not load the staged libsgad.so.1" >&2
        exit 1
    }
done
LD_LIBRARY_PATH="$stage/usr/lib" run shared

# A static-only installation: -lsgad can only mean libsgad.a.
rm -f "$stage"/usr/lib/libsgad.so*
build static --static
for p in "$tmp/static-c" "$tmp/static-cpp"; do
    if readelf -d "$p" | grep -q 'NEEDED.*libsgad'; then
        echo "consumer: $p still needs libsgad.so" >&2
        exit 1
    fi
done
run static

# make uninstall removes what install put there, man pages included.
${MAKE:-make} --no-print-directory uninstall DESTDIR="$stage" PREFIX=/usr >/dev/null
left=$(find "$stage" -type f)
if [ -n "$left" ]; then
    echo "consumer: make uninstall left $left" >&2
    exit 1
fi
echo "consumer: C and C++ programs built from pkg-config and ran, shared and static;" \
     "uninstall removed every file"
