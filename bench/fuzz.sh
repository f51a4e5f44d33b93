#!/usr/bin/env bash
# bench/fuzz.sh — the fuzzing campaign of issue 19 item 6 (long: not run in CI;
# CI runs every target's seed corpus as a plain test).
#
# Finds every Go fuzz target in the repository (func FuzzXxx(f *testing.F) in
# a _test.go file), runs each with `go test -fuzz` for a given time, and
# prints a summary: executions, new corpus entries, and any crasher. Go writes
# a failing input to <package>/testdata/fuzz/<Target>/<hash>, where it becomes
# a regression seed that every later `go test` runs: the script lists each new
# file there so it can be committed with the fix (it deletes nothing).
#
#   bash bench/fuzz.sh                    # every target, 5 minutes each (~2 h)
#   bash bench/fuzz.sh -t 30s             # or FUZZTIME=30s
#   bash bench/fuzz.sh -r 'Parse|Decode'  # only targets whose name matches (grep -E)
#   bash bench/fuzz.sh -p 1               # fuzzing workers per target (default: GOMAXPROCS)
#   bash bench/fuzz.sh -l                 # list the targets and exit
#
# Logs: bench/out/fuzz/<package path>.<Target>.log; summary: bench/out/fuzz/summary.txt
# (FUZZ_OUT names another directory).
# Result per target: ok; CRASH (a new crasher, kept); SEED-FAIL (a kept seed
# still fails: the bug is not fixed); FAIL (the package did not build or run).
# Exit status 1 unless every target is ok.
set -euo pipefail
cd "$(dirname "$0")/.."
export GOFLAGS="${GOFLAGS:--buildvcs=false}"

FUZZTIME="${FUZZTIME:-5m}"
MATCH="${FUZZ_MATCH:-}"
PARALLEL="${FUZZ_PARALLEL:-}"
LIST=0
usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; }
while getopts "t:r:p:lh" opt; do
	case $opt in
	t) FUZZTIME=$OPTARG ;;
	r) MATCH=$OPTARG ;;
	p) PARALLEL=$OPTARG ;;
	l) LIST=1 ;;
	h) usage; exit 0 ;;
	*) usage >&2; exit 2 ;;
	esac
done
OUT="${FUZZ_OUT:-bench/out/fuzz}"
mkdir -p "$OUT"

# targets prints "dir target" for every fuzz target, sorted.
targets() {
	grep -rHE --include='*_test.go' --exclude-dir=node_modules --exclude-dir=.git \
		'^func Fuzz[A-Za-z0-9_]*\(f \*testing\.F\)' . |
		sed -E 's|^\./(.*)/[^/]+_test\.go:func (Fuzz[A-Za-z0-9_]*)\(.*|\1 \2|' | sort -u
}

mapfile -t all < <(targets)
selected=()
for t in "${all[@]}"; do
	if [[ -z $MATCH ]] || grep -qE -- "$MATCH" <<<"${t#* }"; then
		selected+=("$t")
	fi
done
if [[ $LIST == 1 ]]; then
	printf '%s\n' "${selected[@]}"
	exit 0
fi
[[ ${#selected[@]} -gt 0 ]] || { echo "fuzz: no target matches '$MATCH'" >&2; exit 2; }
echo "fuzz: ${#selected[@]} targets, $FUZZTIME each${PARALLEL:+, $PARALLEL workers}" >&2

# corpus_files lists the regression seeds of dir's target (one per line).
corpus_files() { ls -1 "$1/testdata/fuzz/$2" 2>/dev/null || true; }

summary="$OUT/summary.txt"
{
	echo "fuzz campaign $(date -u +%Y-%m-%dT%H:%M:%SZ), $FUZZTIME per target, $(go version | cut -d' ' -f3), $(nproc) CPUs"
	printf '%-40s %-28s %8s %14s %10s %s\n' package target result execs "new corpus" "crashers kept"
} >"$summary"
failed=0
crashers=()
start=$(date +%s)
for t in "${selected[@]}"; do
	dir=${t% *}
	name=${t#* }
	log="$OUT/${dir//\//.}.$name.log"
	before=$(corpus_files "$dir" "$name")
	args=(-run '^$' -fuzz "^$name\$" -fuzztime "$FUZZTIME")
	[[ -n $PARALLEL ]] && args+=(-parallel "$PARALLEL")
	echo "fuzz: $dir $name" >&2
	result=ok
	go test "${args[@]}" "./$dir" >"$log" 2>&1 || result=FAIL
	# The last progress line: "fuzz: elapsed: 10s, execs: 123456 (12345/sec), new interesting: 3 (total: 40)".
	progress=$(grep -E '^fuzz: elapsed: .*execs: ' "$log" | tail -1 || true)
	execs=$(sed -nE 's/.*execs: ([0-9]+) .*/\1/p' <<<"$progress")
	newi=$(sed -nE 's/.*new interesting: ([0-9]+).*/\1/p' <<<"$progress")
	after=$(corpus_files "$dir" "$name")
	added=$(comm -13 <(sort <<<"$before") <(sort <<<"$after") | sed '/^$/d' | sed "s|^|$dir/testdata/fuzz/$name/|" | paste -sd' ' -)
	if [[ -n $added ]]; then
		result=CRASH
		crashers+=("$added")
	elif seed=$(sed -nE 's|^failure while testing seed corpus entry: [^/]+/(.*)$|\1|p' "$log" | head -1) && [[ -n $seed ]]; then
		# A regression seed kept from an earlier run still fails.
		result=SEED-FAIL
		added="$dir/testdata/fuzz/$name/$seed"
	fi
	[[ $result == ok ]] || failed=1
	printf '%-40s %-28s %8s %14s %10s %s\n' "$dir" "$name" "$result" "${execs:--}" "${newi:--}" "${added:--}" >>"$summary"
	if [[ $result != ok ]]; then
		echo "fuzz: $name: $result (log $log)" >&2
		grep -E -- '--- FAIL|panic:|Failing input|FAIL' "$log" | head -5 >&2 || true
	fi
done
echo "total $(($(date +%s) - start)) s; crashers kept as regression seeds: ${#crashers[@]}" >>"$summary"
cat "$summary"
if [[ ${#crashers[@]} -gt 0 ]]; then
	echo "fuzz: commit the new seeds above with the fix; 'go test ./<package>' replays them" >&2
fi
exit "$failed"
