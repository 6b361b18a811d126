# bpf_object(NAME name SOURCE path/to/name.bpf.c [INCLUDES dir...])
#
# Compiles one eBPF C file with clang -target bpf against vmlinux.h (CO-RE) and
# generates its libbpf skeleton with `bpftool gen skeleton`. Produces an INTERFACE
# library `<name>_skel`: link it and `#include "<name>.skel.h"`.
#
# vmlinux.h is dumped once per build tree from the running kernel's BTF
# (WEFT_VMLINUX_BTF); CO-RE relocations make the objects portable across kernels.

find_program(BPF_CLANG NAMES clang clang-16 clang-15 clang-14 REQUIRED)
find_program(BPFTOOL NAMES bpftool PATHS /usr/sbin /usr/local/sbin REQUIRED)
set(WEFT_VMLINUX_BTF /sys/kernel/btf/vmlinux CACHE FILEPATH "BTF blob vmlinux.h is generated from")

set(WEFT_BPF_GEN_DIR ${CMAKE_BINARY_DIR}/bpf-gen)
set(WEFT_VMLINUX_H ${WEFT_BPF_GEN_DIR}/vmlinux/vmlinux.h)

if(CMAKE_SYSTEM_PROCESSOR MATCHES "x86_64|AMD64")
  set(WEFT_BPF_ARCH x86)
elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "aarch64|arm64")
  set(WEFT_BPF_ARCH arm64)
else()
  set(WEFT_BPF_ARCH ${CMAKE_SYSTEM_PROCESSOR})
endif()

add_custom_command(
  OUTPUT ${WEFT_VMLINUX_H}
  COMMAND ${CMAKE_COMMAND} -E make_directory ${WEFT_BPF_GEN_DIR}/vmlinux
  COMMAND ${BPFTOOL} btf dump file ${WEFT_VMLINUX_BTF} format c > ${WEFT_VMLINUX_H}.tmp
  COMMAND ${CMAKE_COMMAND} -E rename ${WEFT_VMLINUX_H}.tmp ${WEFT_VMLINUX_H}
  COMMENT "bpftool: vmlinux.h from ${WEFT_VMLINUX_BTF}"
  VERBATIM)
add_custom_target(weft_vmlinux_h DEPENDS ${WEFT_VMLINUX_H})

function(bpf_object)
  cmake_parse_arguments(ARG "" "NAME;SOURCE" "INCLUDES" ${ARGN})
  get_filename_component(src ${ARG_SOURCE} ABSOLUTE)
  set(obj ${WEFT_BPF_GEN_DIR}/${ARG_NAME}.bpf.o)
  set(skel ${WEFT_BPF_GEN_DIR}/${ARG_NAME}.skel.h)
  set(includes -I${WEFT_BPF_GEN_DIR}/vmlinux -I${CMAKE_SOURCE_DIR} -I${LIBBPF_INCLUDEDIR})
  foreach(dir ${ARG_INCLUDES})
    get_filename_component(abs ${dir} ABSOLUTE)
    list(APPEND includes -I${abs})
  endforeach()
  add_custom_command(
    OUTPUT ${obj}
    COMMAND ${BPF_CLANG} -g -O2 -target bpf -D__TARGET_ARCH_${WEFT_BPF_ARCH}
            -Wall -Werror ${includes} -MD -MF ${obj}.d -c ${src} -o ${obj}
    DEPENDS ${src} ${WEFT_VMLINUX_H}
    DEPFILE ${obj}.d
    COMMENT "clang -target bpf ${ARG_NAME}.bpf.c"
    VERBATIM)
  add_custom_command(
    OUTPUT ${skel}
    COMMAND ${BPFTOOL} gen skeleton ${obj} name ${ARG_NAME} > ${skel}.tmp
    COMMAND ${CMAKE_COMMAND} -E rename ${skel}.tmp ${skel}
    DEPENDS ${obj}
    COMMENT "bpftool gen skeleton ${ARG_NAME}"
    VERBATIM)
  add_custom_target(${ARG_NAME}_skel_gen DEPENDS ${skel})
  add_library(${ARG_NAME}_skel INTERFACE)
  add_dependencies(${ARG_NAME}_skel ${ARG_NAME}_skel_gen)
  target_include_directories(${ARG_NAME}_skel INTERFACE ${WEFT_BPF_GEN_DIR})
  target_link_libraries(${ARG_NAME}_skel INTERFACE PkgConfig::LIBBPF)
endfunction()
