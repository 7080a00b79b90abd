# src/isolate: memory-protection-key isolation (clean "unavailable" fallback).
list(APPEND BPFX_STAGE_SOURCES
  ${CMAKE_SOURCE_DIR}/src/isolate/isolate.c
)
