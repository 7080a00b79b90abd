list(APPEND BPFX_STAGE_SOURCES
  ${CMAKE_SOURCE_DIR}/src/attach/uprobe.c
  ${CMAKE_SOURCE_DIR}/src/attach/syscall.c
)
