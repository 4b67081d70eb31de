<?php

declare(strict_types=1);

namespace Wsc\Tests\Support;

/**
 * The third-party packages the event-loop adapter tests run against, as
 * installed by `scripts/php-dev-deps.sh` (`make php-dev-deps`, run by
 * `make test`): composer.json's require-dev (Workerman 5, react/event-loop,
 * revolt/event-loop) in the package's vendor/, and Workerman 4 in
 * tests/workerman4/vendor/ (two Workerman majors cannot share one vendor/).
 */
final class DevPackages
{
    /**
     * The vendor/ directory whose autoloader this process uses, or null
     * when the tests run on the package's own autoload.php (no Composer).
     */
    public static function mainVendor(): ?string
    {
        if (!class_exists(\Composer\Autoload\ClassLoader::class, false)) {
            return null;
        }
        $file = (new \ReflectionClass(\Composer\Autoload\ClassLoader::class))->getFileName();
        return $file === false ? null : dirname($file, 2);
    }

    /** The vendor/ directory of tests/workerman4/composer.json. */
    public static function workerman4Vendor(): string
    {
        return dirname(__DIR__) . '/workerman4/vendor';
    }

    /**
     * The version of `$package` installed in `$vendor` (e.g. "4.2.1", without a leading "v"), or
     * null when it is not installed there.
     */
    public static function version(?string $vendor, string $package): ?string
    {
        $file = "{$vendor}/composer/installed.php";
        if ($vendor === null || !is_file($file)) {
            return null;
        }
        $installed = require $file;
        $version = $installed['versions'][$package]['pretty_version'] ?? null;
        $path = $installed['versions'][$package]['install_path'] ?? null;
        return is_string($version) && is_string($path) && is_dir($path) ? ltrim($version, 'v') : null;
    }

    /**
     * Why `$what` is missing, for a skip message: the reason
     * scripts/php-dev-deps.sh recorded, or that it has not run.
     */
    public static function whyMissing(string $what): string
    {
        $status = dirname(__DIR__, 3) . '/target/php-dev-deps.status';
        $reason = is_file($status) ? trim((string) file_get_contents($status)) : '';
        if ($reason === '' || $reason === 'ok') {
            $reason = 'run `make php-dev-deps` (scripts/php-dev-deps.sh) to install it';
        }
        return "{$what} is not installed: {$reason}";
    }
}
