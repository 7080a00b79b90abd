# src/hook: inline function hooks (Zydis decoder glue, relocator,
# trampolines, safe patching). Included by the top-level CMakeLists.txt.
list(APPEND BPFX_STAGE_SOURCES
  ${CMAKE_SOURCE_DIR}/src/hook/decode.c
  ${CMAKE_SOURCE_DIR}/src/hook/reloc.c
  ${CMAKE_SOURCE_DIR}/src/hook/tramp.c
  ${CMAKE_SOURCE_DIR}/src/hook/patch.c
  ${CMAKE_SOURCE_DIR}/src/hook/maps.c
  ${CMAKE_SOURCE_DIR}/src/hook/hook.c
)
list(APPEND BPFX_STAGE_LIBS Zydis)
# The hit path (dispatch here, on_entry/run_list in src/attach/uprobe.c)
# touches no vector register, so HOOK_F_NO_VECTOR hooks may skip saving them.
set_source_files_properties(${CMAKE_SOURCE_DIR}/src/hook/hook.c
  PROPERTIES COMPILE_OPTIONS -mgeneral-regs-only)
