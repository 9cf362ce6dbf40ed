#!/usr/bin/env python3
"""Synthesizes the attention unit with yosys 0.23 (synth_xilinx, UltraScale+)
and prints its LUT / FF / DSP / BRAM use.

yosys 0.23 reads neither `import pkg::*;` in a module header nor inside a
module, so each module gets the bodies of the packages it imports pasted
after its port list in a flattened copy (build/synth_attn/attn_flat.sv); the
RTL itself stays lowRISC style. Usage:
    scripts/synth_attn.py OUTDIR pkg1.sv pkg2.sv ... module.sv ...
"""
import re
import subprocess
import sys


def main():
    out, files = sys.argv[1], sys.argv[2:]
    pkgs, mods = {}, []
    for f in files:
        text = open(f).read()
        m = re.search(r"^package (\w+);\n(.*?)^endpackage", text, re.S | re.M)
        if m:
            pkgs[m.group(1)] = m.group(2)
        else:
            mods.append(text)
    flat = []
    for text in mods:
        imports = re.findall(r"^\s*import (\w+)::\*;\n", text, re.M)
        text = re.sub(r"^\s*import \w+::\*;\n", "", text, flags=re.M)
        body = "".join(pkgs[p] for p in imports)
        # the port list ends at the first ");" at the end of a line
        text = re.sub(r"\);\n", lambda m: ");\n" + body, text, count=1)
        flat.append(text)
    path = f"{out}/attn_flat.sv"
    with open(path, "w") as f:
        f.write("\n".join(flat))
    script = (f"read_verilog -sv {path}; synth_xilinx -family xcup -top sq_attn_top; "
              f"tee -o {out}/stat.txt stat")
    r = subprocess.run(["yosys", "-q", "-p", script], capture_output=True, text=True)
    if r.returncode:
        sys.stderr.write(r.stdout[-3000:] + r.stderr[-3000:])
        return 1
    stat = open(f"{out}/stat.txt").read()
    cells = dict((name, int(n)) for n, name in re.findall(r"^\s+(\d+)\s+(\S+)$", stat, re.M))
    lut = sum(v for k, v in cells.items() if re.match(r"LUT\d", k))
    ff = sum(v for k, v in cells.items() if re.match(r"FD[CPRS]E?$", k))
    dsp = sum(v for k, v in cells.items() if k.startswith("DSP"))
    bram = sum(v for k, v in cells.items() if k.startswith("RAMB"))
    lutram = sum(v for k, v in cells.items() if k.startswith("RAM") and not k.startswith("RAMB"))
    print(f"sq_attn_top (yosys synth_xilinx -family xcup): LUT {lut} FF {ff} DSP {dsp} "
          f"BRAM {bram} LUTRAM {lutram}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
