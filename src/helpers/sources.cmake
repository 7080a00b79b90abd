list(APPEND BPFX_STAGE_SOURCES
  ${CMAKE_SOURCE_DIR}/src/helpers/maps.c
)
# core.c's HELPER_F_NOVEC helpers run on hook paths that save no vector
# register (vm_prog_vector_free): the compiler must not use any there
set_source_files_properties(${CMAKE_SOURCE_DIR}/src/helpers/core.c
  PROPERTIES COMPILE_OPTIONS -mgeneral-regs-only)
list(APPEND BPFX_STAGE_SOURCES
  ${CMAKE_SOURCE_DIR}/src/helpers/helpers.c
  ${CMAKE_SOURCE_DIR}/src/helpers/core.c
  ${CMAKE_SOURCE_DIR}/src/helpers/format.c
  ${CMAKE_SOURCE_DIR}/src/helpers/names.c
)
