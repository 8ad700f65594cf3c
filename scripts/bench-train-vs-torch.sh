#!/usr/bin/env bash
# Side-by-side training/inference throughput: ROUNDS rounds of PyTorch's
# reference (../shared/reference/torch_throughput.py, all four settings:
# --threads 1|2 x --convt native|fast) and `oddity bench train`, back to back
# on the same machine, then one line per workload: PyTorch's best rate over
# every setting and round, oddity's rate in each round, and the ratios.
#
#   scripts/bench-train-vs-torch.sh [ROUNDS] [OUTFILE]
#
# Needs python3-torch (apt; PYTHON picks the interpreter, default the
# system's /usr/bin/python3, where apt installs it) and oddity (ODDITY,
# default: built here).
# Run it on a quiet machine: both sides are sensitive to other load.
set -euo pipefail

# steal prints the share of CPU time the hypervisor took since the last
# call (the 8th field of /proc/stat's cpu line): a round run while another
# guest held the cores measures the host, not the code.
prev=""
steal() {
	local cur
	cur=$(head -1 /proc/stat 2>/dev/null || true)
	if [ -n "$prev" ] && [ -n "$cur" ]; then
		awk -v a="$prev" -v b="$cur" 'BEGIN { split(a, x); split(b, y); t = 0; for (i = 2; i <= 9; i++) t += y[i] - x[i]; if (t > 0) printf "# steal %.0f%%\n", 100 * (y[9] - x[9]) / t }'
	fi
	prev=$cur
}
rounds=${1:-3}
out=${2:-bench-train.txt}
ref=${ODDITY_REFERENCE:-../shared/reference}/torch_throughput.py
py=${PYTHON:-/usr/bin/python3}
oddity=${ODDITY:-}
if [ -z "$oddity" ]; then
	go build -o /tmp/oddity-bench ./cmd/oddity
	oddity=/tmp/oddity-bench
fi
: >"$out"
echo "# $(date -u +%FT%TZ) commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown), $rounds rounds" >>"$out"
for r in $(seq 1 "$rounds"); do
	for t in 1 2; do
		for c in native fast; do
			echo "## round $r: $py $ref --threads $t --convt $c --steps 16" >>"$out"
			steal >/dev/null
			"$py" "$ref" --threads "$t" --convt "$c" --steps 16 >>"$out" 2>&1
			steal >>"$out"
		done
	done
	echo "## round $r: oddity bench train --steps 16" >>"$out"
	steal >/dev/null
	"$oddity" bench train --steps 16 >>"$out" 2>&1
	steal >>"$out"
done
"$py" - "$out" <<'PY' | tee -a "$out"
import collections, re, sys
torch, ours, side = collections.defaultdict(list), collections.defaultdict(list), None
for line in open(sys.argv[1]):
    if line.startswith("## "):
        side = ours if "oddity" in line else torch
        continue
    m = re.match(r"(\S+ batch=\S+ \S+): (\d+) ", line)
    if m and side is not None:
        side[m.group(1)].append(int(m.group(2)))
print("# summary: PyTorch best over settings and rounds; oddity per round")
for k, o in ours.items():
    tb = max(torch[k])
    print(f"# {k}: torch best {tb}, oddity {o}, ratio {min(o)/tb:.2f}-{max(o)/tb:.2f}")
PY
