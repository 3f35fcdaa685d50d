# bpf_object(NAME SOURCE): compiles SOURCE with clang -target bpf and generates
# NAME.skel.h with `bpftool gen skeleton`. Defines an INTERFACE target
# NAME_skel whose include dir holds the skeleton.
find_program(BPF_CLANG clang REQUIRED)
find_program(BPFTOOL bpftool PATHS /usr/sbin /usr/local/sbin REQUIRED)

# asm/types.h lives in the multiarch include dir on Debian.
execute_process(COMMAND ${CMAKE_C_COMPILER} -print-multiarch
                OUTPUT_VARIABLE BPF_MULTIARCH OUTPUT_STRIP_TRAILING_WHITESPACE)

set(BPF_SKEL_DIR ${CMAKE_BINARY_DIR}/skel)
file(MAKE_DIRECTORY ${BPF_SKEL_DIR})

function(bpf_object name source)
  set(obj ${BPF_SKEL_DIR}/${name}.bpf.o)
  set(skel ${BPF_SKEL_DIR}/${name}.skel.h)
  file(GLOB_RECURSE bpf_headers ${BPFNET_ROOT}/bpf/lib/*.h ${BPFNET_ROOT}/maps/*.h)
  add_custom_command(
    OUTPUT ${obj}
    COMMAND ${BPF_CLANG} -target bpf -g -O2 -Wall -Werror -D__TARGET_ARCH_x86
            -I${BPFNET_ROOT}/maps -I${BPFNET_ROOT}/bpf
            -I/usr/include/${BPF_MULTIARCH}
            -c ${CMAKE_CURRENT_SOURCE_DIR}/${source} -o ${obj}
    DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/${source} ${bpf_headers}
    COMMENT "BPF ${source}"
    VERBATIM)
  add_custom_command(
    OUTPUT ${skel}
    COMMAND ${BPFTOOL} gen skeleton ${obj} name ${name} > ${skel}
    DEPENDS ${obj}
    COMMENT "skeleton ${name}"
    VERBATIM)
  add_custom_target(${name}_skel_gen DEPENDS ${skel})
  add_library(${name}_skel INTERFACE)
  target_include_directories(${name}_skel SYSTEM INTERFACE ${BPF_SKEL_DIR})
  add_dependencies(${name}_skel ${name}_skel_gen)
endfunction()
