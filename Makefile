# The README contract: `make run` and `make test` on a fresh Debian 12 machine, as root.
# Both install what is missing (scripts/install-deps.sh), build, and go.

BUILD        ?= build
BUILD_ASAN   ?= build-asan
BUILD_TSAN   ?= build-tsan
BUILD_FUZZ   ?= build-fuzz
# Seconds each fuzz target runs in `make fuzz`.
FUZZ_TIME    ?= 20
CONFIG       ?= config/ddnswatch.json
JOBS         ?= $(shell nproc)
WERROR       ?= ON
CMAKE_FLAGS  ?=
BUILD_WINDOWS ?= build-windows

.PHONY: all deps build run demo soak bench test test-unit test-asan test-tsan fuzz windows \
	windows-deps test-windows clean-windows format format-check tidy clean

all: build

deps:
	@scripts/install-deps.sh

$(BUILD)/build.ninja: | deps
	cmake -S . -B $(BUILD) -G Ninja -DDDNSWATCH_WERROR=$(WERROR) $(CMAKE_FLAGS)

build: deps $(BUILD)/build.ninja
	cmake --build $(BUILD) -j $(JOBS)

run: build
	$(BUILD)/ddnswatch run --config $(CONFIG)

# ddnswatch against the full lab of the tests on loopback (BIND, PowerDNS, six unbound
# "regions", an IP echo service, Prometheus, Alertmanager, a webhook receiver); Ctrl-C ends it.
demo: build
	scripts/demo.sh $(BUILD)/ddnswatch

# The daemon for SOAK_MINUTES (default 10) against the full lab with resolvers going down and
# up and the address changing every minute; fails if its memory or descriptors grow.
soak: build
	scripts/soak.sh $(BUILD)/ddnswatch

# The performance table (bench/README.md): the engine against dnsperf and blackbox_exporter on
# a local Knot DNS, sweeps (one behind a 50 ms round trip), and the daemon's /metrics scrape,
# memory and start-up time.
bench: deps
	cmake -S . -B $(BUILD)-release -G Ninja -DCMAKE_BUILD_TYPE=Release -DDDNSWATCH_BUILD_TESTS=OFF
	cmake --build $(BUILD)-release -j $(JOBS) --target engine_bench delay_proxy startup_bench ddnswatch
	bench/run.sh $(BUILD)-release/bench/engine_bench

# Every test: unit tests and integration tests with the real daemon and real servers.
test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) --timeout 600

test-unit: build
	cd $(BUILD) && ctest --output-on-failure -L unit

# Everything built with clang 14 under AddressSanitizer and UndefinedBehaviorSanitizer, and
# every test run against it: the unit tests, then the integration tests with the real servers
# (the daemon they start is the sanitized one too).
test-asan: deps
	CC=clang-14 CXX=clang++-14 cmake -S . -B $(BUILD_ASAN) -G Ninja -DDDNSWATCH_WERROR=ON \
	  -DDDNSWATCH_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug
	cmake --build $(BUILD_ASAN) -j $(JOBS)
	cd $(BUILD_ASAN) && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  ctest --output-on-failure -L unit -j $(JOBS) && \
	  ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  ctest --output-on-failure -L integration -j $(JOBS) --timeout 600

# The threaded parts built with clang 14 under ThreadSanitizer: the unit tests of the event
# loop, HTTP client, DNS exchange, notifier, metrics and updater, and the DNS engine, probe,
# HTTP endpoint (abuse, TLS), notification and daemon tests against real servers (the daemon
# they start is built with it too). tests/tsan.supp lists what is suppressed and why.
test-tsan: deps
	CC=clang-14 CXX=clang++-14 cmake -S . -B $(BUILD_TSAN) -G Ninja -DDDNSWATCH_WERROR=ON \
	  -DDDNSWATCH_TSAN=ON -DDDNSWATCH_BUILD_BENCH=OFF -DCMAKE_BUILD_TYPE=Debug
	cmake --build $(BUILD_TSAN) -j $(JOBS) --target unit_tests integration_tests
	cd $(BUILD_TSAN) && \
	  TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 suppressions=$(abspath tests/tsan.supp)" \
	  ctest --output-on-failure -j $(JOBS) \
	  -R '^(EventLoopTest|HttpClientTest|FakeServerTest|NotificationTest|NotifierTest|MetricsTest|UpdaterTest|DnsEngineTest|ProbeTest|HttpAbuseTest|TlsTest|NotifyTest|DaemonTest)\.'

# Every parser of outside bytes under libFuzzer (tests/fuzz/README.md), with ASan and UBSan,
# each target for FUZZ_TIME seconds from its seed corpus; fails on the first crash.
fuzz: deps
	CC=clang-14 CXX=clang++-14 cmake -S . -B $(BUILD_FUZZ) -G Ninja -DDDNSWATCH_WERROR=ON \
	  -DDDNSWATCH_FUZZ=ON -DDDNSWATCH_BUILD_BENCH=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo
	cmake --build $(BUILD_FUZZ) -j $(JOBS) --target fuzz_targets
	tests/fuzz/run.sh $(BUILD_FUZZ)/tests/fuzz $(FUZZ_TIME)

# Windows (docs/windows.md): ddnswatch.exe cross-built with mingw-w64, every library built from
# Debian's source packages into $(BUILD_WINDOWS)/deps (cached), tested under Wine.
windows-deps:
	@scripts/windows/install-deps.sh
	JOBS=$(JOBS) scripts/windows/build-deps.sh $(BUILD_WINDOWS)

$(BUILD_WINDOWS)/build.ninja: | windows-deps
	cmake -S . -B $(BUILD_WINDOWS) -G Ninja -DCMAKE_BUILD_TYPE=Release \
	  -DCMAKE_TOOLCHAIN_FILE=cmake/toolchain-mingw64.cmake \
	  -DDDNSWATCH_WINDOWS_DEPS=$(abspath $(BUILD_WINDOWS))/deps/prefix -DDDNSWATCH_WERROR=$(WERROR)

windows: windows-deps $(BUILD_WINDOWS)/build.ninja
	cmake --build $(BUILD_WINDOWS) -j $(JOBS) --target ddnswatch

# The unit tests through Wine, then the service test (install, start, scrape, stop, 20 cycles).
test-windows: windows-deps $(BUILD_WINDOWS)/build.ninja
	cmake --build $(BUILD_WINDOWS) -j $(JOBS)
	tests/windows/run-unit-tests.sh $(BUILD_WINDOWS)
	tests/windows/service_test.sh $(BUILD_WINDOWS)

SOURCES = $(shell git ls-files '*.cpp' '*.h')

format:
	clang-format -i $(SOURCES)

format-check: deps
	clang-format --dry-run -Werror $(SOURCES)

tidy: build
	clang-tidy -p $(BUILD) --quiet $(filter %.cpp,$(SOURCES))

clean:
	rm -rf $(BUILD) $(BUILD_ASAN) $(BUILD_TSAN) $(BUILD_FUZZ)

# Keeps the dependencies ($(BUILD_WINDOWS)/deps), which take minutes to build.
clean-windows:
	find $(BUILD_WINDOWS) -mindepth 1 -maxdepth 1 ! -name deps -exec rm -rf {} +
