<?php

/**
 * A minimal PSR-4 autoloader for the wsc package (Wsc\ => src/), for use
 * without Composer; `composer dump-autoload` (repository root) makes vendor/autoload.php,
 * which does the same.
 */

declare(strict_types=1);

spl_autoload_register(static function (string $class): void {
    if (strncmp($class, 'Wsc\\', 4) !== 0) {
        return;
    }
    $file = __DIR__ . '/src/' . str_replace('\\', '/', substr($class, 4)) . '.php';
    if (is_file($file)) {
        require $file;
    }
});
