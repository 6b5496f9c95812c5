#!/bin/sh
# docs/api.md keeps up with include/peimm.h: every function the header declares has a
# heading in api.md naming it and its prototype, as the header spells it (whitespace aside),
# in one of api.md's C code blocks; and api.md documents no pm_ function the header lacks.
# So adding, renaming or changing the signature of a public function fails make check until
# the reference says so too.
top=${1:-.}
hdr=$top/include/peimm.h
doc=$top/docs/api.md
[ -f "$doc" ] || { echo "api-doc: $doc is missing"; echo "0 passed, 1 failed"; exit 1; }
awk -v doc="$doc" '
	function norm(s) {
		gsub(/[ \t\n]+/, " ", s); gsub(/\( /, "(", s); gsub(/ \)/, ")", s); gsub(/ ,/, ",", s)
		sub(/^ /, "", s); sub(/ $/, "", s); return s
	}
	# The header: a declaration starts in column 0 with a type and runs to its ";".
	FILENAME == ARGV[1] {
		if (!in_decl && $0 ~ /^[a-z].*[ *]pm_[a-z0-9_]+\(/ && $0 !~ /^(typedef|#)/) {
			in_decl = 1; decl = ""
		}
		if (in_decl) {
			decl = decl " " $0
			if (index($0, ";")) {
				decl = substr(decl, 1, index(decl, ";"))
				name = decl; sub(/\(.*/, "", name); sub(/.*[ *]/, "", name)
				proto[name] = norm(decl); order[++n] = name; in_decl = 0
			}
		}
		next
	}
	# api.md: headings, and the text of every ```c block.
	/^```c/ { code = 1; next }
	/^```/ { code = 0; next }
	code { text = text " " $0; next }
	/^#+ / {
		line = $0
		while (match(line, /pm_[a-z0-9_]+/)) {
			heading[substr(line, RSTART, RLENGTH)] = 1; line = substr(line, RSTART + RLENGTH)
		}
	}
	END {
		text = norm(text)
		for (i = 1; i <= n; i++) {
			f = order[i]
			if (!(f in heading)) { print "api-doc: " f " (peimm.h) has no heading in " doc; bad = 1 }
			if (!index(text, proto[f])) {
				print "api-doc: the prototype of " f " is not in a c block of " doc ", want: " proto[f]; bad = 1
			}
		}
		for (f in heading)
			if (!(f in proto)) { print "api-doc: " doc " documents " f ", which peimm.h does not declare"; bad = 1 }
		if (n < 10) { print "api-doc: found only " n " functions in peimm.h; the parser is broken"; bad = 1 }
		print bad ? "0 passed, 1 failed" : "1 passed, 0 failed"
		exit bad
	}
' "$hdr" "$doc"
