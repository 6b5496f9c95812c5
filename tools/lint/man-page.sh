#!/bin/sh
# docs/peimm.1 renders without a single troff warning, has the sections a man page is
# expected to have, and gives every command of the CLI (the table in tools/peimm/main.c)
# its own subsection, so a new command cannot ship undocumented. Renders with groff, or man
# where only man-db is present; exits 77 (CTest: skipped) when neither is installed.
top=${1:-.}
page=$top/docs/peimm.1
bad=0
err=$(mktemp) || exit 1
trap 'rm -f "$err"' EXIT
if command -v groff >/dev/null 2>&1; then
	groff -man -ww -z "$page" 2> "$err"
elif command -v man >/dev/null 2>&1; then
	man --warnings -E UTF-8 -l -Tutf8 "$page" > /dev/null 2> "$err"
else
	echo "man-page: skipped: neither groff nor man is installed (apt-get install groff-base)"
	exit 77
fi
if [ -s "$err" ]; then
	echo "man-page: $page renders with warnings:"; cat "$err"; bad=1
fi
for s in NAME SYNOPSIS DESCRIPTION ENVIRONMENT "EXIT STATUS" FILES "SEE ALSO"; do
	grep -q "^\.SH \"*$s\"*\$" "$page" || { echo "man-page: no section $s in $page"; bad=1; }
done
for cmd in $(sed -n 's/.*{ *"\([a-z-]*\)", *cmd_.*/\1/p' "$top/tools/peimm/main.c"); do
	grep -q "^\.SS \"peimm $cmd[ \"]" "$page" ||
		{ echo "man-page: command '$cmd' (tools/peimm/main.c) has no .SS \"peimm $cmd ...\" in $page"; bad=1; }
done
[ $bad -eq 0 ] && echo "1 passed, 0 failed" || echo "0 passed, 1 failed"
exit $bad
