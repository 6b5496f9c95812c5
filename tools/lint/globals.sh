#!/bin/sh
# The library keeps all state in the system object (STYLE rule 18): libpeimm.a must define
# no writable data. Symbols in .data or .bss (and their per-symbol variants) are writable;
# .data.rel.ro is read-only once relocated, so const tables of pointers are fine.
# Sanitizer builds add their own globals; those are skipped.
lib=$1
syms=$(objdump -t "$lib" 2>/dev/null | awk '
	$0 ~ /^[0-9a-f]+ / {
		for (i = 2; i <= NF; i++) if ($i ~ /^\./) { sec = $i; break }
		name = $NF
		if (sec ~ /^\.(data|bss)/ && sec !~ /^\.data\.rel\.ro/ && name !~ /^(__asan|__ubsan|\.L|__odr_asan)/ &&
		    name !~ /^\.(data|bss)/ && $0 ~ / O /)
			print sec, name
	}')
if [ -n "$syms" ]; then
	echo "writable globals in $lib:"; echo "$syms"
	echo "0 passed, 1 failed"; exit 1
fi
echo "1 passed, 0 failed"
