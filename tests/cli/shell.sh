#!/bin/sh
# 'peimm shell' with a script piped in: no prompt, each result printed, a wrong line
# reported on one stderr line while the shell goes on, help, and exit ending the input
# early; then 'peimm maps' on a scenario's process. Args: the peimm binary.
peimm=$1
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
bad=0
fail() { echo "FAIL: $*"; bad=1; }

cat > "$tmp/in" <<'SCRIPT'
token u user=S-1-5-21-1-1001
spawn p u
$a = p mmap 0 8192 PROT_READ|PROT_WRITE MAP_PRIVATE|MAP_ANONYMOUS -1 0
write p $a "hi there"
read p $a 8
maps p has "rw-p"
frobnicate 1 2
p mprotect $a 4096 PROT_NOPE
proc p status field VmRSS
help mmap
help
p munmap $a 8192 => 0
exit
echo not reached
SCRIPT
"$peimm" shell < "$tmp/in" > "$tmp/out" 2> "$tmp/err"
rc=$?
[ $rc -eq 1 ] || fail "exit status $rc, want 1 (two lines were wrong)"
grep -q 'peimm>' "$tmp/out" && fail "a prompt was printed with stdin not a terminal"
grep -q '^\$a = 0x7f' "$tmp/out" || fail "the mmap result was not printed as \$a = 0x7f..."
grep -qx '"hi there"' "$tmp/out" || fail "read did not print the bytes"
grep -qx '8' "$tmp/out" || fail "write did not print its count"
grep -q '^PROC mmap \[ARG...\]' "$tmp/out" || fail "help mmap did not explain the syscall"
grep -q '^  spawn ' "$tmp/out" || fail "help did not list spawn"
grep -q '^  exit ' "$tmp/out" || fail "help did not list exit"
grep -q 'not reached' "$tmp/out" && fail "a line after exit ran"
[ "$(wc -l < "$tmp/err")" -eq 2 ] || fail "want two stderr lines, one per wrong line"
grep -qx "shell:7: unknown command or process 'frobnicate'" "$tmp/err" || fail "no error line for line 7"
grep -qx "shell:8: unknown name 'PROT_NOPE'" "$tmp/err" || fail "no error line for line 8"
# The lines after the errors still ran: VmRSS (one page written: 4 kB) and munmap's 0.
grep -qx '4' "$tmp/out" || fail "the proc field after the errors did not run"
tail -1 "$tmp/out" | grep -qx '0' || fail "munmap after the errors did not print 0"

# A clean script exits 0, and end of input ends the shell.
printf 'sysinfo nr_processes\n' | "$peimm" shell > "$tmp/out2" 2>&1
[ $? -eq 0 ] && [ "$(cat "$tmp/out2")" = 0 ] || fail "a clean script: want exit 0 and '0'"

# peimm maps on a scenario's process, as text.
cat > "$tmp/s.pmm" <<'SCRIPT'
token u user=S-1-5-21-1-1001
spawn p u
$a = p mmap 0 1M PROT_READ MAP_PRIVATE|MAP_ANONYMOUS -1 0
SCRIPT
"$peimm" maps "$tmp/s.pmm" p > "$tmp/maps" 2>&1 || fail "peimm maps SCENARIO PROC failed: $(cat "$tmp/maps")"
grep -Eq ' r--p +1M .* \[anon\]$' "$tmp/maps" || fail "peimm maps did not show the 1M r--p region"
grep -q '\[stack\]' "$tmp/maps" && grep -q 'gap of' "$tmp/maps" || fail "peimm maps: no [stack] or gap line"
"$peimm" maps "$tmp/s.pmm" nosuch > /dev/null 2> "$tmp/err3"
[ $? -ne 0 ] && grep -q "has no process 'nosuch'" "$tmp/err3" || fail "maps with an unknown process"

[ $bad -eq 0 ] && echo "1 passed, 0 failed" || { sed 's/^/  out: /' "$tmp/out"; sed 's/^/  err: /' "$tmp/err"; echo "0 passed, 1 failed"; }
exit $bad
