#!/usr/bin/env bash
# Grades fixture folders N times in a row while both cores are kept busy by CPU burners,
# and reports how often each folder's verdicts matched the first run's. A correct
# program's verdict must never depend on machine load.
#   scripts/stress.sh [-n RUNS] [-l LOAD_WORKERS] DIR [DIR ...] [-- GRADER_ARGS...]
set -euo pipefail
runs=20 load=2
while getopts "n:l:" o; do case $o in n) runs=$OPTARG;; l) load=$OPTARG;; *) exit 2;; esac; done
shift $((OPTIND - 1))
dirs=() ; while [ $# -gt 0 ] && [ "$1" != "--" ]; do dirs+=("$1"); shift; done
[ "${1:-}" = "--" ] && shift
grader=${GRADER:-target/release/grader}
burners=()
for _ in $(seq "$load"); do (while :; do :; done) & burners+=($!); done
trap 'kill "${burners[@]}" 2>/dev/null' EXIT
for dir in "${dirs[@]}"; do
  first="" same=0 slowest=0
  for i in $(seq "$runs"); do
    start=$(date +%s%N)
    # Exit code 1 is a verdict (a failing fixture), not an error of the script.
    verdicts=$( ("$grader" check "$dir" --format json --seed "$i" "$@" || [ $? -eq 1 ]) | python3 -c '
import json, sys
r = json.load(sys.stdin)
print(" ".join(t["id"] + "/" + c["id"] + "=" + c["status"] for t in r["tasks"] for c in t["checks"]))')
    ms=$(( ($(date +%s%N) - start) / 1000000 )); [ "$ms" -gt "$slowest" ] && slowest=$ms
    [ -z "$first" ] && first=$verdicts
    if [ "$verdicts" = "$first" ]; then same=$((same + 1)); else
      echo "  run $i differs: $(diff <(tr ' ' '\n' <<<"$first") <(tr ' ' '\n' <<<"$verdicts") | grep '^[<>]' | tr '\n' ' ')"; fi
  done
  echo "$dir: $same/$runs runs with the same verdicts (slowest ${slowest} ms under load $load); $(tr ' ' '\n' <<<"$first" | grep -vc '=pass$' || true) checks not passing"
done
