# wsc: the two quick-start commands are `make demo` and `make test`.
# Both install what is missing first (scripts/install-deps.sh).

CARGO ?= cargo
export COMPOSER_ALLOW_SUPERUSER = 1

.PHONY: all build headers check-headers demo test test-quick test-long lint test-rust test-c test-php test-examples test-autobahn test-fuzz fuzz soak bench bench-deflate php-autoload php-dev-deps deps deps-demo clean

all: build

deps:
	scripts/install-deps.sh test

deps-demo:
	scripts/install-deps.sh demo

## build: libwsc.so and the echo server, in target/release/, then `headers`
build:
	$(CARGO) build --release --bins --lib
	@$(MAKE) --no-print-directory headers

## headers: refresh the committed files build.rs generates from src/ffi
## (include/wsc.h, php/resources/wsc.ffi.h, php/src/Ffi/Abi.php): runs
## tests/header_fresh.rs with WSC_UPDATE_GENERATED=1, which rewrites a stale one
headers:
	WSC_UPDATE_GENERATED=1 $(CARGO) test --release --quiet --test header_fresh -- --nocapture

## check-headers: fails when a committed generated file is stale, without
## touching it (CI runs it before `make test`, whose build refreshes them)
check-headers:
	$(CARGO) test --release --quiet --test header_fresh

php-autoload:
	composer dump-autoload --quiet

## php-dev-deps: the PHP packages the event-loop adapter tests run against
## (composer.json's require-dev: Workerman 5, react/event-loop, revolt/event-loop;
## Workerman 4 in php/tests/workerman4/), from Composer's repositories (Packagist).
## Without a reachable repository those tests are skipped, saying why (an error when CI is set)
php-dev-deps:
	scripts/php-dev-deps.sh

## demo: the user's Workerman example (php/examples/seed.php) against the
## embedded echo server on 127.0.0.1:1234, with a server restart
demo: deps-demo build php-autoload
	scripts/demo.sh

## test: everything CI runs, in two stages; each stops at the first failure and
## prints how long each part took (scripts/stage.sh):
##   quick: build, lint, Rust unit and integration tests, PHP tests (with the
##          event-loop adapters on real Workerman 4 and 5, ReactPHP and Revolt),
##          the examples: a broken build is reported within minutes;
##   long:  C tests under ASan+UBSan and valgrind, the Autobahn conformance gate,
##          fuzzing (60 s per target), and the installation test of the release
##          artifacts (test-install: make dist, then installs them as a new user
##          would).
test: deps
	@MAKE="$(MAKE)" scripts/stage.sh quick $(QUICK)
	@MAKE="$(MAKE)" scripts/stage.sh long $(LONG)
	@echo "==> all test suites passed"

QUICK = build php-dev-deps php-autoload lint test-rust test-php test-examples
LONG = test-c test-autobahn test-fuzz test-install

## test-quick, test-long: one stage of `make test`
test-quick: deps
	@MAKE="$(MAKE)" scripts/stage.sh quick $(QUICK)

test-long: deps
	@MAKE="$(MAKE)" scripts/stage.sh long $(LONG)

test-autobahn: build php-autoload
	scripts/autobahn.sh

## lint: rustfmt, clippy, rustdoc (warnings are errors), and PSR-12 of the
## PHP package (phpcs with php/phpcs.xml.dist; Debian's php-codesniffer)
lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --all-targets -- -D warnings
	RUSTDOCFLAGS="-D warnings" $(CARGO) doc --no-deps --quiet
	@command -v phpcs >/dev/null || { echo "lint: phpcs is missing (Debian: php-codesniffer; scripts/install-deps.sh test installs it)" >&2; exit 1; }
	cd php && phpcs -q

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
## tests/autobahn/expected-*.json); installs the suite's wstest when missing
## (scripts/autobahn/install-wstest.sh; see docs/autobahn.md)
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
	rm -rf vendor php/vendor php/tests/workerman4/vendor dist tests/c/build fuzz/target fuzz/artifacts

## test-fuzz: the hostile-server fuzz targets (libFuzzer via cargo-fuzz,
## installed from crates.io when missing), plain and with permessage-deflate,
## and the sans-I/O protocol layer, for a bounded 60 s each in CI
test-fuzz:
	scripts/fuzz.sh 60 server_bytes deflate_bytes protocol_bytes

## fuzz: the four fuzz targets, FUZZ_SECONDS each (default 600)
fuzz:
	scripts/fuzz.sh $${FUZZ_SECONDS:-600} all

## soak: an hour of random faults (not in CI); SOAK_SECONDS to change it
soak: build
	scripts/soak.sh $${SOAK_SECONDS:-3600}

# --- Installing and releasing (docs/install.md) ------------------------------

PREFIX ?= /usr/local
DESTDIR ?=
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include

.PHONY: install uninstall dist test-install test-ca-store

## install: libwsc.so.X.Y.Z (SONAME libwsc.so.X) with its links, libwsc.a,
## wsc.h and wsc.pc under $(DESTDIR)$(PREFIX) (default /usr/local); builds
## against the system's OpenSSL (scripts/install.sh)
install: build
	PREFIX='$(PREFIX)' DESTDIR='$(DESTDIR)' LIBDIR='$(LIBDIR)' INCLUDEDIR='$(INCLUDEDIR)' scripts/install.sh

uninstall:
	rm -f $(DESTDIR)$(LIBDIR)/libwsc.so $(DESTDIR)$(LIBDIR)/libwsc.so.* $(DESTDIR)$(LIBDIR)/libwsc.a \
	  $(DESTDIR)$(LIBDIR)/pkgconfig/wsc.pc $(DESTDIR)$(INCLUDEDIR)/wsc.h

## dist: the release artifacts in dist/: the portable libwsc.so (glibc 2.17+,
## OpenSSL built in), the tarball, the Composer package zip and the Debian
## packages (scripts/dist.sh; about 5 minutes from clean on 2 cores)
dist:
	scripts/dist.sh

## test-install: installs the dist/ artifacts as a new user would, outside
## the repository, without cargo (scripts/install-test.sh); builds dist/
## first when it is missing or older than the sources
test-install: dist build
	scripts/install-test.sh

## test-ca-store: the portable library finds the system CA store on the
## Debian, RHEL and Alpine layouts with SSL_CERT_FILE/SSL_CERT_DIR unset
test-ca-store: dist
	scripts/test-ca-store.sh dist/libwsc.so
