#!/bin/sh
# Every CLI error is one line on stderr (what, where, why) with exit status 2, never a
# usage screen or a trace of internals. Runs the known bad invocations, then an unknown
# option on every command of tools/peimm/main.c's table, so commands added later are held
# to the same rule. Args: the peimm binary, the source dir.
peimm=$1 top=$2
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
bad=0
# expect_error PATTERN ARGS...: exit 2, stdout may be anything, stderr exactly one line
# matching PATTERN (a grep -E expression).
expect_error() {
	pat=$1; shift
	timeout 20 "$peimm" "$@" < /dev/null > /dev/null 2> "$tmp/err"
	rc=$?
	lines=$(wc -l < "$tmp/err")
	if [ $rc -ne 2 ] || [ "$lines" -ne 1 ] || ! grep -Eq "$pat" "$tmp/err"; then
		echo "FAIL peimm $*: want exit 2 and one stderr line matching /$pat/," \
		     "got exit $rc and $lines lines:"
		sed 's/^/    /' "$tmp/err"
		bad=1
	fi
}
printf 'token u user=S-1-5-21-1-1001\nspawn p u\np mmap 0 4096 PROT_NOPE MAP_PRIVATE -1 0\n' > "$tmp/bad.pmm"

expect_error "^peimm: no command given; one of: .*tour.* \(try 'peimm --help'\)$"
expect_error "^peimm: unknown command 'frob'" frob
expect_error "^peimm run: no scenario file given" run
expect_error "^peimm run: cannot open '$tmp/none.pmm': No such file or directory$" run "$tmp/none.pmm"
expect_error "^$tmp: cannot read: Is a directory$" run "$tmp"
expect_error "^$tmp/bad.pmm:3: unknown name 'PROT_NOPE'$" run "$tmp/bad.pmm"
expect_error "^peimm bench: --seconds 'soon': want a number" bench --seconds soon
expect_error "^peimm bench: unknown workload 'nosuch'" bench nosuch
for cmd in $(sed -n 's/.*{ *"\([a-z-]*\)", *cmd_.*/\1/p' "$top/tools/peimm/main.c"); do
	expect_error "^peimm $cmd: .*--no-such-option" "$cmd" --no-such-option
done
[ $bad -eq 0 ] && echo "1 passed, 0 failed" || echo "0 passed, 1 failed"
exit $bad
