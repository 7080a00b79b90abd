list(APPEND BPFX_STAGE_SOURCES
  ${CMAKE_SOURCE_DIR}/src/helpers/maps.c
)
list(APPEND BPFX_STAGE_SOURCES
  ${CMAKE_SOURCE_DIR}/src/helpers/helpers.c
  ${CMAKE_SOURCE_DIR}/src/helpers/core.c
  ${CMAKE_SOURCE_DIR}/src/helpers/format.c
  ${CMAKE_SOURCE_DIR}/src/helpers/names.c
)
