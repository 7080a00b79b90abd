# bpfx top-level Makefile: wraps CMake + CTest.
#   make         build (build/)
#   make test    build, then run every test: the release build, and unit +
#                conformance tests again under ASan+UBSan (build-asan/, clang),
#                plus a bounded libFuzzer smoke
#   make bench   run the benchmarks (bench/)
#   make demo    the main job on a bundled target (arrives with uprobes)
JOBS ?= $(shell nproc)
CMAKE ?= cmake
GEN := $(shell command -v ninja >/dev/null 2>&1 && echo -G Ninja)

.PHONY: all build asan test bench demo clean deps

all: build

build:
	@$(CMAKE) -S . -B build $(GEN) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@$(CMAKE) --build build -j $(JOBS)

asan:
	@CC=clang $(CMAKE) -S . -B build-asan $(GEN) -DCMAKE_BUILD_TYPE=Debug \
		-DBPFX_SANITIZE=ON -DBPFX_FUZZ=ON >/dev/null
	@$(CMAKE) --build build-asan -j $(JOBS)

test: build asan
	cd build && ctest --output-on-failure -j $(JOBS) --timeout 120
	cd build-asan && ctest --output-on-failure -j $(JOBS) --timeout 300 -L 'unit|conformance|fuzz|progs|verifier'

bench: build
	@$(CMAKE) --build build --target bench-all

# The main job on a bundled target: a malloc size histogram and per-process
# call counts from a userspace uprobe on libc's malloc, in a program that
# allocates in a loop. Ends by itself when the target exits.
demo: build
	@./build/bpfx --session demo reset >/dev/null
	./build/bpfx --session demo run build/examples/malloc.bpf.o -- \
		build/tests/targets/alloc_loop 200000
	@./build/bpfx --session demo reset >/dev/null

deps:
	./scripts/deps.sh

clean:
	rm -rf build build-asan
