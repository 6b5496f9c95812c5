#!/bin/sh
# Lists source files over 600 lines (STYLE rule 9). A file may exceed the limit only if its
# charter says why, with the word "long:" in its first 12 lines.
top=${1:-.}
bad=0
for f in $(find "$top/src" "$top/tools" "$top/bench" -name '*.[ch]'); do
	n=$(wc -l < "$f")
	if [ "$n" -gt 600 ] && ! head -12 "$f" | grep -q 'long:'; then
		echo "file-length: $f has $n lines (limit 600; say why with 'long:' in its charter)"
		bad=1
	fi
done
[ $bad -eq 0 ] && echo "1 passed, 0 failed" || echo "0 passed, 1 failed"
exit $bad
