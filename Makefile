# fspiop-guard: build, demo, test, benchmark and fuzz.
#
# `make demo` and `make test` install what they need (idempotently) and work on a fresh
# machine. Tests that compare with the Mojaloop SDK's own conformance material read it
# from $(FSPIOP_SHARED) and skip with a message when it is absent.

SHELL := /bin/bash
FSPIOP_SHARED ?= ../shared
export FSPIOP_SHARED := $(abspath $(FSPIOP_SHARED))

CARGO ?= cargo
BIN := $(or $(CARGO_TARGET_DIR),target)/release/fspiop-guard
FUZZ_SECONDS ?= 300
DIFF_COUNT ?= 2000
DIFF_SEED ?= 1

.PHONY: all build demo test test-rust test-conformance test-differential lint bench fuzz fuzz-build setup-fuzz clean

all: build

build:
	$(CARGO) build --release --locked -p fspiop-guard-cli

## demo: verify the bundled example requests and print each verdict.
demo: build
	@bash examples/demo.sh $(BIN)

## test: formatting, lints, unit, conformance and differential tests.
test: lint test-rust test-conformance test-differential

lint:
	$(CARGO) fmt --all --check
	$(CARGO) clippy --locked --workspace --all-targets -- -D warnings

CONFORMANCE_TESTS := corpus_verdicts_match_the_sdk signer_output_matches_the_sdk_byte_for_byte

test-rust:
	$(CARGO) test --locked --workspace -- $(addprefix --skip ,$(CONFORMANCE_TESTS))

## test-conformance: the SDK-signed corpus, with its per-class summary printed.
test-conformance:
	@if [ ! -f "$(FSPIOP_SHARED)/conformance/jws/corpus.json" ]; then \
		echo "NOTE: conformance tests SKIPPED: $(FSPIOP_SHARED)/conformance/jws/corpus.json not found;"; \
		echo "      set FSPIOP_SHARED to the folder that holds conformance/jws (default ../shared)."; \
	fi
	$(CARGO) test --locked -p fspiop-guard-core --test conformance -- --nocapture --test-threads 1

test-differential: build
	node tests/differential/run.mjs --cli $(BIN) --seed $(DIFF_SEED) --count $(DIFF_COUNT)

## bench: criterion benchmarks; results go to docs/BENCHMARKS.md by hand.
bench:
	$(CARGO) bench --locked -p fspiop-guard-core

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
