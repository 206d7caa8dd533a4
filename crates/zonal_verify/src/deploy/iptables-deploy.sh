#!/bin/sh
# zonal-iptables-deploy: load a Zonal iptables-restore file on a shared
# host (first deployment and every redeploy), changing nothing but Zonal's
# own chains and the one jump into them.
# usage: zonal-iptables-deploy iptables|ip6tables FILE
set -eu
t=$1
f=$2
# The chains the file declares. The first is the entry chain (zonal_forward)
# and every one starts with the same prefix (zonal_).
chains=$(sed -n 's/^:\([^ ]*\) - \[0:0\]$/\1/p' "$f")
entry=$(printf '%s\n' "$chains" | head -n 1)
prefix=${entry%forward}
# 1. Replace the rules of Zonal's chains in one atomic commit.
"$t-restore" --noflush "$f"
# 2. The one jump from FORWARD, inserted by the first deployment only.
"$t" -C FORWARD -j "$entry" 2>/dev/null || "$t" -I FORWARD 1 -j "$entry"
# 3. Delete the chains of earlier versions that this file no longer has
#    (after step 1 nothing jumps to them).
stale=$("$t-save" -t filter | sed -n "s/^:\($prefix[^ ]*\) .*/\1/p" | grep -vxF "$chains" || true)
if [ -n "$stale" ]; then
  {
    echo '*filter'
    for c in $stale; do echo ":$c - [0:0]"; done
    for c in $stale; do echo "-X $c"; done
    echo COMMIT
  } | "$t-restore" --noflush
fi
