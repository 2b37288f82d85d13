#!/usr/bin/env bash
# Runs every fuzz target of the main module (`make fuzz`), one after the
# other, for FUZZTIME each (default 30s), and prints each target's exec
# count. FUZZMINIMIZETIME (default 5s) bounds the shrinking of a new input,
# so large seeds (RPMs, ELF objects) do not spend the run being minimized;
# FUZZPARALLEL (default: every CPU) sets -parallel. An optional regular
# expression picks targets by "package-path.FuzzName"; FUZZLOGDIR, when set,
# keeps each target's output there as <FuzzName>.log. A crash fails the run
# and leaves its input under the package's testdata/fuzz, where it becomes
# part of the corpus every `go test` runs.
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime=${FUZZTIME:-30s}
minimize=${FUZZMINIMIZETIME:-5s}
pick=${1:-.}
flags=(-run '^$' -fuzztime "$fuzztime" -fuzzminimizetime "$minimize")
[[ -n ${FUZZPARALLEL:-} ]] && flags+=(-parallel "$FUZZPARALLEL")
# Packages holding a fuzz target; `go test -list` then names the targets.
mapfile -t dirs < <(grep -rl --include='*_test.go' '^func Fuzz' . | grep -v '^./cmd/kabiforge-devserver/' | xargs -n1 dirname | sort -u)
failed=0
for dir in "${dirs[@]}"; do
	for target in $(go test -list '^Fuzz' "$dir" | grep '^Fuzz'); do
		[[ "${dir#./}.$target" =~ $pick ]] || continue
		if [[ -n ${FUZZLOGDIR:-} ]]; then log=$FUZZLOGDIR/$target.log; else log=$(mktemp); fi
		echo "== ${dir#./} $target ($fuzztime)"
		if go test "${flags[@]}" -fuzz "^$target\$" "$dir" >"$log" 2>&1; then
			status=ok
		else
			status=FAILED
			failed=1
			tail -n 30 "$log"
		fi
		execs=$(grep -o 'execs: [0-9]*' "$log" | tail -n 1 | cut -d' ' -f2 || true)
		echo "${dir#./} $target $status execs ${execs:-0}"
		[[ -n ${FUZZLOGDIR:-} ]] || rm -f "$log"
	done
done
exit $failed
