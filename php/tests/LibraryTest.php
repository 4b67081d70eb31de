<?php

declare(strict_types=1);

namespace Wsc\Tests;

use FFI;
use PHPUnit\Framework\TestCase;
use Wsc\Connection\AsyncTcpConnection;
use Wsc\Exception\LibraryException;
use Wsc\Library;
use Wsc\Tests\Support\Process;

/**
 * Loading libwsc: the exact PHP header, the constants from wsc.h, the
 * search order, the error messages, and preloading.
 */
final class LibraryTest extends TestCase
{
    private const INCLUDE_DIR = __DIR__ . '/../../include';

    public function testLoadingExactlyTheCommittedPhpHeaderWorks(): void
    {
        $header = (string) file_get_contents(self::INCLUDE_DIR . '/wsc_php.h');
        $ffi = FFI::cdef($header, Library::findLibrary());
        self::assertMatchesRegularExpression('/^\d+\.\d+\.\d+/', (string) $ffi->wsc_version());
        $context = $ffi->new('wsc_context*');
        self::assertSame(0, $ffi->wsc_context_new(FFI::addr($context)));
        self::assertFalse(FFI::isNull($context));
        self::assertSame(0, $ffi->wsc_context_free($context));
    }

    public function testConstantsComeFromWscH(): void
    {
        $lib = Library::get();
        $constants = Library::parseConstants(self::INCLUDE_DIR . '/wsc.h');
        self::assertSame($constants, $lib->constants());
        self::assertSame(0, $lib->constant('WSC_RESULT_OK'));
        $prefixes = ['WSC_RESULT_', 'WSC_EVENT_TYPE_', 'WSC_MESSAGE_TYPE_', 'WSC_SEND_STATUS_', 'WSC_STATUS_'];
        foreach ($prefixes as $prefix) {
            self::assertNotEmpty(array_filter(
                array_keys($constants),
                fn (string $name): bool => str_starts_with($name, $prefix),
            ), "no {$prefix}* constant parsed");
        }
        // The PHP constants keep Workerman's numbers, which wsc.h shares.
        foreach (['INITIAL', 'CONNECTING', 'ESTABLISHED', 'CLOSING', 'CLOSED'] as $status) {
            self::assertSame(
                constant(AsyncTcpConnection::class . '::STATUS_' . $status),
                $lib->constant('WSC_STATUS_' . $status),
            );
        }
        self::assertSame(1, $lib->constant('WSC_MESSAGE_TYPE_TEXT'));
        self::assertSame(2, $lib->constant('WSC_MESSAGE_TYPE_BINARY'));
    }

    public function testAnUnknownConstantIsRefused(): void
    {
        $this->expectException(\InvalidArgumentException::class);
        $this->expectExceptionMessage('WSC_NO_SUCH');
        Library::get()->constant('WSC_NO_SUCH');
    }

    public function testAMissingLibrarySaysHowToBuildIt(): void
    {
        try {
            Library::findLibrary('/nonexistent/libwsc.so');
            self::fail('a missing library was accepted');
        } catch (LibraryException $e) {
            self::assertStringContainsString('/nonexistent/libwsc.so', $e->getMessage());
        }
        $old = getenv('WSC_LIB');
        putenv('WSC_LIB=/nonexistent/env/libwsc.so');
        try {
            Library::findLibrary();
            self::fail('a missing WSC_LIB was accepted');
        } catch (LibraryException $e) {
            self::assertStringContainsString('WSC_LIB', $e->getMessage());
        } finally {
            putenv($old === false ? 'WSC_LIB' : "WSC_LIB={$old}");
        }
    }

    public function testAMissingHeaderSaysHowToGenerateIt(): void
    {
        $this->expectException(LibraryException::class);
        $this->expectExceptionMessage('cargo build --release');
        Library::findIncludeDir(sys_get_temp_dir());
    }

    public function testWithoutTheLibraryAClearErrorIsThrown(): void
    {
        $env = getenv();
        $env['WSC_LIB'] = '/nonexistent/libwsc.so';
        $code = 'require $argv[1]; new Wsc\Connection\AsyncTcpConnection("ws://127.0.0.1:1/");';
        $p = new Process([PHP_BINARY, '-r', $code, __DIR__ . '/bootstrap.php'], $env);
        try {
            self::assertSame(255, $p->wait(10.0));
            self::assertStringContainsString('Wsc\Exception\LibraryException', $p->stderr() . $p->stdout());
            self::assertStringContainsString('WSC_LIB', $p->stderr() . $p->stdout());
        } finally {
            $p->stop();
        }
    }

    public function testTheFfiPreloadHeaderDeclaresTheScope(): void
    {
        $file = tempnam(sys_get_temp_dir(), 'wsc-ffi-test-');
        try {
            $write = new Process([PHP_BINARY, __DIR__ . '/../ffi-header.php', $file]);
            self::assertSame(0, $write->wait(10.0), $write->stderr());
            $write->stop();
            $header = (string) file_get_contents($file);
            self::assertStringStartsWith("#define FFI_SCOPE \"WSC\"\n#define FFI_LIB \"", $header);
            $command = [PHP_BINARY, '-d', "ffi.preload={$file}", '-r', self::probe(), __DIR__ . '/bootstrap.php'];
            $p = new Process($command);
            self::assertSame(0, $p->wait(10.0), $p->stderr());
            self::assertSame('scope ' . Library::get()->version(), $p->stdout());
            $p->stop();
        } finally {
            @unlink($file);
        }
    }

    public function testTheOpcachePreloadScriptDeclaresTheScope(): void
    {
        $command = [
            PHP_BINARY, '-d', 'opcache.enable=1', '-d', 'opcache.enable_cli=1',
            '-d', 'opcache.preload=' . realpath(__DIR__ . '/../preload.php'),
            '-r', self::probe(), realpath(__DIR__ . '/bootstrap.php'),
        ];
        if (function_exists('posix_geteuid') && posix_geteuid() === 0) {
            // PHP refuses FFI::load() with opcache.preload_user, which root needs.
            if (!is_executable('/usr/sbin/runuser') && !is_executable('/sbin/runuser')) {
                self::markTestSkipped('running as root without runuser: opcache.preload cannot use FFI::load()');
            }
            $command = array_merge(['runuser', '-u', 'nobody', '--'], $command);
        }
        $p = new Process($command);
        try {
            self::assertSame(0, $p->wait(20.0), $p->stderr());
            self::assertSame('scope ' . Library::get()->version(), $p->stdout());
        } finally {
            $p->stop();
        }
    }

    /** PHP code printing how the library was loaded and its version. */
    private static function probe(): string
    {
        return 'require $argv[1]; $l = Wsc\Library::get(); '
            . 'echo ($l->libraryPath === null ? "scope " : "cdef "), $l->version();';
    }
}
