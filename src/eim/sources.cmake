# src/eim: the Extension Interface Model (spec, enforcement) and the host
# API (bpfx/bpfx.h). Included by the top-level CMakeLists.txt.
list(APPEND BPFX_STAGE_SOURCES
  ${CMAKE_SOURCE_DIR}/src/eim/proto.c
  ${CMAKE_SOURCE_DIR}/src/eim/spec.c
  ${CMAKE_SOURCE_DIR}/src/eim/yaml.c
  ${CMAKE_SOURCE_DIR}/src/eim/check.c
  ${CMAKE_SOURCE_DIR}/src/eim/hostfn.c
  ${CMAKE_SOURCE_DIR}/src/eim/route.c
  ${CMAKE_SOURCE_DIR}/src/eim/host.c
)
list(APPEND BPFX_STAGE_LIBS yaml bpf)
