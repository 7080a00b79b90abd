list(APPEND BPFX_STAGE_SOURCES
  ${CMAKE_SOURCE_DIR}/src/shm/shm.c
  ${CMAKE_SOURCE_DIR}/src/shm/lock.c
)
