#!/bin/sh
# Installs what the build needs on a fresh Debian machine: a C compiler, make and cmake.
# Runs only when one of them is missing, so a prepared machine is never touched.
set -e
need=""
command -v cc    >/dev/null 2>&1 || need="$need gcc"
command -v make  >/dev/null 2>&1 || need="$need make"
command -v cmake >/dev/null 2>&1 || need="$need cmake"
[ -z "$need" ] && exit 0
echo "peimm: installing$need" >&2
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
$SUDO apt-get update -q && $SUDO apt-get install -y -q $need
