<?php

/**
 * PHPUnit bootstrap: Composer's autoloader when `composer dump-autoload -d php`
 * ran, else the package's minimal one; the test classes (Wsc\Tests\ =>
 * tests/) are always registered here, since a dump without autoload-dev
 * lacks them.
 */

declare(strict_types=1);

if (is_file(__DIR__ . '/../vendor/autoload.php')) {
    require_once __DIR__ . '/../vendor/autoload.php';
} else {
    require_once __DIR__ . '/../autoload.php';
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
