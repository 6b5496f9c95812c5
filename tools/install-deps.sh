#!/bin/sh
# Installs what the build and its tests need on a fresh Debian machine: a C compiler, make
# and cmake to build; pkg-config for the install test (a program built against an installed
# peimm); groff-base so the man page is rendered with warnings checked. Runs apt-get only
# when one of them is missing, so a prepared machine is never touched. libedit-dev (line
# editing in 'peimm shell') is optional: it is tried when its headers are missing, and a
# failed try never fails this script, since the shell then reads plain lines.
set -e
need=""
command -v cc         >/dev/null 2>&1 || need="$need gcc"
command -v make       >/dev/null 2>&1 || need="$need make"
command -v cmake      >/dev/null 2>&1 || need="$need cmake"
command -v pkg-config >/dev/null 2>&1 || need="$need pkg-config"
command -v groff      >/dev/null 2>&1 || command -v man >/dev/null 2>&1 || need="$need groff-base"
# The optional try happens once per build tree (build/.libedit-tried), so an offline machine
# does not retry on every make; without root it uses sudo only if that needs no password.
want_edit=1
[ -e /usr/include/editline/readline.h ] || [ -e build/.libedit-tried ] && want_edit=0
[ -z "$need" ] && [ $want_edit -eq 0 ] && exit 0
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
updated=0
if [ -n "$need" ]; then
	echo "peimm: installing$need" >&2
	$SUDO apt-get update -q && updated=1
	$SUDO apt-get install -y -q $need
fi
if [ $want_edit -eq 1 ]; then
	mkdir -p build && touch build/.libedit-tried || true
	[ -z "$SUDO" ] || SUDO="sudo -n"
	echo "peimm: installing libedit-dev (optional: line editing in 'peimm shell')" >&2
	{ [ $updated -eq 1 ] || $SUDO apt-get update -q; } >/dev/null 2>&1 || true
	$SUDO apt-get install -y -q libedit-dev >/dev/null 2>&1 ||
		echo "peimm: libedit-dev not installed; 'peimm shell' will read plain lines" >&2
fi
exit 0
