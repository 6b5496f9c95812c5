# Thin wrapper over CMake; every real rule lives in CMakeLists.txt.
BUILD    ?= build
ASAN     ?= build-asan
JOBS     ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE    ?= cmake
CTEST    ?= ctest

.PHONY: all check demo bench asan clean install

all: $(BUILD)/Makefile
	@$(CMAKE) --build $(BUILD) -j $(JOBS) -- --no-print-directory

$(BUILD)/Makefile: CMakeLists.txt
	@./tools/install-deps.sh
	@$(CMAKE) -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null

check: all
	@cd $(BUILD) && $(CTEST) -j $(JOBS) --output-on-failure -L fast

demo: all
	@./$(BUILD)/peimm tour

bench: all
	@./$(BUILD)/peimm bench

asan:
	@./tools/install-deps.sh
	@$(CMAKE) -S . -B $(ASAN) -DCMAKE_BUILD_TYPE=Debug -DPEIMM_SANITIZE=ON >/dev/null
	@$(CMAKE) --build $(ASAN) -j $(JOBS)
	@cd $(ASAN) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  $(CTEST) -j $(JOBS) --output-on-failure -L fast

# make install PREFIX=/opt/peimm [DESTDIR=...]: CMake's install with CMAKE_INSTALL_PREFIX
# (cmake/install.cmake): lib, headers, lib/pkgconfig/peimm.pc, bin/peimm, man1/peimm.1.
PREFIX ?= /usr/local
install:
	@./tools/install-deps.sh
	@$(CMAKE) -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DCMAKE_INSTALL_PREFIX=$(abspath $(PREFIX)) >/dev/null
	@$(CMAKE) --build $(BUILD) -j $(JOBS) -- --no-print-directory
	@DESTDIR=$(DESTDIR) $(CMAKE) --install $(BUILD)

clean:
	rm -rf $(BUILD) $(ASAN) $(FUZZ)

# libFuzzer over random syscall sequences (needs clang): make fuzz FUZZ_SECONDS=600
FUZZ         ?= build-fuzz
FUZZ_SECONDS ?= 60
.PHONY: fuzz
fuzz:
	@command -v clang >/dev/null || apt-get install -y clang
	@CC=clang $(CMAKE) -S . -B $(FUZZ) -DCMAKE_BUILD_TYPE=Debug -DPEIMM_FUZZ=ON >/dev/null
	@$(CMAKE) --build $(FUZZ) -j $(JOBS) --target fuzz_syscalls
	@mkdir -p $(FUZZ)/corpus
	@./$(FUZZ)/fuzz_syscalls -max_total_time=$(FUZZ_SECONDS) -max_len=4096 $(FUZZ)/corpus tests/fuzz/corpus

# More differential sequences against the host kernel: make difftest SEED=7 N=5000 [CALLS=80]
SEED  ?= 1
N     ?= 1000
CALLS ?= 40
.PHONY: difftest
difftest: all
	@PEIMM_DIFF_SEED=$(SEED) PEIMM_DIFF_N=$(N) PEIMM_DIFF_CALLS=$(CALLS) \
	  ./$(BUILD)/test_diff random_call_sequences_match_the_host_kernel
