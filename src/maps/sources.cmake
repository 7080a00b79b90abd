list(APPEND BPFX_STAGE_SOURCES
  ${CMAKE_SOURCE_DIR}/src/maps/maps.c
  ${CMAKE_SOURCE_DIR}/src/maps/array.c
  ${CMAKE_SOURCE_DIR}/src/maps/percpu.c
  ${CMAKE_SOURCE_DIR}/src/maps/hash.c
  ${CMAKE_SOURCE_DIR}/src/maps/lru.c
  ${CMAKE_SOURCE_DIR}/src/maps/ringbuf.c
  ${CMAKE_SOURCE_DIR}/src/maps/perf_event.c
  ${CMAKE_SOURCE_DIR}/src/maps/prog_array.c
  ${CMAKE_SOURCE_DIR}/src/maps/stack_trace.c
  ${CMAKE_SOURCE_DIR}/src/maps/queue_stack.c
  ${CMAKE_SOURCE_DIR}/src/maps/bloom.c
  ${CMAKE_SOURCE_DIR}/src/maps/lpm_trie.c
  ${CMAKE_SOURCE_DIR}/src/maps/map_in_map.c
)
