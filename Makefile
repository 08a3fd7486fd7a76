# Two commands for a new machine: `make run` and `make test`. Every step installs only what is
# missing, so the second run skips straight to the build. See shared TOOLCHAIN notes in README.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
export PATH := $(HOME)/.cargo/bin:$(PATH)

CARGO_LEPTOS_VERSION := 0.3.10
# wasm-bindgen-cli must be exactly the wasm-bindgen version in Cargo.lock.
WASM_BINDGEN_VERSION := $(shell awk '/^name = "wasm-bindgen"$$/ { getline; gsub(/"/, "", $$3); print $$3; exit }' Cargo.lock)
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

# The browser's wasm as the app's frame plus a file per group of pages (`app::routes`). A build
# without these flags still works: every page is then in the one wasm file.
SPLIT := --split --lib-features split

# Benches build the server with the flags cargo-leptos gives the release build
# (`always-erase-components`): the pages it renders then hydrate with the release wasm, and the
# release dependencies are reused instead of built a second time.
BENCH_RUSTFLAGS := --cfg erase_components

.PHONY: run test deps test-deps build build-release unit e2e lint fmt sim bench bench-web soak clean

## make run: install what is missing, build (release), serve on http://127.0.0.1:3000
run: deps
	cargo leptos serve --release --precompress $(SPLIT)

## make test: install test needs, then every Rust test, lints and the Playwright suite
test: deps test-deps lint unit e2e

deps:
	@rustup target list --installed | grep -qx wasm32-unknown-unknown \
	  || { echo "==> installing the wasm32 target"; rustup target add wasm32-unknown-unknown; }
	@cargo leptos --version 2>/dev/null | grep -q "$(CARGO_LEPTOS_VERSION)" \
	  || { echo "==> installing cargo-leptos $(CARGO_LEPTOS_VERSION) (about 15 minutes, once)"; \
	       cargo install cargo-leptos --version $(CARGO_LEPTOS_VERSION) --locked; }
	@wasm-bindgen --version 2>/dev/null | grep -q "$(WASM_BINDGEN_VERSION)" \
	  || { echo "==> installing wasm-bindgen-cli $(WASM_BINDGEN_VERSION)"; \
	       cargo install wasm-bindgen-cli --version $(WASM_BINDGEN_VERSION) --force; }
	@[ node_modules/.package-lock.json -nt package-lock.json ] \
	  || { echo "==> installing Tailwind and wasm-opt from npm"; npm ci --no-audit --no-fund; }

test-deps:
	@[ -x /usr/bin/chromium ] \
	  || { echo "==> installing Debian chromium"; $(SUDO) apt-get update; $(SUDO) apt-get install -y chromium; }
	@[ end2end/node_modules/.package-lock.json -nt end2end/package-lock.json ] \
	  || { echo "==> installing the Playwright runner"; cd end2end && npm ci --no-audit --no-fund; }

build: deps
	cargo leptos build $(SPLIT)

build-release: deps
	cargo leptos build --release --precompress $(SPLIT)

## Rust unit and integration tests: server side (real SQLite files, real HTTP on loopback),
## then the browser-side unit tests. cargo-leptos reuses the build's artifacts.
unit: deps
	cargo leptos test

## Playwright against the debug build (three servers, see end2end/playwright.config.ts)
e2e: build test-deps
	cd end2end && npx playwright test

lint: deps
	cargo fmt --all --check
	cargo clippy --features ssr --all-targets -- -D warnings
	cargo clippy --lib --features hydrate --target wasm32-unknown-unknown -- -D warnings
	cargo clippy --lib --features split --target wasm32-unknown-unknown -- -D warnings

fmt:
	cargo fmt --all

## Benchmarks (release build): full and quick syncs with 10,000 and 100,000 devices next to
## the bare protocol (wall time, devices/s, API calls by cmdlet, peak RSS), then the
## simulator's admin API over loopback (100,000 devices, 1,000-device pages).
## Then the web part (`bench-web`).
bench: deps
	RUSTFLAGS="$(BENCH_RUSTFLAGS)" cargo bench --features ssr --bench protocol
	$(MAKE) bench-web

## The web part alone: the release build served with the demo tenant; first-load bytes per
## page, requests/s and p99 of pages, /healthz and assets next to bare axum (wrk), with targets.
bench-web: deps
	@command -v wrk >/dev/null \
	  || { echo "==> installing wrk"; $(SUDO) apt-get update; $(SUDO) apt-get install -y wrk; }
	cargo leptos build --release --precompress $(SPLIT)
	RUSTFLAGS="$(BENCH_RUSTFLAGS)" cargo bench --features ssr --bench web

## Load and a long sync at once (release binaries, loopback, about 3 minutes): 200 connections
## for 60 s and 500 live streams while a full sync of 100,000 devices runs; errors, p99 and RSS.
## SOAK_CONNECTIONS, SOAK_STREAMS, SOAK_SECONDS and SOAK_DEVICES change the sizes.
soak: deps
	RUSTFLAGS="$(BENCH_RUSTFLAGS)" cargo bench --features ssr --bench soak

## The simulator on its own: make sim ARGS="--devices 10000"
sim:
	cargo run --features ssr --bin exo-sim -- $(ARGS)

clean:
	cargo clean
	rm -rf end2end/.data end2end/test-results end2end/playwright-report
