#!/usr/bin/env python3
"""Counts the filtering rules of one target's output, the same way for
Zonal's and Aerleon's files (docs/performance.md, "Side by side with
Aerleon"). Usage: count.py TARGET FILE...  (several files are summed)."""
import re
import sys
import xml.etree.ElementTree as ET

VERDICT = re.compile(r"\b(accept|drop|reject)\b")


def count(target, text):
    lines = text.splitlines()
    if target == "nftables":
        # Statements ending in a verdict; chain policies are not rules.
        return sum(1 for l in lines if VERDICT.search(l) and "policy " not in l
                   and not l.lstrip().startswith("#"))
    if target == "iptables":
        return sum(1 for l in lines if l.startswith("-A "))
    if target == "pf":
        return sum(1 for l in lines if re.match(r"\s*(pass|block)\b", l))
    if target == "ios":
        return sum(1 for l in lines if re.match(r"\s*(permit|deny)\s", l))
    if target == "asa":
        return sum(1 for l in lines if re.match(r"access-list \S+ extended ", l))
    if target == "srx":
        # Distinct policies: the text before and including `policy NAME`.
        return len({m.group(0) for l in lines
                    for m in [re.match(r"^.*?\bpolicy [^ {]+", l.strip())] if m
                    and not l.strip().startswith(("#", "/*"))})
    if target == "panos":
        if text.lstrip().startswith("<"):
            root = ET.fromstring(text[text.index("<"):])
            return len(root.findall(".//security/rules/entry"))
        return len({m.group(1) for l in lines
                    for m in [re.search(r"rulebase security rules (\S+)", l)] if m})
    raise SystemExit(f"unknown target {target}")


target = sys.argv[1]
print(sum(count(target, open(f, encoding="utf-8", errors="replace").read())
          for f in sys.argv[2:]))
