#!/usr/bin/env bash
# The speed benchmark of docs/performance.md: grades each folder RUNS times with each
# grader binary, interleaved (A B A B ...: a machine whose speed drifts over minutes
# drifts for all of them alike), and prints the median wall time and the median CPU time
# (user + sys of the grader and every program it started and waited for) per binary and
# folder, and the median over the folders of each binary's medians.
#   scripts/bench.sh [-n RUNS] DIR [DIR ...] [-- GRADER_ARGS...]
#   GRADERS="old/grader target/release/grader" scripts/bench.sh fixtures/good/lecture
# Runs use seeds 1..RUNS, so every binary grades the same cases.
set -euo pipefail
runs=5
while getopts "n:" o; do case $o in n) runs=$OPTARG;; *) exit 2;; esac; done
shift $((OPTIND - 1))
dirs=() ; while [ $# -gt 0 ] && [ "$1" != "--" ]; do dirs+=("$1"); shift; done
[ "${1:-}" = "--" ] && shift
read -r -a graders <<<"${GRADERS:-target/release/grader}"
out=$(mktemp)
trap 'rm -f "$out"' EXIT
for dir in "${dirs[@]}"; do
  for i in $(seq "$runs"); do
    for g in "${graders[@]}"; do
      /usr/bin/time -f "%e %U %S" -o "$out.t" "$g" check "$dir" --seed "$i" "$@" \
        >/dev/null 2>&1 || true
      # (time writes "Command exited with non-zero status 1" first for a failing grade)
      read -r wall user sys < <(tail -n 1 "$out.t")
      echo "$g $dir $wall $(echo "$user + $sys" | bc)" >>"$out"
    done
  done
done
rm -f "$out.t"
python3 - "$out" <<'EOF'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
by = {}
for g, d, wall, cpu in rows:
    by.setdefault((g, d), []).append((float(wall), float(cpu)))
per = {}
for (g, d), v in by.items():
    wall = statistics.median(w for w, _ in v)
    cpu = statistics.median(c for _, c in v)
    per.setdefault(g, []).append(wall)
    print(f"{g}  {d}: median {wall:.2f} s wall, {cpu:.2f} s CPU ({len(v)} runs, {min(w for w, _ in v):.2f}-{max(w for w, _ in v):.2f} s)")
if len({d for _, d in by}) > 1:
    for g, walls in per.items():
        print(f"{g}: median over {len(walls)} folders {statistics.median(walls):.2f} s wall")
EOF
