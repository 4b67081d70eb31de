<?php

declare(strict_types=1);

namespace Wsc\Tests;

use FFI;
use PHPUnit\Framework\TestCase;
use Wsc\Connection\AsyncTcpConnection;
use Wsc\Exception\LibraryException;
use Wsc\Ffi\Abi;
use Wsc\Ffi\Library as Loader;
use Wsc\Library;
use Wsc\Tests\Support\Process;

/**
 * Loading libwsc: the exact PHP declarations, the generated constants and
 * wsc.h, the search order, the error messages, and preloading; the
 * deprecated `Wsc\Library` still answers as before.
 */
final class LibraryTest extends TestCase
{
    private const INCLUDE_DIR = __DIR__ . '/../../include';

    public function testLoadingExactlyTheCommittedPhpHeaderWorks(): void
    {
        $header = (string) file_get_contents(__DIR__ . '/../resources/wsc.ffi.h');
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
        $constants = self::enumConstants(self::INCLUDE_DIR . '/wsc.h');
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

    public function testAbiIsWscHsEnumsAndVersion(): void
    {
        $abi = (new \ReflectionClass(Abi::class))->getConstants();
        $expected = [];
        foreach (self::enumConstants(self::INCLUDE_DIR . '/wsc.h') as $name => $value) {
            $expected[substr($name, 4)] = $value;
        }
        $header = (string) file_get_contents(self::INCLUDE_DIR . '/wsc.h');
        foreach (['MAJOR', 'MINOR', 'PATCH'] as $part) {
            self::assertSame(1, preg_match("/#define WSC_VERSION_{$part} (\\d+)/", $header, $m));
            $expected["VERSION_{$part}"] = (int) $m[1];
        }
        self::assertSame(1, preg_match('/#define WSC_VERSION_STRING "([^"]+)"/', $header, $m));
        $expected['VERSION_STRING'] = $m[1];
        ksort($abi);
        ksort($expected);
        self::assertSame($expected, $abi, 'php/src/Ffi/Abi.php is stale: rebuild (cargo build --release)');
        self::assertSame(Abi::VERSION_STRING, Loader::get()->version(), 'the loaded libwsc is of another version');
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

    public function testAnIncludeDirectoryIsRefusedNotIgnored(): void
    {
        $this->expectException(LibraryException::class);
        $this->expectExceptionMessage('php/resources/wsc.ffi.h');
        Library::scopeHeader(null, sys_get_temp_dir());
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

    /**
     * The `WSC_*` enum constants of a C header, from its `NAME = N,` lines.
     *
     * @return array<string, int>
     */
    private static function enumConstants(string $headerFile): array
    {
        $text = (string) file_get_contents($headerFile);
        preg_match_all('/^\s*(WSC_[A-Z0-9_]+)\s*=\s*(-?\d+)\s*,?\s*$/m', $text, $m, PREG_SET_ORDER);
        $constants = [];
        foreach ($m as [, $name, $value]) {
            $constants[$name] = (int) $value;
        }
        self::assertNotEmpty($constants, "{$headerFile} declares no WSC_* enum constants");
        return $constants;
    }

    /** PHP code printing how the library was loaded and its version. */
    private static function probe(): string
    {
        return 'require $argv[1]; $l = Wsc\Library::get(); '
            . 'echo ($l->libraryPath === null ? "scope " : "cdef "), $l->version();';
    }
}
