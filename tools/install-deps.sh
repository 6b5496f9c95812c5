#!/bin/sh
# Installs what the build and its tests need on a fresh Debian machine: a C compiler, make
# and cmake to build; pkg-config for the install test (a program built against an installed
# peimm); groff-base so the man page is rendered with warnings checked. Runs apt-get only
# when one of them is missing, so a prepared machine is never touched.
set -e
need=""
command -v cc         >/dev/null 2>&1 || need="$need gcc"
command -v make       >/dev/null 2>&1 || need="$need make"
command -v cmake      >/dev/null 2>&1 || need="$need cmake"
command -v pkg-config >/dev/null 2>&1 || need="$need pkg-config"
command -v groff      >/dev/null 2>&1 || command -v man >/dev/null 2>&1 || need="$need groff-base"
[ -z "$need" ] && exit 0
echo "peimm: installing$need" >&2
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
$SUDO apt-get update -q && $SUDO apt-get install -y -q $need
