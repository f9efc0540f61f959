#!/bin/sh
# SPDX-License-Identifier: MIT
# Installs the Debian packages libsgad's build, tests and demo need, when any
# is missing. Quiet and fast when everything is there.
set -e
PACKAGES="${SGAD_DEPS:-gcc g++ make pkg-config libblis-dev libjansson-dev check libpng-dev zlib1g-dev liblapack-dev clang-format libhdf5-dev python3-h5py} ${SGAD_DEPS_EXTRA:-}"

if ! command -v dpkg-query >/dev/null 2>&1; then
    echo "install-deps: not a Debian system; make sure these are installed: $PACKAGES" >&2
    exit 0
fi
missing=""
for p in $PACKAGES; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
        missing="$missing $p"
done
[ -z "$missing" ] && exit 0

echo "install-deps: installing$missing" >&2
if [ "$(id -u)" = 0 ]; then
    SUDO=""
elif command -v sudo >/dev/null 2>&1; then
    SUDO="sudo"
else
    echo "install-deps: not root and no sudo; run: apt-get install -y$missing" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing
