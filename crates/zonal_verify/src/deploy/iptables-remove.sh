#!/bin/sh
# zonal-iptables-remove: take Zonal off a host: the jump from FORWARD and
# every chain with Zonal's prefix; nothing else changes.
# usage: zonal-iptables-remove iptables|ip6tables [PREFIX]   (default zonal_)
set -eu
t=$1
prefix=${2:-zonal_}
while "$t" -D FORWARD -j "${prefix}forward" 2>/dev/null; do :; done
chains=$("$t-save" -t filter | sed -n "s/^:\($prefix[^ ]*\) .*/\1/p")
if [ -n "$chains" ]; then
  {
    echo '*filter'
    for c in $chains; do echo ":$c - [0:0]"; done
    for c in $chains; do echo "-X $c"; done
    echo COMMIT
  } | "$t-restore" --noflush
fi
