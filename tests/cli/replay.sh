#!/bin/sh
# peimm replay on the traces shipped in examples/traces (recorded on this machine type, see
# examples/traces/README.md): exit status, counts and W^X findings as docs/replay.md
# describes them, the JSON report (parsed by python3 when it is installed, else checked by
# shape), --maps, and one-line errors with exit 2. Args: the peimm binary, the source dir.
peimm=$1 top=$2
traces=$top/examples/traces
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
bad=0
fail() { echo "FAIL $*"; bad=1; }

# field FILE NAME: a top-level count from the first line of a --json report.
field() { head -1 "$1" | sed -n "s/.*\"$2\": \([0-9]*\).*/\1/p"; }

# run NAME WANT_RC ARGS...: runs peimm replay with --json into $tmp/NAME.json.
run() {
	name=$1 want=$2; shift 2
	"$peimm" replay --json "$@" > "$tmp/$name.json" 2> "$tmp/$name.err"
	rc=$?
	[ $rc -eq "$want" ] || fail "peimm replay $*: exit $rc, want $want: $(cat "$tmp/$name.err")"
	if command -v python3 > /dev/null 2>&1; then
		python3 -c 'import json, sys; json.load(sys.stdin)' < "$tmp/$name.json" ||
			fail "peimm replay --json $*: not valid JSON"
	else
		head -c 1 "$tmp/$name.json" | grep -q '{' && tail -1 "$tmp/$name.json" | grep -q '}$' ||
			fail "peimm replay --json $*: not one JSON object"
	fi
	for k in calls replayed divergences wx_denials policy_denials; do
		[ -n "$(field "$tmp/$name.json" $k)" ] || fail "peimm replay --json $*: no \"$k\""
	done
	grep -q '"findings": \[' "$tmp/$name.json" || fail "peimm replay --json $*: no findings list"
}

for t in python3 perl gcc node; do
	run $t 0 "$traces/$t.trace"
	[ "$(field "$tmp/$t.json" divergences)" = 0 ] || fail "$t.trace: divergences $(field "$tmp/$t.json" divergences), want 0"
	[ "$(field "$tmp/$t.json" calls)" -gt 50 ] || fail "$t.trace: only $(field "$tmp/$t.json" calls) calls"
	[ "$(field "$tmp/$t.json" replayed)" -gt 50 ] || fail "$t.trace: only $(field "$tmp/$t.json" replayed) replayed"
done
for t in python3 perl gcc; do
	[ "$(field "$tmp/$t.json" wx_denials)" = 0 ] || fail "$t.trace: W^X denials, want none"
done
# Every call line of each trace is counted (resumed halves joined, exits apart).
for tc in python3:102 perl:100 gcc:249 node:263; do
	t=${tc%:*} n=${tc#*:}
	[ "$(field "$tmp/$t.json" calls)" = "$n" ] || fail "$t.trace: $(field "$tmp/$t.json" calls) calls, want $n"
done
[ "$(grep -c '^  {"pid"' "$tmp/gcc.json")" = 3 ] || fail "gcc.trace: want 3 processes (gcc, cc1, as)"

# Node's JIT asks for W+X: denied under W^X, clean with the dynamic-code opt-in.
[ "$(field "$tmp/node.json" wx_denials)" = 2 ] || fail "node.trace: $(field "$tmp/node.json" wx_denials) W^X denials, want 2"
grep -q '"kind": "wx_denial", "pid": [0-9]*, "line": [0-9]*, "call": "mprotect(0x[0-9a-f]*, [0-9]*, PROT_READ|PROT_WRITE|PROT_EXEC) = 0", "recorded": "0", "peimm": "-1 EACCES"' \
	"$tmp/node.json" || fail "node.trace: the W^X finding does not name the mprotect and both results"
run node-dyn 0 --dynamic-code "$traces/node.trace"
[ "$(field "$tmp/node-dyn.json" divergences)" = 0 ] || fail "node.trace --dynamic-code: divergences"
[ "$(field "$tmp/node-dyn.json" wx_denials)" = 0 ] || fail "node.trace --dynamic-code: W^X denials, want 0"

# The text report names the line; --maps prints each process's final maps.
"$peimm" replay "$traces/node.trace" > "$tmp/node.txt" || fail "node.trace (text): exit $?"
grep -q "^  W^X denial *$traces/node.trace:[0-9]*: mprotect(" "$tmp/node.txt" || fail "node.trace (text): no W^X line"
grep -q "^total: .* 0 divergences, [1-9][0-9]* W^X denials" "$tmp/node.txt" || fail "node.trace (text): no total line"
"$peimm" replay --maps "$traces/python3.trace" > "$tmp/maps.txt" || fail "--maps: exit $?"
grep -q "maps at the end:" "$tmp/maps.txt" && grep -q "\[heap\]" "$tmp/maps.txt" || fail "--maps: no maps"

# A divergence is exit 1.
printf '1 mmap(NULL, 4096, PROT_READ, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7f0000000000\n1 munmap(0x7f0000000000, 4096) = -1 EINVAL (Invalid argument)\n' > "$tmp/div.trace"
run div 1 "$tmp/div.trace"
[ "$(field "$tmp/div.json" divergences)" = 1 ] || fail "div.trace: want 1 divergence"

# Errors: one line on stderr, exit 2.
expect_error() {
	pat=$1; shift
	"$peimm" replay "$@" > /dev/null 2> "$tmp/err" < /dev/null
	rc=$?
	if [ $rc -ne 2 ] || [ "$(wc -l < "$tmp/err")" -ne 1 ] || ! grep -Eq "$pat" "$tmp/err"; then
		fail "peimm replay $*: want exit 2 and one line /$pat/, got $rc: $(cat "$tmp/err")"
	fi
}
printf '1 brk(NULL) = 0x1000\nnot a trace line\n' > "$tmp/bad.trace"
expect_error "^peimm replay: no trace file given"
expect_error "^peimm replay: cannot open '$tmp/none': No such file or directory$" "$tmp/none"
expect_error "^$tmp/bad.trace:2: not an strace line" "$tmp/bad.trace"
expect_error "^peimm replay: --token 'nonsense'" --token nonsense "$tmp/div.trace"
expect_error "^peimm replay: unknown option '--frob'" --frob "$tmp/div.trace"
[ $bad -eq 0 ] && echo "1 passed, 0 failed" || echo "0 passed, 1 failed"
exit $bad
