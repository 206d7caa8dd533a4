#!/usr/bin/env bash
# Side-by-side harness: Zonal against Aerleon 1.18 on the same generated
# policy (docs/performance.md, "Side by side with Aerleon"). Not part of CI.
#
#   benches/aerleon/run.sh [SCALES...]     # default: S M L XL
#
# S 100 zones / 400 flows, M 500 / 2,000, L 2,000 / 8,000 (both tools),
# XL 20,000 / 200,000 (Zonal alone). For each scale and target, RUNS
# (default 3; RUNS_LARGE, default 1, at L and XL) interleaved runs of `zonal build --target T` and `aclgen` on
# that target's policy; prints a Markdown table: median wall time, peak
# memory, the ratio, rules (benches/aerleon/count.py, the same regex for
# both outputs), output bytes, and for nftables and iptables the kernel
# load time (`nft -f`, `iptables-restore` + `ip6tables-restore`, in a
# fresh network namespace, as root; Aerleon's iptables text is framed for
# iptables-restore by ipt_restore.py).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
tgt=${CARGO_TARGET_DIR:-$root/target}
work=$tgt/aerleon-bench
# Runs per scale: RUNS (default 3) at S and M; RUNS_LARGE (default 1) at L
# and XL, where one Aerleon run of every target takes minutes.
small_runs=${RUNS:-3}
large_runs=${RUNS_LARGE:-1}
venv=$tgt/aerleon-venv
[ -x "$venv/bin/aclgen" ] || { python3 -m venv "$venv" && "$venv/bin/pip" install -q 'aerleon==1.18.*'; }
(cd "$root" && cargo build --release -q -p zonal_cli -p zonal_bench --bin zonal --bin aerleon-export)
zonal=$tgt/release/zonal
count="python3 $root/benches/aerleon/count.py"
mkdir -p "$work"

# time_of CMD...: "wall_s peak_kib" of one run (output discarded). A
# non-zero exit is reported on stderr (`zonal check` exits 1 with findings).
time_of() {
  /usr/bin/time -f "%e %M" -o "$work/time.txt" "$@" > /dev/null 2> "$work/err.txt" \
    || echo "exit $?: $*" >&2
  tail -1 "$work/time.txt"
}
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# nft_load FILE: seconds to load FILE into a fresh network namespace.
nft_load() {
  local ns="i14b-aerleon-$$"
  ip netns add "$ns"
  local s; s=$( { /usr/bin/time -f "%e" ip netns exec "$ns" nft -f "$1" > /dev/null; } 2>&1 | tail -2)
  ip netns del "$ns"
  # A file the kernel refuses is a defect, not a time.
  case "$s" in *non-zero*) echo "REFUSED" ;; *) echo "$s" | tail -1 ;; esac
}

# ipt_load V4 V6: seconds to load an iptables-restore file and an
# ip6tables-restore file into a fresh network namespace.
ipt_load() {
  local ns="i14b-aerleon-$$"
  ip netns add "$ns"
  local s; s=$( { /usr/bin/time -f "%e" ip netns exec "$ns" sh -c 'iptables-restore < "$1" && ip6tables-restore < "$2"' _ "$1" "$2" > /dev/null; } 2>&1 | tail -2)
  ip netns del "$ns"
  case "$s" in *non-zero*) echo "REFUSED" ;; *) echo "$s" | tail -1 ;; esac
}

declare -A ZONES=([S]=100 [M]=500 [L]=2000 [XL]=20000)
declare -A FLOWS=([S]=400 [M]=2000 [L]=8000 [XL]=200000)
targets="nftables iptables pf ios asa srx panos"

echo "| scale | target | Zonal wall | Aerleon wall | ratio | Zonal peak | Aerleon peak | Zonal rules | Aerleon rules | Zonal bytes | Aerleon bytes | kernel load Zonal / Aerleon |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
for scale in "${@:-S M L XL}"; do
  for sc in $scale; do
  d=$work/$sc
  case "$sc" in S|M) runs=$small_runs ;; *) runs=$large_runs ;; esac
  rm -rf "$d" && mkdir -p "$d"
  "$tgt/release/aerleon-export" --zones "${ZONES[$sc]}" --flows "${FLOWS[$sc]}" "$d" > "$d/export.txt"
  alone=$([ "$sc" = XL ] && echo 1 || echo 0)
  # The full check: `zonal check` against `aclgen --shade_check` (nftables policy).
  zc=(); ac=()
  for _ in $(seq "$runs"); do
    zc+=("$(time_of "$zonal" check "$d/zonal/policy" --format short)")
    if [ "$alone" = 0 ]; then
      rm -rf "$d/ashade" && mkdir -p "$d/ashade"
      ac+=("$(time_of "$venv/bin/aclgen" --shade_check --policy_file "$d/aerleon/policies/nftables.yaml" --base_directory "$d/aerleon/policies" \
        --definitions_directory "$d/aerleon/def" --output_directory "$d/ashade" --max_renderers 1)")
    fi
  done
  zw=$(printf '%s\n' "${zc[@]}" | cut -d' ' -f1 | median); zm=$(printf '%s\n' "${zc[@]}" | cut -d' ' -f2 | median)
  if [ "$alone" = 0 ]; then
    aw=$(printf '%s\n' "${ac[@]}" | cut -d' ' -f1 | median); am=$(printf '%s\n' "${ac[@]}" | cut -d' ' -f2 | median)
    echo "| $sc | check (shade_check) | ${zw} s | ${aw} s | $(awk "BEGIN{printf \"%.0f\", $aw/($zw>0?$zw:0.005)}")× | $((zm/1024)) MiB | $((am/1024)) MiB | | | | | |"
  else
    echo "| $sc | check | ${zw} s | | | $((zm/1024)) MiB | | | | | | |"
  fi
  # Every target in one build (Zonal alone: Aerleon has no such mode). At
  # XL FortiGate refuses the policy by design (E0331: 228,737 policies do
  # not fit the 99,998 ids Zonal owns on one FortiGate), so the XL build
  # names the other seven targets.
  every=all; every_label="all targets (Zonal)"
  if [ "$sc" = XL ]; then every=nftables,iptables,pf,ios,asa,srx,panos; every_label="all targets but FortiGate (Zonal)"; fi
  za=()
  for _ in $(seq "$runs"); do
    rm -rf "$d/z-all"
    za+=("$(time_of "$zonal" build "$d/zonal/policy" --target "$every" -o "$d/z-all/")")
  done
  zw=$(printf '%s\n' "${za[@]}" | cut -d' ' -f1 | median); zm=$(printf '%s\n' "${za[@]}" | cut -d' ' -f2 | median)
  echo "| $sc | $every_label | ${zw} s | | | $((zm/1024)) MiB | | | | $(cat "$d"/z-all/* 2>/dev/null | wc -c) | | |"
  for t in $targets; do
    zr=(); ar=()
    for _ in $(seq "$runs"); do
      rm -rf "$d/z-$t" "$d/a-$t" && mkdir -p "$d/a-$t"
      zr+=("$(time_of "$zonal" build "$d/zonal/policy" --target "$t" -o "$d/z-$t/")")
      if [ "$alone" = 0 ]; then
        ar+=("$(time_of "$venv/bin/aclgen" --policy_file "$d/aerleon/policies/$t.yaml" --base_directory "$d/aerleon/policies" \
          --definitions_directory "$d/aerleon/def" --output_directory "$d/a-$t" --max_renderers 1)")
      fi
    done
    zw=$(printf '%s\n' "${zr[@]}" | cut -d' ' -f1 | median); zm=$(printf '%s\n' "${zr[@]}" | cut -d' ' -f2 | median)
    zf=$(ls "$d/z-$t"/*); zrules=$($count "$t" $zf); zbytes=$(cat $zf | wc -c)
    if [ "$alone" = 0 ]; then
      aw=$(printf '%s\n' "${ar[@]}" | cut -d' ' -f1 | median); am=$(printf '%s\n' "${ar[@]}" | cut -d' ' -f2 | median)
      af=$(ls "$d/a-$t"/*); arules=$($count "$t" $af); abytes=$(cat $af | wc -c)
      ratio=$(awk "BEGIN{printf \"%.0f\", $aw/($zw>0?$zw:0.005)}")
    else
      aw=""; am=0; arules=""; abytes=""; ratio=""
    fi
    load=""
    if [ "$t" = nftables ] && [ "$(id -u)" = 0 ] && command -v nft > /dev/null; then
      zl=$(nft_load "$zf")
      if [ "$alone" = 0 ]; then al=$(nft_load "$af"); load="$zl s / $al s"; else load="$zl s"; fi
    fi
    if [ "$t" = iptables ] && [ "$(id -u)" = 0 ] && command -v iptables-restore > /dev/null; then
      zl=$(ipt_load "$d/z-$t"/*.iptables "$d/z-$t"/*.ip6tables)
      if [ "$alone" = 0 ]; then
        python3 "$root/benches/aerleon/ipt_restore.py" "$af" "$d/a-ipt.v4" "$d/a-ipt.v6"
        al=$(ipt_load "$d/a-ipt.v4" "$d/a-ipt.v6"); load="$zl s / $al s"
      else load="$zl s"; fi
    fi
    echo "| $sc | $t | ${zw} s | ${aw:+$aw s} | ${ratio:+$ratio×} | $((zm/1024)) MiB | $([ "$am" = 0 ] || echo "$((am/1024)) MiB") | $zrules | $arules | $zbytes | $abytes | $load |"
  done
  done
done
