# Packages one sparq kernel as a Vitis RTL kernel (.xo) in Vivado batch mode;
# bitstreams/vitis/Makefile runs it for KERNELS=rtl:
#
#   vivado -mode batch -source package_kernel.tcl \
#     -tclargs KERNEL KERNEL_XML XO WORK_DIR INCLUDE_DIR CUS SRC...
#
# KERNEL is the wrapper's module (rtl/sq_gemm_kernel.sv, sq_attn_kernel.sv or
# sq_accel_kernel.sv in this folder) and the kernel's name; CUS the
# accelerator kernel's GEMM units (its parameter U); KERNEL_XML comes from
# `xclbingen --kernel-xml`, so the register offsets are those of spec.h.
# Written from the Vitis documentation (UG1393, "Packaging RTL kernels");
# not run here: this machine has no Vivado.

lassign $argv kernel kernel_xml xo work incdir cus
set srcs [lrange $argv 6 end]

create_project -force ${kernel}_pack $work/project
add_files -norecurse $srcs
add_files -norecurse [glob $incdir/*.svh]
set_property file_type {Verilog Header} [get_files *.svh]
set_property include_dirs [list $incdir] [current_fileset]
set_property top $kernel [current_fileset]
update_compile_order -fileset sources_1

# vendor:library:name:version must match the vlnv in kernel.xml.
ipx::package_project -root_dir $work/ip -vendor sparq -library kernel \
  -taxonomy /KernelIP -import_files -set_current false
ipx::unload_core $work/ip/component.xml
ipx::edit_ip_in_project -upgrade true -name ${kernel}_edit -directory $work/edit \
  $work/ip/component.xml
set core [ipx::current_core]
set_property version 1.0 $core
set_property sdx_kernel true $core
set_property sdx_kernel_type rtl $core
if {$kernel eq "sq_accel_kernel"} {
  set_property value $cus [ipx::get_user_parameters U -of_objects $core]
  set_property value $cus [ipx::get_hdl_parameters U -of_objects $core]
}
# Every interface (the accelerator has one m_axi_* per unit port) runs on the
# kernel clock; ap_rst_n is its active-low reset.
foreach busif [ipx::get_bus_interfaces -of_objects $core] {
  set name [get_property name $busif]
  if {[string match m_axi_* $name] || $name eq "s_axi_control"} {
    ipx::associate_bus_interfaces -busif $name -clock ap_clk $core
  }
}
ipx::update_checksums $core
ipx::check_integrity -kernel $core
ipx::save_core $core
close_project -delete

package_xo -force -xo_path $xo -kernel_name $kernel -ip_directory $work/ip \
  -kernel_xml $kernel_xml
