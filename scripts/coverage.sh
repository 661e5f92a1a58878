#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Line and branch coverage of gpio-virtio.c from the guests' gcov data.
#
#   coverage.sh take CONSOLE OUT.gcda
#       take the driver's gcov data that a guest printed on its console
#       (tests/guest/lib.sh: gcda_dump) and write it to OUT.gcda, checked
#       (line count, size, md5); prints what arrived. Non-zero, with the
#       reason, when nothing or something broken arrived.
#   coverage.sh report GCOVDIR OUTDIR GCDA...
#       merge the boots' data (gcov-tool of the compiler that built the
#       module) and write OUTDIR/coverage.txt (the figures, then every line
#       never run, by function) and OUTDIR/gpio-virtio.c.cov (the source
#       with each line's count and branches taken); prints the figures in
#       one line. GCOVDIR is what scripts/build-module.sh COVERAGE=1 left
#       (the notes, the source, the compiler). Non-zero when no data
#       arrived or none of it counts a single line: a coverage of 0 is a
#       broken rig, not a result.
#
# Environment: COV_MIN_LINES, COV_MIN_BRANCHES (percent): report also fails
# below them (none by default).
set -euo pipefail

die() {
	echo "coverage.sh: $*" >&2
	exit 1
}

take() {
	local console=$1 out=$2
	python3 - "$console" "$out" <<'PY'
import base64, hashlib, re, sys

console, out = sys.argv[1], sys.argv[2]
try:
    text = open(console, "rb").read().decode("latin-1").replace("\r", "")
except OSError as e:
    sys.exit(f"no console log: {e}")
lines = text.split("\n")
none = [l for l in lines if l.startswith("GV-GCDA-NONE: ")]
begin = [i for i, l in enumerate(lines) if l.startswith("GV-GCDA-BEGIN ")]
if not begin:
    sys.exit("the guest sent no coverage data" +
             (f": {none[0][len('GV-GCDA-NONE: '):]}" if none else
              " (no GV-GCDA-BEGIN line: did the boot end early?)"))
if len(begin) > 1:
    sys.exit(f"the guest sent {len(begin)} coverage blocks, one expected")
head = dict(kv.split("=", 1) for kv in lines[begin[0]].split()[1:])
data, end = [], None
for l in lines[begin[0] + 1:]:
    if l.startswith("GV-GCDA: "):
        data.append(l[len("GV-GCDA: "):])
    elif l.startswith("GV-GCDA-END"):
        end = dict(kv.split("=", 1) for kv in l.split()[1:])
        break
    elif l.startswith("GV-GCDA"):
        sys.exit(f"unexpected line in the coverage block: {l[:60]}")
    else:
        # Anything else inside the block is a message that came between.
        sys.exit(f"a foreign line inside the coverage block: {l[:60]}")
if end is None:
    sys.exit(f"the coverage block has no end ({len(data)} lines arrived)")
if int(end["lines"]) != len(data):
    sys.exit(f"{len(data)} lines of coverage data arrived, the guest sent {end['lines']}")
try:
    raw = base64.b64decode("".join(data), validate=True)
except ValueError as e:
    sys.exit(f"the coverage data is not base64: {e}")
if len(raw) != int(head["bytes"]):
    sys.exit(f"{len(raw)} bytes of coverage data, the guest sent {head['bytes']}")
if hashlib.md5(raw).hexdigest() != head["md5"]:
    sys.exit("the coverage data does not match the guest's md5")
if raw[:4] not in (b"adcg", b"gcda"):
    sys.exit(f"not gcov data (starts with {raw[:4]!r})")
open(out, "wb").write(raw)
print(f"{len(raw)} bytes, {len(data)} lines, {end.get('ms', '?')} ms in the guest")
PY
}

report() {
	local gdir=$1 out=$2
	shift 2
	[ -f "$gdir/gpio-virtio.gcno" ] || die "no notes ($gdir/gpio-virtio.gcno): was the module built with COVERAGE=1?"
	[ $# -gt 0 ] || die "no coverage data arrived from any boot: the rig is broken (see the boots' 'coverage data handed back' results)"
	# The gcov tools of the compiler that built the module (and the kernel).
	local cc major tool gcov
	cc=$(sed -n 's/^CONFIG_CC_VERSION_TEXT="\(.*\)"$/\1/p' "$gdir/compiler")
	[[ "$cc" == gcc* ]] || die "the module was built by '$cc', not gcc: no gcov-tool for it"
	major=$(echo "$cc" | grep -oE '[0-9]+\.[0-9]+\.[0-9]+' | head -n 1)
	major=${major%%.*}
	tool=gcov-tool-$major gcov=gcov-$major
	command -v "$tool" >/dev/null && command -v "$gcov" >/dev/null ||
		die "$tool and $gcov (package gcc-$major) are needed for the data of '$cc'"

	local i=0 acc f tmp
	tmp=$(mktemp -d)
	COV_TMP=$tmp
	trap 'rm -rf "$COV_TMP"' EXIT
	for f in "$@"; do
		mkdir -p "$tmp/d$i"
		cp "$f" "$tmp/d$i/gpio-virtio.gcda"
		if [ $i = 0 ]; then
			acc=$tmp/d0
		else
			"$tool" merge -o "$tmp/m$i" "$acc" "$tmp/d$i" > "$tmp/merge.log" 2>&1 ||
				die "$tool merge of $f failed: $(tail -n 3 "$tmp/merge.log")"
			[ -f "$tmp/m$i/gpio-virtio.gcda" ] || die "$tool merge of $f wrote nothing"
			acc=$tmp/m$i
		fi
		i=$((i + 1))
	done
	mkdir -p "$tmp/w" "$out"
	cp "$gdir/gpio-virtio.gcno" "$tmp/w/"
	cp "$acc/gpio-virtio.gcda" "$tmp/w/"
	cp "$acc/gpio-virtio.gcda" "$out/gpio-virtio-merged.gcda"
	(cd "$tmp/w" && "$gcov" -b -j -t gpio-virtio.gcno > "$tmp/cov.json" 2> "$tmp/gcov.log") ||
		die "$gcov failed: $(tail -n 3 "$tmp/gcov.log")"
	python3 - "$tmp/cov.json" "$gdir/gpio-virtio.c" "$out" "$#" \
		"${COV_MIN_LINES:-}" "${COV_MIN_BRANCHES:-}" <<'PY'
import json, os, sys

js, src, out, nboots = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
min_lines, min_br = sys.argv[5], sys.argv[6]
d = json.load(open(js))
files = [f for f in d["files"] if os.path.basename(f["file"]) == "gpio-virtio.c"]
if not files:
    sys.exit("gcov has no data for gpio-virtio.c")
f = files[0]
text = open(src, encoding="utf-8", errors="replace").read().split("\n")
lines = {l["line_number"]: l for l in f["lines"]}
nl = len(lines)
cl = sum(1 for l in lines.values() if l["count"] > 0)
nb = sum(len(l["branches"]) for l in lines.values())
cb = sum(1 for l in lines.values() for b in l["branches"] if b["count"] > 0)
funcs = f["functions"]
# A function ran when a line of it ran: one inlined everywhere has an
# out-of-line copy that is never called.
def ran(fn):
    return any(lines[n]["count"] > 0 for n in range(fn["start_line"], fn["end_line"] + 1)
               if n in lines)
nf = len(funcs)
cf = sum(1 for fn in funcs if ran(fn))
pct = lambda a, b: 100.0 * a / b if b else 0.0
summary = (f"lines {pct(cl, nl):.1f}% ({cl} of {nl}), branches {pct(cb, nb):.1f}% "
           f"({cb} of {nb}), functions {cf} of {nf}; {nboots} boot(s) merged")
if cl == 0:
    sys.exit(f"gcov counts no line run ({summary}): the data does not belong to this build, or the rig is broken")

# The function of each line, by the functions' extents.
def func_of(n):
    best = None
    for fn in funcs:
        if fn["start_line"] <= n <= fn["end_line"]:
            if best is None or fn["start_line"] > best["start_line"]:
                best = fn
    return best["name"] if best else "(file scope)"

with open(os.path.join(out, "coverage.txt"), "w") as o:
    o.write(f"coverage of gpio-virtio.c: {summary}\n\n")
    never = [fn["name"] for fn in funcs if not ran(fn)]
    o.write(f"functions never called ({len(never)}): {' '.join(never) or '-'}\n\n")
    o.write("lines never run, by function (line: source):\n")
    cur = None
    for n in sorted(lines):
        if lines[n]["count"] > 0:
            continue
        fn = lines[n].get("function_name") or func_of(n)
        if fn != cur:
            o.write(f"\n{fn}:\n")
            cur = fn
        o.write(f"  {n}: {text[n - 1].strip() if n <= len(text) else ''}\n")
    o.write("\nlines run with a branch never taken (line: taken/branches: source):\n")
    for n in sorted(lines):
        br = lines[n]["branches"]
        t = sum(1 for b in br if b["count"] > 0)
        if lines[n]["count"] > 0 and t < len(br):
            o.write(f"  {n}: {t}/{len(br)}: {text[n - 1].strip() if n <= len(text) else ''}\n")

with open(os.path.join(out, "gpio-virtio.c.cov"), "w") as o:
    o.write(f"# {summary}\n# count:line:branches taken/all:source ('#####' never run, '-' no code)\n")
    for n, t in enumerate(text, 1):
        l = lines.get(n)
        if l is None:
            o.write(f"{'-':>9}:{n:5}:     :{t}\n")
            continue
        c = str(l["count"]) if l["count"] else "#####"
        br = l["branches"]
        b = f"{sum(1 for x in br if x['count'] > 0)}/{len(br)}" if br else ""
        o.write(f"{c:>9}:{n:5}:{b:>5}:{t}\n")

print(summary)
bad = []
if min_lines and pct(cl, nl) < float(min_lines):
    bad.append(f"lines below {min_lines}%")
if min_br and pct(cb, nb) < float(min_br):
    bad.append(f"branches below {min_br}%")
if bad:
    print("coverage.sh: " + ", ".join(bad), file=sys.stderr)
    sys.exit(2)
PY
}

case "${1:-}" in
take) [ $# = 3 ] || die "usage: $0 take CONSOLE OUT.gcda"; take "$2" "$3" ;;
report) [ $# -ge 3 ] || die "usage: $0 report GCOVDIR OUTDIR GCDA..."; shift; report "$@" ;;
*) die "usage: $0 take CONSOLE OUT.gcda | report GCOVDIR OUTDIR GCDA..." ;;
esac
