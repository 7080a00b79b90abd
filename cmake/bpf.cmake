# bpfx_bpf_objects(TARGET SOURCES...): compile eBPF C sources with clang
# -target bpf into <build dir>/<name>.bpf.o, plus a libbpf skeleton
# <name>.skel.h (bpftool gen skeleton), built by TARGET (ALL).
find_program(CLANG_BPF clang REQUIRED)
find_program(BPFTOOL bpftool PATHS /usr/sbin /sbin REQUIRED)
set(BPF_CFLAGS -O2 -g -target bpf -D__TARGET_ARCH_x86
    -I/usr/include/${CMAKE_LIBRARY_ARCHITECTURE}
    -I${CMAKE_SOURCE_DIR}/examples/include   # syscall_tp.h
    -Wall -Werror)

function(bpfx_bpf_objects target)
  set(objs "")
  foreach(src ${ARGN})
    get_filename_component(base ${src} NAME_WE)
    set(obj ${CMAKE_CURRENT_BINARY_DIR}/${base}.bpf.o)
    set(skel ${CMAKE_CURRENT_BINARY_DIR}/${base}.skel.h)
    add_custom_command(OUTPUT ${obj} ${skel}
      COMMAND ${CLANG_BPF} ${BPF_CFLAGS} -c ${src} -o ${obj}
      COMMAND ${BPFTOOL} gen skeleton ${obj} name ${base} > ${skel}
      DEPENDS ${src} COMMENT "BPF ${base}.bpf.c")
    list(APPEND objs ${obj} ${skel})
  endforeach()
  add_custom_target(${target} ALL DEPENDS ${objs})
endfunction()
