<?php

/**
 * PHPUnit bootstrap: Composer's autoloader of the repository root when
 * `composer dump-autoload` (or php-dev-deps) ran there, with the
 * development packages; else the package's minimal php/autoload.php. The
 * test classes (Wsc\Tests\ => tests/) are always registered here, since a
 * dump without autoload-dev lacks them.
 */

declare(strict_types=1);

if (is_file(dirname(__DIR__, 2) . '/vendor/autoload.php')) {
    require_once dirname(__DIR__, 2) . '/vendor/autoload.php';
} else {
    require_once __DIR__ . '/../autoload.php';
}

// The tests test this tree's build (target/release), also when a libwsc is
// installed on the system; WSC_LIB set by the caller wins (e.g. the release
// library of dist/).
$wscDevBuild = dirname(__DIR__, 2) . '/target/release/libwsc.so';
if (getenv('WSC_LIB') === false && is_file($wscDevBuild)) {
    putenv("WSC_LIB={$wscDevBuild}");
}

spl_autoload_register(static function (string $class): void {
    if (strncmp($class, 'Wsc\\Tests\\', 10) !== 0) {
        return;
    }
    $file = __DIR__ . '/' . str_replace('\\', '/', substr($class, 10)) . '.php';
    if (is_file($file)) {
        require $file;
    }
});
