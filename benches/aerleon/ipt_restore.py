#!/usr/bin/env python3
"""Turns Aerleon's iptables output (rule lines for `iptables`, an `# inet`
and an `# inet6` section, no `*filter`/`COMMIT` framing) into two files
that `iptables-restore` and `ip6tables-restore` load, so that the harness
times the kernel load of both tools' outputs the same way
(docs/performance.md, "Side by side with Aerleon").

Usage: ipt_restore.py AERLEON_FILE OUT_V4 OUT_V6

`-P CHAIN POLICY` becomes the chain line `:CHAIN POLICY [0:0]`, `-N CHAIN`
becomes `:CHAIN - [0:0]`; every other `-` line is kept as it is."""
import sys

src, out4, out6 = sys.argv[1:4]
sections = {"inet": [], "inet6": []}
cur = "inet"
for line in open(src, encoding="utf-8"):
    line = line.rstrip("\n")
    if line.strip() in ("# inet", "# inet6"):
        cur = line.strip()[2:]
        continue
    if line.startswith("-"):
        sections[cur].append(line)


def restore(lines):
    heads, body = [], []
    for l in lines:
        w = l.split()
        if w[0] == "-P":
            heads.append(f":{w[1]} {w[2]} [0:0]")
        elif w[0] == "-N":
            heads.append(f":{w[1]} - [0:0]")
        else:
            body.append(l)
    return "*filter\n" + "\n".join(heads + body) + "\nCOMMIT\n"


with open(out4, "w", encoding="utf-8") as f:
    f.write(restore(sections["inet"]))
with open(out6, "w", encoding="utf-8") as f:
    f.write(restore(sections["inet6"]))
