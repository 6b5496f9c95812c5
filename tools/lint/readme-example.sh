#!/bin/sh
# Compiles and runs the C example in README.md against the built library, so the example a
# new user copies is known to work. Args: source dir, built static library.
top=$1 lib=$2 extra=${3:-}
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
awk '/^```c$/ {on=1; next} /^```$/ {on=0} on' "$top/README.md" > "$tmp/example.c"
if ! cc -Wall -Werror $extra -I"$top/include" "$tmp/example.c" "$lib" -lpthread -o "$tmp/example"; then
	echo "README example does not compile"; echo "0 passed, 1 failed"; exit 1
fi
out=$("$tmp/example") || { echo "README example exited non-zero"; echo "0 passed, 1 failed"; exit 1; }
echo "$out"
case "$out" in
*"[vdso]"*"fault at 0x10: signal 11 code 1"*) echo "1 passed, 0 failed" ;;
*) echo "README example printed something unexpected"; echo "0 passed, 1 failed"; exit 1 ;;
esac
