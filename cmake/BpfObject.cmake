# bpf_object(NAME SOURCE [VARIANT V DEFINES D...]): compiles SOURCE with
# clang -target bpf and generates NAME.skel.h with `bpftool gen skeleton`.
# Defines an INTERFACE target NAME_skel (NAME_V_skel for a variant) whose
# include dir holds the skeleton. A variant is the same object built with
# extra -D definitions into a directory of its own, under the same skeleton
# name, so the same C++ sources compile against it (the upgrade test's
# "next build").
find_program(BPF_CLANG clang REQUIRED)
find_program(BPFTOOL bpftool PATHS /usr/sbin /usr/local/sbin REQUIRED)

# asm/types.h lives in the multiarch include dir on Debian.
execute_process(COMMAND ${CMAKE_C_COMPILER} -print-multiarch
                OUTPUT_VARIABLE BPF_MULTIARCH OUTPUT_STRIP_TRAILING_WHITESPACE)

set(BPF_SKEL_DIR ${CMAKE_BINARY_DIR}/skel)
file(MAKE_DIRECTORY ${BPF_SKEL_DIR})

function(bpf_object name source)
  cmake_parse_arguments(ARG "" "VARIANT" "DEFINES" ${ARGN})
  set(dir ${BPF_SKEL_DIR})
  set(target ${name})
  set(defines)
  if(ARG_VARIANT)
    set(dir ${CMAKE_BINARY_DIR}/skel-${ARG_VARIANT})
    set(target ${name}_${ARG_VARIANT})
    foreach(d ${ARG_DEFINES})
      list(APPEND defines -D${d})
    endforeach()
  endif()
  file(MAKE_DIRECTORY ${dir})
  set(obj ${dir}/${name}.bpf.o)
  set(skel ${dir}/${name}.skel.h)
  file(GLOB_RECURSE bpf_headers ${BPFNET_ROOT}/bpf/lib/*.h ${BPFNET_ROOT}/maps/*.h)
  add_custom_command(
    OUTPUT ${obj}
    COMMAND ${BPF_CLANG} -target bpf -g -O2 -Wall -Werror -D__TARGET_ARCH_x86 ${defines}
            -I${BPFNET_ROOT}/maps -I${BPFNET_ROOT}/bpf
            -I/usr/include/${BPF_MULTIARCH}
            -c ${CMAKE_CURRENT_SOURCE_DIR}/${source} -o ${obj}
    DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/${source} ${bpf_headers}
    COMMENT "BPF ${source} ${ARG_VARIANT}"
    VERBATIM)
  add_custom_command(
    OUTPUT ${skel}
    COMMAND ${BPFTOOL} gen skeleton ${obj} name ${name} > ${skel}
    DEPENDS ${obj}
    COMMENT "skeleton ${name} ${ARG_VARIANT}"
    VERBATIM)
  add_custom_target(${target}_skel_gen DEPENDS ${skel})
  add_library(${target}_skel INTERFACE)
  target_include_directories(${target}_skel SYSTEM INTERFACE ${dir})
  add_dependencies(${target}_skel ${target}_skel_gen)
endfunction()
