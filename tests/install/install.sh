#!/bin/sh
# `make install` as a user meets it: cmake --install into a temporary prefix, then checks
# that every piece landed (library with its soname, headers, peimm.pc, CLI, man page) and
# builds tests/install/consumer.c against that copy using only pkg-config's flags, once
# against the shared library and once against the static one, and runs both.
# Args: cmake, build dir, source dir, extra compiler flags (sanitizers).
cmake=$1 build=$2 top=$3 extra=${4:-}
fail() { echo "install: $*"; echo "0 passed, 1 failed"; exit 1; }

command -v pkg-config >/dev/null 2>&1 ||
	fail "pkg-config is not installed (tools/install-deps.sh installs it: apt-get install pkg-config)"
tmp=$(mktemp -d) || fail "mktemp -d failed"
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/prefix

"$cmake" --install "$build" --prefix "$prefix" > "$tmp/install.log" 2>&1 ||
	{ cat "$tmp/install.log"; fail "cmake --install $build --prefix $prefix failed"; }

# libdir is lib or lib/<multiarch> depending on the prefix (GNUInstallDirs); find it.
pc=$(find "$prefix" -name peimm.pc)
[ -n "$pc" ] || fail "no peimm.pc under $prefix (want <libdir>/pkgconfig/peimm.pc)"
export PKG_CONFIG_PATH="$(dirname "$pc")"
libdir=$(pkg-config --variable=libdir peimm) || fail "pkg-config cannot read $pc"
[ "$(pkg-config --variable=prefix peimm)" = "$prefix" ] ||
	fail "peimm.pc prefix is '$(pkg-config --variable=prefix peimm)', want '$prefix'"
for f in "$libdir/libpeimm.a" "$libdir/libpeimm.so" "$libdir/libpeimm.so.0" \
	 "$prefix/include/peimm.h" "$prefix/include/peimm/abi.h" "$prefix/bin/peimm" \
	 "$prefix/share/man/man1/peimm.1"; do
	[ -e "$f" ] || fail "missing after install: ${f#$tmp/}"
done
soname=$(readelf -d "$libdir/libpeimm.so" | sed -n 's/.*SONAME.*\[\(.*\)\]/\1/p')
[ "$soname" = libpeimm.so.0 ] || fail "libpeimm.so has soname '$soname', want libpeimm.so.0"

flags=$(pkg-config --cflags --libs peimm) || fail "pkg-config --cflags --libs peimm failed"
echo "pkg-config --cflags --libs peimm: $flags"
case "$flags" in
*"$top"*) fail "pkg-config flags point into the source tree: $flags" ;;
esac

# Shared: the loader must find the installed libpeimm.so.0 (no rpath into the build tree).
cc -Wall -Werror $extra "$top/tests/install/consumer.c" $flags -o "$tmp/consumer" ||
	fail "cc consumer.c \$(pkg-config --cflags --libs peimm) did not build"
LD_LIBRARY_PATH=$libdir "$tmp/consumer" || fail "the program linked against libpeimm.so failed"
# Static: the installed archive, with what pkg-config says the library needs.
cc -Wall -Werror $extra "$top/tests/install/consumer.c" $(pkg-config --cflags peimm) \
	-L"$libdir" -Wl,-Bstatic -lpeimm -Wl,-Bdynamic $(pkg-config --libs-only-l peimm | sed 's/-lpeimm//') \
	-o "$tmp/consumer-static" || fail "the program did not build against libpeimm.a"
"$tmp/consumer-static" || fail "the program linked against libpeimm.a failed"

"$prefix/bin/peimm" --help | grep -q 'tour' || fail "installed peimm --help does not list tour"
echo "1 passed, 0 failed"
