#!/bin/sh
# 'peimm tour' ends with a table of every feature it showed; each row must say "yes", and
# the rows of process_mrelease and pagemap PFN hiding must be there. Args: the peimm binary.
peimm=$1
out=$(mktemp) || exit 1
trap 'rm -f "$out"' EXIT
bad=0
NO_COLOR=1 "$peimm" tour > "$out" 2>&1 || { echo "FAIL: peimm tour exited $?"; bad=1; }
for row in "process_mrelease freeing a dying process" "pagemap hiding PFNs without SeTcb" \
	   "DAMON telling hot from cold" "the OOM killer and oom_score"; do
	grep -Eq "^  $row +yes$" "$out" || { echo "FAIL: no row '$row ... yes'"; bad=1; }
done
if sed -n '/== Summary ==/,$p' "$out" | grep -Eq ' NO$'; then
	echo "FAIL: a feature was not shown working:"; grep -E ' NO$' "$out"; bad=1
fi
grep -q "$(printf '\033')" "$out" && { echo "FAIL: colour escapes with NO_COLOR set"; bad=1; }
[ $bad -eq 0 ] && echo "1 passed, 0 failed" || echo "0 passed, 1 failed"
exit $bad
