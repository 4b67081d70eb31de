<?php

declare(strict_types=1);

namespace Wsc\Tests;

use PHPUnit\Framework\TestCase;
use Wsc\Library;
use Wsc\Tests\Support\Process;

/**
 * Where an installed package finds libwsc (Library's class docblock): the
 * prebuilt library in the package, then the system's libwsc.so.0 through
 * the dynamic linker, then a development build; the error when none is
 * there; and the errors when PHP's FFI is off or limited to preloading.
 * Each case runs a PHP process on a copy of the package laid out as
 * Composer installs it (php/src, php/resources, lib/linux-<machine>/) in a
 * temporary directory, with WSC_LIB unset.
 */
final class LibrarySearchTest extends TestCase
{
    private string $dir;

    private string $lib;

    protected function setUp(): void
    {
        $lib = getenv('WSC_LIB');
        self::assertIsString($lib, 'tests/bootstrap.php sets WSC_LIB to the library under test');
        $this->lib = (string) realpath($lib);
        $this->dir = sys_get_temp_dir() . '/wsc-search-' . getmypid() . '-' . bin2hex(random_bytes(4));
        mkdir($this->dir . '/pkg/php', 0o777, true);
        foreach (['src', 'resources'] as $part) {
            $from = dirname(__DIR__) . '/' . $part;
            exec('cp -r ' . escapeshellarg($from) . ' ' . escapeshellarg($this->dir . '/pkg/php/' . $part), $out, $rc);
            self::assertSame(0, $rc);
        }
    }

    protected function tearDown(): void
    {
        exec('rm -rf ' . escapeshellarg($this->dir));
    }

    /**
     * Runs PHP with the copied package's classes and $code; returns
     * [exit code, stdout + stderr].
     *
     * @param array<string, string> $env  added to the environment (WSC_LIB is removed)
     * @param list<string>          $args PHP options before -r
     *
     * @return array{0: int|null, 1: string}
     */
    private function runPhp(string $code, array $env = [], array $args = []): array
    {
        $prelude = 'spl_autoload_register(function ($c) { $f = ' . var_export($this->dir . '/pkg/php/src/', true)
            . ' . str_replace("\\\\", "/", substr($c, 4)) . ".php"; if (is_file($f)) require $f; });';
        $environment = getenv();
        unset($environment['WSC_LIB'], $environment['WSC_INCLUDE_DIR'], $environment['LD_LIBRARY_PATH']);
        $p = new Process([PHP_BINARY, ...$args, '-r', $prelude . $code], $env + $environment);
        try {
            $rc = $p->wait(20.0);
            return [$rc, $p->stdout() . $p->stderr()];
        } finally {
            $p->stop();
        }
    }

    private function systemHasLibwsc(): bool
    {
        [$rc] = $this->runPhp('FFI::cdef("", "' . Library::SONAME . '");');
        return $rc === 0;
    }

    public function testThePrebuiltLibraryOfThePackageComesFirst(): void
    {
        $dir = $this->dir . '/pkg/lib/linux-' . php_uname('m');
        mkdir($dir, 0o777, true);
        copy($this->lib, $dir . '/' . Library::SONAME);
        // Also a system library on LD_LIBRARY_PATH: the package's own wins.
        mkdir($this->dir . '/system');
        symlink($this->lib, $this->dir . '/system/' . Library::SONAME);
        [$rc, $out] = $this->runPhp(
            'echo Wsc\Library::get()->libraryPath, " ", Wsc\Library::get()->version(), "\n";',
            ['LD_LIBRARY_PATH' => $this->dir . '/system'],
        );
        self::assertSame(0, $rc, $out);
        self::assertStringStartsWith(realpath($dir) . '/' . Library::SONAME . ' ', $out);
    }

    public function testTheSystemLibraryIsFoundThroughTheDynamicLinker(): void
    {
        mkdir($this->dir . '/system');
        copy($this->lib, $this->dir . '/system/' . Library::SONAME);
        [$rc, $out] = $this->runPhp(
            'echo Wsc\Library::get()->libraryPath, "\n";',
            ['LD_LIBRARY_PATH' => $this->dir . '/system'],
        );
        self::assertSame(0, $rc, $out);
        self::assertSame(realpath($this->dir . '/system') . '/' . Library::SONAME . "\n", $out);
    }

    public function testWithoutAnyLibraryTheErrorListsWhatWasTriedAndWhatToDo(): void
    {
        if ($this->systemHasLibwsc()) {
            self::markTestSkipped('this system has ' . Library::SONAME . ' installed, so it would be found');
        }
        [$rc, $out] = $this->runPhp('new Wsc\Connection\AsyncTcpConnection("ws://127.0.0.1:1/");');
        self::assertSame(255, $rc, $out);
        self::assertStringContainsString('Wsc\Exception\LibraryException', $out);
        foreach (
            [
                'WSC_LIB', "the package's prebuilt library " . $this->dir . '/pkg/lib/linux-',
                'the system library ' . Library::SONAME, $this->dir . '/pkg/target/release/libwsc.so',
                'composer require wsc/wsc', 'make install', 'libwsc0', 'cargo build --release',
            ] as $needle
        ) {
            self::assertStringContainsString($needle, $out);
        }
    }

    public function testAMissingDeclarationsFileSaysHowToGenerateIt(): void
    {
        exec('rm -rf ' . escapeshellarg($this->dir . '/pkg/php/resources'));
        [$rc, $out] = $this->runPhp(
            'try { Wsc\\Ffi\\Library::get(); } catch (Throwable $e) { echo $e->getMessage(); }',
            ['WSC_LIB' => $this->lib],
        );
        self::assertSame(0, $rc, $out);
        self::assertStringContainsString('php/resources/wsc.ffi.h', $out);
        self::assertStringContainsString('cargo build --release', $out);
    }

    public function testWithFfiDisabledTheErrorSaysSoAndHowToEnableIt(): void
    {
        [$rc, $out] = $this->runPhp('Wsc\Library::get();', ['WSC_LIB' => $this->lib], ['-d', 'ffi.enable=0']);
        self::assertSame(255, $rc, $out);
        self::assertStringContainsString("PHP's FFI is disabled (ffi.enable=0", $out);
        self::assertStringContainsString('set ffi.enable=true', $out);
    }

    /**
     * The body PHP's built-in web server (not the CLI SAPI: ffi.enable=preload
     * restricts FFI there) answers for a request to `$router`.
     *
     * @param list<string> $ini `-d` settings
     */
    private function serve(string $router, array $ini): string
    {
        $env = getenv();
        $env['WSC_LIB'] = $this->lib;
        $args = [];
        foreach ($ini as $setting) {
            array_push($args, '-d', $setting);
        }
        // The server announces its port on stderr: sh sends that to stdout.
        $server = new Process(
            ['sh', '-c', 'exec "$0" "$@" 2>&1', PHP_BINARY, ...$args, '-S', '127.0.0.1:0', $router],
            $env,
        );
        try {
            self::assertTrue($server->waitForOutput('Development Server (http://127.0.0.1:', 10.0), $server->stdout());
            self::assertSame(1, preg_match('/http:\/\/127\.0\.0\.1:(\d+)/', $server->stdout(), $m));
            $body = @file_get_contents("http://127.0.0.1:{$m[1]}/");
            self::assertIsString($body, $server->stdout());
            return $body;
        } finally {
            $server->stop();
        }
    }

    public function testWithFfiLimitedToPreloadingOutsideTheCliTheErrorSaysSo(): void
    {
        file_put_contents($this->dir . '/router.php', '<?php spl_autoload_register(function ($c) { $f = '
            . var_export($this->dir . '/pkg/php/src/', true)
            . ' . str_replace("\\\\", "/", substr($c, 4)) . ".php"; if (is_file($f)) require $f; });'
            . ' try { Wsc\Library::get(); echo "loaded"; } catch (Throwable $e) { echo $e->getMessage(); }');
        $body = $this->serve($this->dir . '/router.php', ['ffi.enable=preload']);
        self::assertStringContainsString('ffi.enable=preload', $body);
        self::assertStringContainsString('cli-server SAPI without wsc preloaded', $body);
        self::assertStringContainsString('set ffi.enable=true', $body);
        self::assertStringContainsString('opcache.preload=', $body);
    }

    /**
     * php-fpm's situation: ffi.enable=preload, PHP started as root (so
     * opcache.preload_user, which forbids FFI::load()). ffi.preload declares
     * the scope, php/preload.php preloads the classes: a connection is made.
     */
    public function testWithFfiLimitedToPreloadingPreloadedWscWorks(): void
    {
        if (!function_exists('opcache_get_status')) {
            self::markTestSkipped('OPcache is not loaded');
        }
        $php = dirname(__DIR__);
        $header = $this->dir . '/wsc-ffi.h';
        file_put_contents($header, Library::scopeHeader($this->lib));
        file_put_contents($this->dir . '/router.php', '<?php try { $c = new Wsc\Connection\AsyncTcpConnection('
            . '"ws://127.0.0.1:1/"); $c->connect(); echo Wsc\Library::get()->version(), " scope=", '
            . 'var_export(Wsc\Library::get()->libraryPath === null, true); } catch (Throwable $e) { '
            . 'echo get_class($e), ": ", $e->getMessage(); }');
        $ini = [
            'ffi.enable=preload', "ffi.preload={$header}", 'opcache.enable=1', "opcache.preload={$php}/preload.php",
        ];
        if (function_exists('posix_getuid') && posix_getuid() === 0) {
            $ini[] = 'opcache.preload_user=nobody';
        }
        $body = $this->serve($this->dir . '/router.php', $ini);
        self::assertSame(Library::get()->version() . ' scope=true', $body);
    }
}
