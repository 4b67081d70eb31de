#!/usr/bin/env bash
# Installs the PHP packages the tests run against, from Composer's repositories
# (Packagist, or whatever repositories the user's Composer is configured with):
#   - composer.json's require-dev (Workerman 5, react/event-loop, revolt/event-loop)
#     into vendor/ (the repository root is the package),
#   - Workerman 4 into php/tests/workerman4/vendor (two Workerman majors cannot share
#     one vendor/; php/tests/workerman4/composer.json).
# There is no lock file (wsc is a library): each run resolves the newest releases that
# composer.json allows.
#
# usage: scripts/php-dev-deps.sh   (make php-dev-deps; make test runs it)
# Writes target/php-dev-deps.status: "ok", or why a set is missing; the adapter tests
# that need the packages print that reason when they skip.
# Exit: 0 when both sets are installed. When Composer cannot install them: 1 if
# WSC_REQUIRE_PHP_DEV_DEPS=1 (.ci/run sets it when it found a repository, so that a
# failed install there is an error), else 0 with a warning, and the tests that need
# the packages are skipped, saying why.
set -uo pipefail
cd "$(dirname "$0")/.."
export COMPOSER_ALLOW_SUPERUSER=1
mkdir -p target
status_file=target/php-dev-deps.status
log=target/php-dev-deps.log
: >"$log"

# install DIR: composer update in DIR; 0 when its vendor/ is complete
install() {
  echo "==> composer update --working-dir=$1" | tee -a "$log"
  composer update --working-dir="$1" --no-interaction --no-progress --prefer-dist >>"$log" 2>&1
}

failed=()
install . || failed+=("vendor/ (Workerman 5, react/event-loop, revolt/event-loop)")
install php/tests/workerman4 || failed+=("php/tests/workerman4/vendor (Workerman 4)")

if [ ${#failed[@]} -eq 0 ]; then
  echo ok >"$status_file"
  grep -E '^\s+- (Installing|Upgrading|Downgrading|Removing) ' "$log" || true
  exit 0
fi

# Composer's own words: the first line of its first error block.
err="$(awk '/^In .* line [0-9]+:$/ { f = 1; next } f && NF { sub(/^ +/, ""); sub(/ +$/, ""); print; exit }' "$log")"
what="$(printf '%s and ' "${failed[@]}")"
what="${what% and }"
if grep -qE 'could not be downloaded|getaddrinfo|Connection (refused|timed out)' "$log"; then
  why="no Composer repository with these packages was reachable (Packagist, or an artifact repository in Composer's configuration; see docs/testing.md)"
else
  why="see $log"
fi
reason="composer could not install $what: ${err:-no error message}; $why"
echo "$reason" >"$status_file"
echo "php-dev-deps: $reason" >&2
if [ "${WSC_REQUIRE_PHP_DEV_DEPS:-0}" = 1 ]; then
  echo "php-dev-deps: WSC_REQUIRE_PHP_DEV_DEPS=1: a repository was found, so this is an error" >&2
  exit 1
fi
echo "php-dev-deps: the event-loop adapter tests will be skipped" >&2
exit 0
