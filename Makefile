# fspiop-guard: build, demo, test, benchmark and fuzz.
#
# `make demo` and `make test` install what they need (idempotently) and work on a fresh
# machine. Tests that compare with the Mojaloop SDK's own conformance material read it
# from $(FSPIOP_SHARED) and skip with a message when it is absent.

SHELL := /bin/bash
FSPIOP_SHARED ?= ../shared
export FSPIOP_SHARED := $(abspath $(FSPIOP_SHARED))

CARGO ?= cargo
TARGET_DIR := $(or $(CARGO_TARGET_DIR),target)
BIN := $(TARGET_DIR)/release/fspiop-guard

# The Envoy filter: the wasm32-wasip1 build, and the module after wasm-opt that is
# deployed and that every filter test and benchmark loads.
FILTER_RAW := $(TARGET_DIR)/wasm32-wasip1/wasm-release/fspiop_guard_envoy_filter.wasm
FILTER_WASM := $(TARGET_DIR)/filter/fspiop_guard_envoy_filter.wasm
export FSPIOP_GUARD_FILTER_WASM := $(abspath $(FILTER_WASM))
# The module with the client certificate and JWT checks (cargo feature `full`).
FILTER_FULL_RAW := $(TARGET_DIR)/wasm32-wasip1/wasm-release-full/fspiop_guard_envoy_filter.wasm
FILTER_FULL_WASM := $(TARGET_DIR)/filter/fspiop_guard_envoy_filter_full.wasm
export FSPIOP_GUARD_FILTER_FULL_WASM := $(abspath $(FILTER_FULL_WASM))
TOOLS_DIR := $(HOME)/.cache/fspiop-guard/tools
BINARYEN_VERSION := 132.0.0
WASM_OPT := $(TOOLS_DIR)/node_modules/.bin/wasm-opt
# opt-level of the module: 3 (default) for speed, z for a smaller module at about 1.6x
# the time per request (docs/BENCHMARKS.md).
FILTER_OPT_LEVEL ?= 3
WASM_OPT_FLAGS ?= -O3 --enable-bulk-memory --enable-sign-ext --enable-mutable-globals --enable-nontrapping-float-to-int
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
FUZZ_SECONDS ?= 300
DIFF_COUNT ?= 2000
DIFF_SEED ?= 1

.PHONY: all build demo test test-rust test-conformance test-differential test-js test-page lint bench fuzz fuzz-build setup-fuzz setup-wasm setup-js js filter page page-build clean

all: build

build:
	$(CARGO) build --release --locked -p fspiop-guard-cli

## demo: verify the bundled example requests and print each verdict, then replay them
## through the Envoy filter module.
demo: build filter
	@bash examples/demo.sh $(BIN) $(FILTER_WASM)

## test: formatting, lints, unit, conformance, differential and npm package tests.
test: lint test-rust test-conformance test-differential test-js

lint: setup-wasm setup-js
	$(CARGO) fmt --all --check
	$(CARGO) clippy --locked --workspace --all-targets -- -D warnings
	$(CARGO) clippy --locked -p fspiop-guard-envoy-filter --target wasm32-wasip1 -- -D warnings
	$(CARGO) clippy --locked -p fspiop-guard-envoy-filter --target wasm32-wasip1 --features full -- -D warnings
	$(CARGO) clippy --locked -p fspiop-guard-envoy-filter --all-targets --features full -- -D warnings
	$(CARGO) clippy --locked -p fspiop-guard-wasm --target wasm32-unknown-unknown -- -D warnings

CONFORMANCE_TESTS := corpus_verdicts_match_the_sdk signer_output_matches_the_sdk_byte_for_byte \
	corpus_verdicts_match_native_core_on_both_signature_paths

test-rust: filter
	$(CARGO) test --locked --workspace -- $(addprefix --skip ,$(CONFORMANCE_TESTS))

## setup-wasm: the wasm32-wasip1 target, clang (ring's C code for wasm) and wasm-opt.
setup-wasm:
	@rustup target list --installed | grep -qx wasm32-wasip1 || rustup target add wasm32-wasip1
	@command -v clang >/dev/null || $(SUDO) apt-get install -y -qq clang \
		|| { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq clang; }
	@[ -x "$(WASM_OPT)" ] || { mkdir -p "$(TOOLS_DIR)" && cd "$(TOOLS_DIR)" && \
		npm install --no-save --no-audit --no-fund --silent binaryen@$(BINARYEN_VERSION); }

# The npm package: the bindings crate built for wasm32-unknown-unknown, then wasm-bindgen's
# glue for Node (CommonJS, loads the module synchronously) and for browsers (ES module
# with init()). wasm-bindgen-cli must be exactly the wasm-bindgen version in Cargo.lock.
WASM_BINDGEN_VERSION := $(shell sed -n '/^name = "wasm-bindgen"$$/{n;s/^version = "\(.*\)"$$/\1/p;}' Cargo.lock)
WASM_BINDGEN_ROOT := $(TOOLS_DIR)/wasm-bindgen-$(WASM_BINDGEN_VERSION)
WASM_BINDGEN := $(WASM_BINDGEN_ROOT)/bin/wasm-bindgen
BINDINGS_RAW := $(TARGET_DIR)/wasm32-unknown-unknown/npm-release/fspiop_guard_wasm.wasm
JS_DIST := js/dist
# The module is built for speed (opt-level 3, wasm-opt -O3), except ring (Cargo.toml):
# 835 KB, 343 KB gzipped, under the 350 KB gzip budget for browsers (docs/BENCHMARKS.md).
# Both glue files load the same module bytes.
JS_WASM_OPT_FLAGS ?= -O3 --enable-bulk-memory --enable-sign-ext --enable-mutable-globals \
	--enable-nontrapping-float-to-int --enable-reference-types --enable-multivalue

## setup-js: the wasm32-unknown-unknown target, clang, wasm-bindgen-cli $(WASM_BINDGEN_VERSION),
## Debian's chromium and the npm package's development dependencies.
setup-js:
	@rustup target list --installed | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown
	@command -v clang >/dev/null || $(SUDO) apt-get install -y -qq clang \
		|| { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq clang; }
	@if ! "$(WASM_BINDGEN)" --version 2>/dev/null | grep -qxF "wasm-bindgen $(WASM_BINDGEN_VERSION)"; then \
		$(CARGO) install --locked wasm-bindgen-cli --version $(WASM_BINDGEN_VERSION) --root "$(WASM_BINDGEN_ROOT)" \
		|| { echo "NOTE: the --locked install of wasm-bindgen-cli $(WASM_BINDGEN_VERSION) failed (its lock file can name"; \
		     echo "      crate versions the registry does not serve); installing it with freshly resolved dependencies."; \
		     $(CARGO) install wasm-bindgen-cli --version $(WASM_BINDGEN_VERSION) --root "$(WASM_BINDGEN_ROOT)"; }; \
	fi
	@# Debian's chromium for the browser test; playwright-core drives it, and never
	@# downloads a browser of its own.
	@command -v chromium >/dev/null || $(SUDO) apt-get install -y -qq chromium \
		|| { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium; } \
		|| echo "NOTE: chromium could not be installed; the browser test will be skipped."
	@# npm ci deletes node_modules first, so run it only when the lock file is newer.
	@cd js && if [ ! -f package-lock.json ]; then npm install --ignore-scripts --no-audit --no-fund --silent; \
		elif [ ! node_modules/.package-lock.json -nt package-lock.json ]; then \
		npm ci --ignore-scripts --no-audit --no-fund --silent; fi

## js: the npm package's wasm and glue in js/dist/node (CommonJS) and js/dist/web (ES module).
js: setup-js setup-wasm
	$(CARGO) build --locked -p fspiop-guard-wasm --profile npm-release --target wasm32-unknown-unknown
	rm -rf $(JS_DIST)
	"$(WASM_BINDGEN)" --target nodejs --out-dir $(JS_DIST)/node $(BINDINGS_RAW)
	"$(WASM_BINDGEN)" --target web --out-dir $(JS_DIST)/web $(BINDINGS_RAW)
	"$(WASM_OPT)" $(JS_WASM_OPT_FLAGS) $(JS_DIST)/web/fspiop_guard_wasm_bg.wasm -o $(JS_DIST)/web/fspiop_guard_wasm_bg.wasm
	@# The module bytes are the same for both targets, so the Node glue reads the web copy
	@# and the package ships one module. The build fails if the glue's path line changed.
	rm $(JS_DIST)/node/fspiop_guard_wasm_bg.wasm
	sed -i 's|^const wasmPath = `$${__dirname}/fspiop_guard_wasm_bg.wasm`;$$|const wasmPath = `$${__dirname}/../web/fspiop_guard_wasm_bg.wasm`;|' $(JS_DIST)/node/fspiop_guard_wasm.js
	grep -q '/../web/fspiop_guard_wasm_bg.wasm' $(JS_DIST)/node/fspiop_guard_wasm.js
	@echo '{ "type": "module" }' > $(JS_DIST)/web/package.json
	@printf 'npm package wasm: %s bytes, %s gzipped\n' \
		$$(stat -c %s $(JS_DIST)/web/fspiop_guard_wasm_bg.wasm) $$(gzip -9c $(JS_DIST)/web/fspiop_guard_wasm_bg.wasm | wc -c)

## test-js: the npm package's tests (node --test), against the CLI's verdicts. They include
## the verification page's tests, which drive Debian's chromium through playwright-core.
test-js: js build
	cd js && FSPIOP_GUARD_CLI=$(abspath $(BIN)) PAGE_SCREENSHOT_DIR=$(abspath $(PAGE_SCREENSHOTS)) node --test test/

# The verification page (js/page): a static folder built from the page's files and the
# package's browser build, served on loopback by `make page`.
PAGE_OUT ?= $(TARGET_DIR)/page
PAGE_PORT ?= 8731
PAGE_SCREENSHOTS ?= $(TARGET_DIR)/page-screenshots

## page-build: the verification page as a static folder in $(PAGE_OUT), for any static host.
page-build: js
	node js/page/build.mjs $(PAGE_OUT)

## page: serve the verification page on http://127.0.0.1:$(PAGE_PORT)/ (PAGE_PORT=N for another).
page: page-build
	node js/page/serve.mjs $(PAGE_OUT) --port $(PAGE_PORT)

## test-page: only the page's tests; screenshots of each state go to $(PAGE_SCREENSHOTS).
test-page: js
	cd js && PAGE_SCREENSHOT_DIR=$(abspath $(PAGE_SCREENSHOTS)) node --test test/page-*.test.mjs

## filter: the Envoy filter modules, optimised with wasm-opt: the JWS-only module at
## $(FILTER_WASM), and the one with client certificate and JWT checks at $(FILTER_FULL_WASM).
filter: setup-wasm
	CARGO_PROFILE_WASM_RELEASE_OPT_LEVEL=$(FILTER_OPT_LEVEL) \
		$(CARGO) build --locked -p fspiop-guard-envoy-filter --profile wasm-release --target wasm32-wasip1
	CARGO_PROFILE_WASM_RELEASE_FULL_OPT_LEVEL=$(FILTER_OPT_LEVEL) \
		$(CARGO) build --locked -p fspiop-guard-envoy-filter --profile wasm-release-full --target wasm32-wasip1 --features full
	@mkdir -p $(dir $(FILTER_WASM))
	"$(WASM_OPT)" $(WASM_OPT_FLAGS) $(FILTER_RAW) -o $(FILTER_WASM)
	"$(WASM_OPT)" $(WASM_OPT_FLAGS) $(FILTER_FULL_RAW) -o $(FILTER_FULL_WASM)
	@for module in $(FILTER_WASM) $(FILTER_FULL_WASM); do \
		printf 'filter module: %s (%s bytes, %s gzipped)\n' $$module \
			$$(stat -c %s $$module) $$(gzip -9c $$module | wc -c); done

## test-conformance: the SDK-signed corpus, with its per-class summary printed.
test-conformance: filter
	@if [ ! -f "$(FSPIOP_SHARED)/conformance/jws/corpus.json" ]; then \
		echo "NOTE: conformance tests SKIPPED: $(FSPIOP_SHARED)/conformance/jws/corpus.json not found;"; \
		echo "      set FSPIOP_SHARED to the folder that holds conformance/jws (default ../shared)."; \
	fi
	$(CARGO) test --locked -p fspiop-guard-core --test conformance -- --nocapture --test-threads 1
	$(CARGO) test --locked -p fspiop-guard-envoy-filter --test filter_conformance -- --nocapture

test-differential: build
	node tests/differential/run.mjs --cli $(BIN) --seed $(DIFF_SEED) --count $(DIFF_COUNT)

## bench: criterion benchmarks of the core and of the filter module in the wasmtime host,
## then the module's sizes; results go to docs/BENCHMARKS.md by hand.
bench: filter js
	$(CARGO) bench --locked -p fspiop-guard-core
	$(CARGO) bench --locked -p fspiop-guard-envoy-filter --bench filter
	cd js && node bench/verify.mjs
	@printf 'filter module bytes: %s raw, %s after wasm-opt, %s after gzip -9\n' \
		$$(stat -c %s $(FILTER_RAW)) $$(stat -c %s $(FILTER_WASM)) \
		$$(gzip -9c $(FILTER_WASM) | wc -c)

## fuzz: run every cargo-fuzz target for FUZZ_SECONDS each (needs the nightly toolchain).
## The committed seeds in fuzz/corpus/<target> are only read; inputs that libFuzzer finds
## go to fuzz/target/corpus/<target>, which git ignores.
setup-fuzz:
	@rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
	@command -v cargo-fuzz >/dev/null || $(CARGO) install --locked cargo-fuzz

fuzz-build: setup-fuzz
	cd fuzz && $(CARGO) +nightly fuzz build

fuzz: setup-fuzz
	@set -e; cd fuzz; for target in $$($(CARGO) +nightly fuzz list); do \
		echo "== fuzz $$target for $(FUZZ_SECONDS) s"; \
		mkdir -p target/corpus/$$target; \
		$(CARGO) +nightly fuzz run $$target target/corpus/$$target corpus/$$target -- \
			-max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=2048; \
	done

clean:
	$(CARGO) clean
