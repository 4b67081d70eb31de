<?php

/**
 * Workerman 4's global constants for the onError codes, defined unless
 * Workerman itself already did (Workerman 5 has the class constants
 * AsyncTcpConnection::CONNECT_FAIL and ::SEND_FAIL, which wsc also has).
 * Loaded by Composer's "files" autoload.
 */

declare(strict_types=1);

if (!defined('WORKERMAN_CONNECT_FAIL')) {
    define('WORKERMAN_CONNECT_FAIL', 1);
}
if (!defined('WORKERMAN_SEND_FAIL')) {
    define('WORKERMAN_SEND_FAIL', 2);
}
