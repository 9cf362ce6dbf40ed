# Sums a yosys `stat` of a flattened synth_xilinx -family xcup netlist by
# resource class and prints a Markdown table (used by synth_gemm.sh and
# synth_accel.sh). LUTRAM is counted in LUTs (a RAM64M8 or RAM32M16 takes 8,
# a RAM64M/RAM32M 4, ...), BRAM in RAMB36 equivalents.
# Variables: title (the line above the table).
$1 ~ /^(LUT[1-6]|LUT6_2)$/           { lut += $2 }
$1 ~ /^(RAM64M8|RAM32M16|RAM256X1D)$/ { lutram += 8 * $2 }
$1 ~ /^(RAM64M|RAM32M|RAM128X1D)$/   { lutram += 4 * $2 }
$1 ~ /^(RAM32X1D|RAM64X1D)$/         { lutram += 2 * $2 }
$1 ~ /^(SRL16E|SRLC32E)$/            { srl += $2 }
$1 ~ /^(FDRE|FDSE|FDCE|FDPE)$/       { ff += $2 }
$1 ~ /^DSP48E2$/                     { dsp += $2 }
$1 ~ /^RAMB36E2$/                    { b36 += $2 }
$1 ~ /^RAMB18E2$/                    { b18 += $2 }
$1 ~ /^(CARRY4|CARRY8)$/             { carry += $2 }
END {
  printf "%s\n\n", title
  printf "| resource | count |\n|---|---|\n"
  printf "| LUT (logic) | %d |\n| LUTRAM (in LUTs) | %d |\n| SRL | %d |\n", lut, lutram, srl
  printf "| FF | %d |\n| CARRY4/CARRY8 | %d |\n| DSP48E2 | %d |\n", ff, carry, dsp
  printf "| BRAM (RAMB36E2 %d + RAMB18E2 %d) | %.1f RAMB36 |\n", b36, b18, b36 + b18 / 2
}
