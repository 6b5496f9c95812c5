#!/bin/sh
# The library keeps all state in the system object (STYLE rule 18): libpeimm.a must define
# no writable data symbols (nm types b, B, d, D). Sanitizer builds add their own; skip those.
lib=$1
syms=$(nm "$lib" 2>/dev/null | awk '$2 ~ /^[bBdD]$/ && $3 !~ /^__(asan|ubsan|odr_asan)/ && $3 !~ /^\.L/ {print $3}')
if [ -n "$syms" ]; then
	echo "writable globals in $lib:"; echo "$syms"
	echo "0 passed, 1 failed"; exit 1
fi
echo "1 passed, 0 failed"
