# The README's two commands, and a few more. CMake does the building.
#   make demo       install what is missing, build, extract the demo SQLite table
#   make check      install what is missing, build, run every test
#   make install    build, then install the binary, the man pages and the bash
#                   completion under PREFIX (default /usr/local), below DESTDIR
#   make uninstall  remove what the last `make install` installed (same DESTDIR)
#   make deb        build BUILD/sluice_VERSION_ARCH.deb (installs under /usr)
BUILD ?= build
JOBS  ?= $(shell nproc 2>/dev/null || echo 2)
# Tests at once: one more than the CPUs, as many tests wait on a database
# server or on fsync for part of their time.
TEST_JOBS ?= $(shell echo $$(($(JOBS) + 1)))
CMAKE_FLAGS ?= -DCMAKE_BUILD_TYPE=Release -DSLUICE_WERROR=ON
PREFIX ?= /usr/local
# Under the sanitizers the manifest and partition suites run on SQLite only
# (their PostgreSQL and MariaDB runs repeat the same core code, whose
# drivers the pg_* and mysql_* suites cover), and packaging is left out:
# the sanitized pass stays within the time make check is meant to take.
SANITIZE_SKIP ?= -E '^e2e_(manifest|partitions)_(pg|mysql)$$|^e2e_(install|deb)$$'

DESTDIR ?=

.PHONY: all build deps demo check bench clean install uninstall deb

all: build

deps:
	@bash scripts/install-deps.sh test

build:
	@bash scripts/install-deps.sh build
	cmake -S . -B $(BUILD) $(CMAKE_FLAGS) >/dev/null
	cmake --build $(BUILD) -j$(JOBS)

demo:
	@bash scripts/install-deps.sh demo
	@$(MAKE) --no-print-directory build
	@bash scripts/demo.sh $(BUILD)

check: deps
	@$(MAKE) --no-print-directory build
	cd $(BUILD) && ctest --output-on-failure -j$(TEST_JOBS)
	TEST_JOBS=$(TEST_JOBS) bash scripts/sanitize-check.sh build-asan $(SANITIZE_SKIP)
	bash scripts/tsan-check.sh build-tsan
	bash scripts/fuzz.sh build-fuzz 20

install: build
	DESTDIR="$(DESTDIR)" cmake --install $(BUILD) --prefix "$(PREFIX)"

uninstall:
	DESTDIR="$(DESTDIR)" cmake -DMANIFEST="$(abspath $(BUILD))/install_manifest.txt" \
	    -P cmake/uninstall.cmake

deb: build
	cd $(BUILD) && cpack -G DEB

bench: deps
	@$(MAKE) --no-print-directory build
	@bash bench/run.sh
	@bash bench/run.sh --scale 1000000,2000000,4000000

clean:
	rm -rf $(BUILD) build-asan build-tsan build-fuzz
