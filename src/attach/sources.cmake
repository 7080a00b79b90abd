# uprobe.c runs on the hit path of HOOK_F_NO_VECTOR hooks (see rehook()),
# syscall.c on the syscall stub's path without SYS_A_VEC
set_source_files_properties(${CMAKE_SOURCE_DIR}/src/attach/uprobe.c
  ${CMAKE_SOURCE_DIR}/src/attach/syscall.c
  PROPERTIES COMPILE_OPTIONS -mgeneral-regs-only)
list(APPEND BPFX_STAGE_SOURCES
  ${CMAKE_SOURCE_DIR}/src/attach/uprobe.c
  ${CMAKE_SOURCE_DIR}/src/attach/debugdata.c
  ${CMAKE_SOURCE_DIR}/src/attach/syscall.c
  ${CMAKE_SOURCE_DIR}/src/attach/sys_rewrite.c
  ${CMAKE_SOURCE_DIR}/src/attach/sys_cache.c
  ${CMAKE_SOURCE_DIR}/src/attach/sys_sud.c
  ${CMAKE_SOURCE_DIR}/src/attach/sys_table.c
)
list(APPEND BPFX_STAGE_LIBS lzma)
