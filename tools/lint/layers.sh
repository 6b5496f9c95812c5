#!/bin/sh
# Checks every #include "layer/..." in src/ against the layer order of DESIGN.md:
# a layer may include itself and the layers below it, never one above (STYLE rule 17).
top=${1:-.}
order="lib phys pgtable vma obj reclaim mm kacs proc sys"
rank() { i=0; for l in $order; do [ "$l" = "$1" ] && { echo $i; return; }; i=$((i+1)); done; echo 99; }
bad=0
for f in $(find "$top/src" -name '*.[ch]'); do
	own=$(basename "$(dirname "$f")")
	r=$(rank "$own")
	# kacs/gate.h is the one door mm may use into security (DESIGN.md), so it is exempt.
	for inc in $(grep -v '#include "kacs/gate.h"' "$f" | sed -n 's/^#include "\([a-z]*\)\/.*"/\1/p'); do
		ri=$(rank "$inc")
		if [ "$ri" -gt "$r" ]; then
			echo "layering: $f includes $inc/ (above $own)"
			bad=1
		fi
	done
done
# Security is reached only through kacs/gate.h from mm.
for f in $(find "$top/src/mm" -name '*.[ch]' 2>/dev/null); do
	grep -n '#include "kacs/' "$f" | grep -v 'kacs/gate.h' && { echo "layering: $f reaches kacs beyond gate.h"; bad=1; }
done
[ $bad -eq 0 ] && echo "1 passed, 0 failed" || echo "0 passed, 1 failed"
exit $bad
