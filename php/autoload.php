<?php

/**
 * The wsc package's autoloader for this source tree and for use without
 * Composer: Composer's `vendor/autoload.php` of the repository root when
 * `composer dump-autoload` (or `composer install`) ran there (it also
 * loads the development packages), else a minimal PSR-4 autoloader
 * (Wsc\ => php/src/). A project that installed wsc/wsc with Composer uses
 * its own vendor/autoload.php instead.
 */

declare(strict_types=1);

if (is_file(dirname(__DIR__) . '/composer.json') && is_file(dirname(__DIR__) . '/vendor/autoload.php')) {
    require_once dirname(__DIR__) . '/vendor/autoload.php';
    return;
}

spl_autoload_register(static function (string $class): void {
    if (strncmp($class, 'Wsc\\', 4) !== 0) {
        return;
    }
    $file = __DIR__ . '/src/' . str_replace('\\', '/', substr($class, 4)) . '.php';
    if (is_file($file)) {
        require $file;
    }
});
