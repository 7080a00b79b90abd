list(APPEND BPFX_STAGE_SOURCES
  ${CMAKE_SOURCE_DIR}/src/emu/emu.c
  ${CMAKE_SOURCE_DIR}/src/emu/cmd_map.c
  ${CMAKE_SOURCE_DIR}/src/emu/cmd_prog.c
  ${CMAKE_SOURCE_DIR}/src/emu/cmd_obj.c
  ${CMAKE_SOURCE_DIR}/src/emu/progobj.c
  ${CMAKE_SOURCE_DIR}/src/emu/inline.c
  ${CMAKE_SOURCE_DIR}/src/emu/mmap.c
  ${CMAKE_SOURCE_DIR}/src/emu/perf.c
  ${CMAKE_SOURCE_DIR}/src/emu/perf_sw.c
)
# libbpf parses BTF (spin lock offsets) for the verifier
list(APPEND BPFX_STAGE_LIBS bpf)
