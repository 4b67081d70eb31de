<?php

declare(strict_types=1);

namespace Wsc\Tests\Support;

/**
 * The throw-away PKI of the TLS tests: a CA, server and client
 * certificates, made by `openssl` (tests/servers/make-test-pki.sh) in a
 * fresh temporary directory that remove() deletes. Nothing is committed:
 * every key is new on each run.
 */
final class TlsPki
{
    /** The passphrase of client-encrypted*.key (make-test-pki.sh). */
    public const PASSPHRASE = 'correct horse battery staple';

    private function __construct(public readonly string $dir)
    {
    }

    /**
     * Makes the certificates, waiting at most `$seconds`.
     *
     * @throws \RuntimeException with the script's output when it fails (no openssl...)
     */
    public static function make(float $seconds = 60.0): self
    {
        $dir = sprintf('%s/wsc-tls-php-%d-%s', sys_get_temp_dir(), getmypid(), bin2hex(random_bytes(4)));
        $script = dirname(__DIR__, 3) . '/tests/servers/make-test-pki.sh';
        $process = new Process(['sh', $script, $dir]);
        $process->waitForOutput('pki ready', $seconds);
        $code = $process->wait(1.0);
        $process->stop();
        $pki = new self($dir);
        if ($code !== 0) {
            $pki->remove();
            throw new \RuntimeException(sprintf(
                'make-test-pki.sh failed (exit %s; needs openssl: scripts/install-deps.sh test): %s',
                var_export($code, true),
                $process->stderr(),
            ));
        }
        return $pki;
    }

    /**
     * The path of one of make-test-pki.sh's files (e.g. 'ca.pem').
     *
     * @throws \LogicException when the script made no such file
     */
    public function path(string $name): string
    {
        $path = "{$this->dir}/{$name}";
        if (!is_file($path)) {
            throw new \LogicException("make-test-pki.sh made no {$name}");
        }
        return $path;
    }

    /**
     * The fingerprint of one of its certificates (PHP's
     * openssl_x509_fingerprint: the digest of the DER, lowercase hex).
     */
    public function fingerprint(string $name, string $algorithm): string
    {
        $fp = openssl_x509_fingerprint((string) file_get_contents($this->path($name)), $algorithm);
        if ($fp === false) {
            throw new \LogicException("no {$algorithm} fingerprint of {$name}");
        }
        return $fp;
    }

    /** A path in the directory where no file is. */
    public function missing(string $name): string
    {
        return "{$this->dir}/{$name}";
    }

    /** Deletes the directory and everything in it. */
    public function remove(): void
    {
        foreach (glob("{$this->dir}/*") ?: [] as $file) {
            if (is_dir($file)) {
                // capath/ and other-capath/: one hashed certificate each.
                array_map('unlink', glob("{$file}/*") ?: []);
                rmdir($file);
            } else {
                unlink($file);
            }
        }
        if (is_dir($this->dir)) {
            rmdir($this->dir);
        }
    }
}
