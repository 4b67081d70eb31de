# wsc: the two quick-start commands are `make demo` and `make test`.
# Both install what is missing first (scripts/install-deps.sh).

CARGO ?= cargo
export COMPOSER_ALLOW_SUPERUSER = 1

.PHONY: all build demo test lint test-rust test-c test-php test-examples test-autobahn test-fuzz fuzz soak bench bench-deflate php-autoload deps deps-demo clean

all: build

deps:
	scripts/install-deps.sh test

deps-demo:
	scripts/install-deps.sh demo

## build: libwsc.so, include/wsc.h and the echo server, in target/release/
build:
	$(CARGO) build --release --bins --lib

php-autoload:
	composer dump-autoload --quiet --working-dir=php

## demo: the user's Workerman example (php/examples/seed.php) against the
## embedded echo server on 127.0.0.1:1234, with a server restart
demo: deps-demo build php-autoload
	scripts/demo.sh

## test: everything CI runs: lints, Rust, C (ASan + valgrind), PHP tests,
## and the Autobahn conformance gate (mandatory in CI, where ../shared is
## present; skipped with a message elsewhere when it is missing)
test: deps build php-autoload lint test-rust test-c test-php test-examples test-autobahn test-fuzz
	@echo "==> all test suites passed"

test-autobahn: build php-autoload
	AUTOBAHN_OPTIONAL=$(if $(CI),0,1) scripts/autobahn.sh

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --all-targets -- -D warnings
	RUSTDOCFLAGS="-D warnings" $(CARGO) doc --no-deps --quiet

test-rust:
	$(CARGO) test --release --no-fail-fast

test-c: build
	tests/c/run.sh

## test-examples: examples/epoll_client.c and examples/python_client.py
## against the echo server (tests/examples/run.sh)
test-examples: build
	tests/examples/run.sh

test-php: build php-autoload
	phpunit -c php/phpunit.xml.dist

## autobahn: the Autobahn TestSuite gate (C testee sections 1-10, PHP testee
## 1-7 and 10, and the C testee with permessage-deflate through 12-13, against
## tests/autobahn/expected-*.json);
## installs wstest into /tmp/autobahn when missing (see scripts/autobahn.sh)
.PHONY: autobahn
autobahn: build php-autoload
	scripts/autobahn.sh

## bench: figures, not pass/fail (see bench/README.md)
bench: deps-demo build php-autoload
	bench/run.sh

## bench-deflate: permessage-deflate against python3-websockets: throughput,
## wire bytes and client CPU per message, RSS per idle connection, with
## compression off / on / on without context takeover (bench/deflate.rs)
bench-deflate: deps
	$(CARGO) build --release --example bench-deflate
	nice target/release/examples/bench-deflate

clean:
	$(CARGO) clean
	rm -rf php/vendor tests/c/build fuzz/target fuzz/artifacts

## test-fuzz: the hostile-server fuzz targets (libFuzzer via cargo-fuzz,
## installed from crates.io when missing), plain and with permessage-deflate,
## for a bounded 60 s each in CI
test-fuzz:
	scripts/fuzz.sh 60 server_bytes deflate_bytes

## fuzz: the three fuzz targets, FUZZ_SECONDS each (default 600)
fuzz:
	scripts/fuzz.sh $${FUZZ_SECONDS:-600} all

## soak: an hour of random faults (not in CI); SOAK_SECONDS to change it
soak: build
	scripts/soak.sh $${SOAK_SECONDS:-3600}
