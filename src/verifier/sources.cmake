# The verifier (structure.c is listed in the top-level CMakeLists.txt).
list(APPEND BPFX_STAGE_SOURCES
  ${CMAKE_SOURCE_DIR}/src/verifier/tnum.c
  ${CMAKE_SOURCE_DIR}/src/verifier/bounds.c
  ${CMAKE_SOURCE_DIR}/src/verifier/state.c
  ${CMAKE_SOURCE_DIR}/src/verifier/precision.c
  ${CMAKE_SOURCE_DIR}/src/verifier/check_mem.c
  ${CMAKE_SOURCE_DIR}/src/verifier/check_alu.c
  ${CMAKE_SOURCE_DIR}/src/verifier/check_call.c
  ${CMAKE_SOURCE_DIR}/src/verifier/log.c
  ${CMAKE_SOURCE_DIR}/src/verifier/verifier.c
)
