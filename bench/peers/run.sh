#!/usr/bin/env bash
# Peer benchmark: the same M/M/1 queue (lambda=0.9, mu=1.0, FIFO, N customers,
# 2 events per customer) in sbmpsim, SimPy and ns-3. Builds everything into a
# temp dir, runs the three one after another with the same N, and prints
# customers/s, events/s, mean queueing delay Wq (theory 9.0) and the speed
# ratios. See bench/peers/README.md.
#
# Usage: bash bench/peers/run.sh [N] [--seed S] [--json FILE]
#        (N may also come from the env var MM1_CUSTOMERS; default 1000000)
set -euo pipefail

N="${MM1_CUSTOMERS:-1000000}"
SEED=1
JSON_OUT=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --json) JSON_OUT="$2"; shift 2 ;;
    --json=*) JSON_OUT="${1#--json=}"; shift ;;
    --seed) SEED="$2"; shift 2 ;;
    --seed=*) SEED="${1#--seed=}"; shift ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) N="$1"; shift ;;
  esac
done
[[ "$N" =~ ^[1-9][0-9]*$ ]] || { echo "run.sh: N must be a positive integer, got '$N'" >&2; exit 2; }
if [[ -n "$JSON_OUT" && "$JSON_OUT" != /* ]]; then JSON_OUT="$PWD/$JSON_OUT"; fi

# Repo root, relative to this script (bench/peers/run.sh).
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

# --- dependencies (Debian packages), installed only if missing -------------
missing=()
for pkg in python3-simpy3 libns3-dev; do
  if ! dpkg -s "$pkg" 2>/dev/null | grep -q '^Status: install ok installed'; then
    missing+=("$pkg")
  fi
done
if [[ ${#missing[@]} -gt 0 ]]; then
  SUDO=""
  if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
  echo "installing: ${missing[*]}" >&2
  $SUDO apt-get update -qq >&2
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >&2
fi
# Debian's python sees dist-packages (simpy); a pyenv python3 on PATH may not.
PY=/usr/bin/python3

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# --- build --------------------------------------------------------------------
echo "building ns-3 model and sbmpsim..." >&2
g++ -O2 -std=c++17 -I/usr/include bench/peers/ns3/mm1.cc -o "$tmp/ns3-mm1" -lns3-core
go build -o "$tmp/sbmpsim" ./cmd/sbmpsim

# --- run (sequentially, so the runs do not compete for the 2 cores) -----------
echo "running sbmpsim (N=$N)..." >&2
"$tmp/sbmpsim" bench engine --mm1-customers "$N" --hold-sizes 0 > "$tmp/sbmpsim.json"
echo "running ns-3 (N=$N)..." >&2
"$tmp/ns3-mm1" --customers "$N" --seed "$SEED" > "$tmp/ns3.json"
echo "running SimPy (N=$N; the slow one)..." >&2
"$PY" bench/peers/simpy/mm1.py --customers "$N" --seed "$SEED" > "$tmp/simpy.json"

# --- report -------------------------------------------------------------------
"$PY" - "$tmp" "$N" "$JSON_OUT" <<'PYEOF'
import json, os, sys, datetime, platform

tmp, n, json_out = sys.argv[1], int(sys.argv[2]), sys.argv[3]

def load(name):
    text = open(os.path.join(tmp, name)).read()
    try:
        return json.loads(text)
    except ValueError:  # tolerate stray lines around the JSON object
        return json.loads(text[text.index("{"):text.rindex("}") + 1])

ours, simpy, ns3 = load("sbmpsim.json"), load("simpy.json"), load("ns3.json")
for key in ("mm1_customers_per_s", "mm1_events_per_s", "mm1_wq_mean", "mm1_tight_customers_per_s"):
    if key not in ours:
        sys.exit("run.sh: sbmpsim output lacks %r: %s" % (key, ours))

rows = [
    ("sbmpsim", ours["mm1_customers_per_s"], ours["mm1_events_per_s"], ours["mm1_wq_mean"]),
    ("ns3", ns3["customers_per_s"], ns3["events_per_s"], ns3["wq_mean"]),
    ("simpy", simpy["customers_per_s"], simpy["events_per_s"], simpy["wq_mean"]),
]
print("M/M/1 lambda=0.9 mu=1.0, N=%d customers (Wq theory = 9.0)" % n)
print("%-10s %16s %16s %8s" % ("sim", "customers/s", "events/s", "Wq"))
for name, cps, eps, wq in rows:
    print("%-10s %16.0f %16.0f %8.3f" % (name, cps, eps, wq))

tight = ours["mm1_tight_customers_per_s"]
ratios = {
    "sbmpsim/simpy": ours["mm1_customers_per_s"] / simpy["customers_per_s"],
    "sbmpsim/ns3": ours["mm1_customers_per_s"] / ns3["customers_per_s"],
    "engine/tight": ours["mm1_customers_per_s"] / tight,
}
targets = {"sbmpsim/simpy": 50.0, "sbmpsim/ns3": 3.0}
print()
print("%-10s %16.0f customers/s (the same model as a tight single-purpose Go loop)" % ("tight", tight))
for k, v in ratios.items():
    t = targets.get(k)
    note = "" if t is None else "  (target >= %gx: %s)" % (t, "met" if v >= t else "NOT met")
    print("%-14s %8.2fx%s" % (k, v, note))

if json_out:
    result = {
        "date": datetime.date.today().isoformat(),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
        "customers": n,
        "sbmpsim": ours, "ns3": ns3, "simpy": simpy,
        "ratios": ratios,
        "targets": targets,
    }
    with open(json_out, "w") as f:
        json.dump(result, f, indent=2)
        f.write("\n")
    print("\nwrote", json_out)
PYEOF
