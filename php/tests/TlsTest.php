<?php

declare(strict_types=1);

namespace Wsc\Tests;

use Wsc\Connection\AsyncTcpConnection;
use Wsc\Tests\Support\Process;
use Wsc\Tests\Support\Recorder;
use Wsc\Tests\Support\TlsPki;
use Wsc\Tests\Support\TlsWsServer;

/**
 * `wss://` with real certificates through the PHP API: the socket
 * context's `ssl` options (cafile, verify_peer, verify_peer_name,
 * peer_name, allow_self_signed, local_cert, local_pk, passphrase) and
 * Workerman's `ws://` + `$connection->transport = 'ssl'` form, against
 * real TLS WebSocket servers on 127.0.0.1 (tests/servers/tls_ws_server.py)
 * with certificates made by openssl for this run
 * (tests/servers/make-test-pki.sh). Where PHP's own TLS streams define
 * what an option does, the outcome is also compared with theirs.
 */
final class TlsTest extends WscTestCase
{
    private const VERIFY_FAILED = 'certificate verify failed';

    private const NO_ISSUER = 'unable to get local issuer certificate';

    private static ?TlsPki $pki = null;

    /** @var array<string, TlsWsServer> by role */
    private static array $servers = [];

    public static function setUpBeforeClass(): void
    {
        // No echo server of the base class: the TLS servers are this class's.
        self::$pki = TlsPki::make();
        $pki = self::$pki;
        self::$servers = [
            // Signed by the test CA, for localhost and 127.0.0.1.
            'good' => TlsWsServer::start($pki, 'server.pem', 'server.key'),
            // Signed by the test CA, for wrong.example only.
            'wrong-name' => TlsWsServer::start($pki, 'wrong-name.pem', 'wrong-name.key'),
            // Signed by another CA, for localhost.
            'other-ca' => TlsWsServer::start($pki, 'other-server.pem', 'other-server.key'),
            // Self-signed, for localhost.
            'self-signed' => TlsWsServer::start($pki, 'self-signed.pem', 'self-signed.key'),
            // Like 'good', and requires a client certificate of the test CA.
            'client-cert' => TlsWsServer::start($pki, 'server.pem', 'server.key', 'ca.pem'),
        ];
    }

    public static function tearDownAfterClass(): void
    {
        foreach (self::$servers as $server) {
            $server->stop();
        }
        self::$servers = [];
        self::$pki?->remove();
        self::$pki = null;
    }

    // --- server verification ------------------------------------------------

    public function testTrustedChainViaCafileOpensAndEchoes(): void
    {
        $rec = new Recorder();
        $con = $rec->attach(new AsyncTcpConnection(self::server('good')->wss(), self::ssl([
            'cafile' => self::pki()->path('ca.pem'),
        ])));
        self::assertSame('ssl', $con->transport, 'wss:// sets the transport');
        $this->expectOpen($rec, $con);
        $this->expectEchoAndCleanClose($rec, $con);
    }

    public function testSniIsTheHostOfTheAddress(): void
    {
        $info = $this->sessionInfo('good', ['cafile' => self::pki()->path('ca.pem')]);
        self::assertSame('localhost', $info['sni']);
        self::assertNull($info['client_cert']);
    }

    public function testSystemRootsDoNotTrustTheTestCa(): void
    {
        $this->expectVerifyFailure('good', [], self::NO_ISSUER);
    }

    public function testUnknownCaIsRefused(): void
    {
        $this->expectVerifyFailure('good', ['cafile' => self::pki()->path('other-ca.pem')], self::NO_ISSUER);
    }

    public function testServerCertificateOfAnotherCaIsRefused(): void
    {
        $this->expectVerifyFailure('other-ca', ['cafile' => self::pki()->path('ca.pem')], self::NO_ISSUER);
    }

    public function testSelfSignedCertificateIsRefusedByDefault(): void
    {
        $this->expectVerifyFailure('self-signed', [], 'self-signed certificate');
    }

    public function testAVerificationFailureEndsTheAutomaticReconnectUnlessAllowed(): void
    {
        $rec = new Recorder();
        $con = $rec->attach(new AsyncTcpConnection(self::server('self-signed')->wss()));
        $con->reconnectDelay = 0.05;
        $con->connect();
        self::loopUntil(fn () => $rec->count('onClose') > 0, 'onClose');
        self::assertSame(
            [[null, 'fatal', 0, 'not reconnecting: a TLS certificate failure is not retried']],
            $rec->args('onReconnect'),
        );
        self::assertSame(AsyncTcpConnection::STATUS_CLOSED, $con->getStatus());

        $rec = new Recorder();
        $retried = $rec->attach(new AsyncTcpConnection(self::server('self-signed')->wss()));
        $retried->reconnectDelay = 0.05;
        $retried->reconnectOnTlsVerifyFailure = true;
        $retried->connect();
        self::loopUntil(fn () => $rec->count('onReconnect') >= 2, 'two decisions');
        $retried->close();
        self::assertSame(['backoff', 'backoff'], array_column($rec->args('onReconnect'), 1));
        self::assertSame([1, 2], array_column($rec->args('onReconnect'), 2));
    }

    public function testWrongHostNameIsRefused(): void
    {
        $this->expectVerifyFailure('wrong-name', ['cafile' => self::pki()->path('ca.pem')], 'hostname mismatch');
    }

    public function testPeerNameMatchingTheCertificateOpensAndIsTheSni(): void
    {
        $info = $this->sessionInfo('wrong-name', [
            'cafile' => self::pki()->path('ca.pem'),
            'peer_name' => 'wrong.example',
        ]);
        self::assertSame('wrong.example', $info['sni']);
    }

    public function testPeerNameNotInTheCertificateIsRefused(): void
    {
        $this->expectVerifyFailure('good', [
            'cafile' => self::pki()->path('ca.pem'),
            'peer_name' => 'wrong.example',
        ], 'hostname mismatch');
    }

    public function testVerifyPeerNameFalseAcceptsTheWrongName(): void
    {
        $this->expectOpenAndEcho('wrong-name', [
            'cafile' => self::pki()->path('ca.pem'),
            'verify_peer_name' => false,
        ]);
    }

    public function testVerifyPeerNameFalseStillVerifiesTheChain(): void
    {
        $this->expectVerifyFailure('wrong-name', [
            'cafile' => self::pki()->path('other-ca.pem'),
            'verify_peer_name' => false,
        ], self::NO_ISSUER);
    }

    /**
     * PHP (ext/openssl, php_openssl_apply_verification_policy) checks the
     * name unless verify_peer_name is false, whatever verify_peer says.
     */
    public function testVerifyPeerFalseStillChecksTheName(): void
    {
        $rec = new Recorder();
        $con = $rec->attach(new AsyncTcpConnection(
            self::server('wrong-name')->wss(),
            self::ssl(['verify_peer' => false]),
        ));
        $message = $this->expectConnectFail($rec, $con);
        // OpenSSL says "(hostname mismatch)"; a check of libwsc's own may word it otherwise.
        self::assertStringContainsString('name mismatch', $message);
    }

    public function testVerifyPeerFalseWithTheRightNameOpens(): void
    {
        $this->expectOpenAndEcho('other-ca', ['verify_peer' => false]);
    }

    public function testVerificationOffAcceptsAnyCertificate(): void
    {
        // Unknown CA and the wrong name: both checks would refuse it.
        $this->expectOpenAndEcho('wrong-name', ['verify_peer' => false, 'verify_peer_name' => false]);
    }

    // --- allow_self_signed ----------------------------------------------------

    /**
     * PHP: with allow_self_signed a self-signed server certificate passes
     * the chain check (X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT is
     * forgiven); the name is still checked.
     */
    public function testAllowSelfSignedAcceptsASelfSignedCertificate(): void
    {
        $this->expectOpenAndEcho('self-signed', ['allow_self_signed' => true]);
    }

    public function testAllowSelfSignedDoesNotAcceptAnUnknownCa(): void
    {
        $this->expectVerifyFailure('other-ca', ['allow_self_signed' => true], self::NO_ISSUER);
    }

    public function testAllowSelfSignedStillChecksTheName(): void
    {
        $rec = new Recorder();
        $con = $rec->attach(new AsyncTcpConnection(self::server('self-signed')->wss(), self::ssl([
            'allow_self_signed' => true,
            'peer_name' => 'wrong.example',
        ])));
        $this->expectConnectFail($rec, $con);
    }

    // --- Workerman's form: ws:// with transport = 'ssl' ------------------------

    public function testWsAddressWithTransportSslVerifiesAndOpens(): void
    {
        $rec = new Recorder();
        $con = $rec->attach(new AsyncTcpConnection(self::server('good')->ws(), self::ssl([
            'cafile' => self::pki()->path('ca.pem'),
        ])));
        $con->transport = 'ssl';
        $this->expectOpen($rec, $con);
        $this->expectEchoAndCleanClose($rec, $con);
    }

    public function testWsAddressWithTransportSslRefusesAnUntrustedCertificate(): void
    {
        $rec = new Recorder();
        $con = $rec->attach(new AsyncTcpConnection(self::server('good')->ws()));
        $con->transport = 'ssl';
        $message = $this->expectConnectFail($rec, $con);
        self::assertStringContainsString(self::VERIFY_FAILED, $message);
    }

    // --- client certificates --------------------------------------------------

    /**
     * TLS 1.3: the server checks the client certificate after the client's
     * handshake is done, so onConnect comes first, then the server's alert.
     */
    public function testClientCertificateRequiredButNoneGivenFails(): void
    {
        $rec = new Recorder();
        $con = $rec->attach(new AsyncTcpConnection(self::server('client-cert')->wss(), self::ssl([
            'cafile' => self::pki()->path('ca.pem'),
        ])));
        $con->connect();
        self::loopUntil(fn () => $rec->count('onClose') > 0, 'onClose');
        self::assertNotContains('onWebSocketConnect', $rec->names());
        self::assertSame(['onError', 'onClose'], array_values(array_diff($rec->names(), ['onConnect'])));
        [$code, $message] = $rec->args('onError')[0];
        self::assertSame(AsyncTcpConnection::CONNECT_FAIL, $code);
        self::assertStringContainsString('certificate required', $message);
        self::assertSame(1006, $con->getCloseCode());
    }

    public function testLocalCertWithLocalPkOpens(): void
    {
        $info = $this->sessionInfo('client-cert', [
            'cafile' => self::pki()->path('ca.pem'),
            'local_cert' => self::pki()->path('client.pem'),
            'local_pk' => self::pki()->path('client.key'),
        ]);
        self::assertSame('wsc test client', $info['client_cert']);
    }

    public function testLocalCertHoldingTheKeyOpens(): void
    {
        $info = $this->sessionInfo('client-cert', [
            'cafile' => self::pki()->path('ca.pem'),
            'local_cert' => self::pki()->path('client-combined.pem'),
        ]);
        self::assertSame('wsc test client', $info['client_cert']);
    }

    public function testEncryptedLocalPkWithThePassphraseOpens(): void
    {
        $info = $this->sessionInfo('client-cert', [
            'cafile' => self::pki()->path('ca.pem'),
            'local_cert' => self::pki()->path('client.pem'),
            'local_pk' => self::pki()->path('client-encrypted.key'),
            'passphrase' => TlsPki::PASSPHRASE,
        ]);
        self::assertSame('wsc test client', $info['client_cert']);
    }

    public function testWrongPassphraseThrowsAtConnectNamingTheKeyFile(): void
    {
        $key = self::pki()->path('client-encrypted.key');
        $con = new AsyncTcpConnection(self::server('client-cert')->wss(), self::ssl([
            'local_cert' => self::pki()->path('client.pem'),
            'local_pk' => $key,
            'passphrase' => 'not it',
        ]));
        try {
            $con->connect();
            self::fail('connect() accepted a wrong passphrase');
        } catch (\InvalidArgumentException $e) {
            self::assertStringContainsString('ssl.local_cert', $e->getMessage());
            self::assertStringContainsString($key, $e->getMessage());
        }
        self::assertSame(AsyncTcpConnection::STATUS_INITIAL, $con->getStatus());
    }

    /**
     * An encrypted local_pk without a passphrase is refused at once, naming
     * the key file, and libwsc never asks for the passphrase itself
     * (OpenSSL's default: a prompt on the terminal, or reading stdin when
     * there is none). Run in a child without a controlling terminal
     * (`setsid`), where such a prompt would show on stderr.
     */
    public function testEncryptedLocalPkWithoutPassphraseIsRefusedWithoutPrompting(): void
    {
        $key = self::pki()->path('client-encrypted.key');
        $code = <<<'PHP'
            require $argv[1];
            $con = new Wsc\Connection\AsyncTcpConnection(
                'wss://localhost:1/',
                ['ssl' => ['local_cert' => $argv[2], 'local_pk' => $argv[3]]],
            );
            try {
                $con->connect();
                echo "connect() accepted the key\n";
            } catch (Throwable $e) {
                echo get_class($e), ': ', $e->getMessage(), "\n";
            }
            PHP;
        $child = new Process([
            'setsid',
            PHP_BINARY,
            '-d',
            'display_errors=stderr',
            '-r',
            $code,
            __DIR__ . '/bootstrap.php',
            self::pki()->path('client.pem'),
            $key,
        ]);
        $exit = $child->wait(20.0);
        $child->stop();
        self::assertNotNull($exit, 'the child blocked for 20 s: a passphrase prompt waits for input');
        self::assertStringNotContainsString(
            'pass phrase',
            $child->stderr(),
            'OpenSSL prompted for the passphrase from inside libwsc; stdout: ' . $child->stdout(),
        );
        self::assertStringContainsString('InvalidArgumentException: ', $child->stdout(), $child->stderr());
        self::assertStringContainsString('ssl.local_cert', $child->stdout());
        self::assertStringContainsString($key, $child->stdout());
    }

    public function testLocalPkWithoutLocalCertThrows(): void
    {
        $con = new AsyncTcpConnection(self::server('client-cert')->wss(), self::ssl([
            'local_pk' => self::pki()->path('client.key'),
        ]));
        $this->expectException(\InvalidArgumentException::class);
        $this->expectExceptionMessage('ssl.local_pk needs ssl.local_cert');
        $con->connect();
    }

    public function testMissingCafileThrowsAtConnectNamingIt(): void
    {
        $path = self::pki()->missing('no-such-ca.pem');
        $con = new AsyncTcpConnection(self::server('good')->wss(), self::ssl(['cafile' => $path]));
        try {
            $con->connect();
            self::fail('connect() accepted a missing cafile');
        } catch (\InvalidArgumentException $e) {
            self::assertStringContainsString('ssl.cafile', $e->getMessage());
            self::assertStringContainsString($path, $e->getMessage());
        }
    }

    // --- the same outcome as PHP's own TLS streams -------------------------------

    /**
     * @return array<string, array{0: string, 1: array<string, mixed>}>
     */
    public static function optionSets(): array
    {
        $ca = '{pki}/ca.pem';
        $otherCa = '{pki}/other-ca.pem';
        return [
            'cafile, trusted chain' => ['good', ['cafile' => $ca]],
            'system roots' => ['good', []],
            'cafile of another CA' => ['good', ['cafile' => $otherCa]],
            'wrong name' => ['wrong-name', ['cafile' => $ca]],
            'peer_name matching' => ['wrong-name', ['cafile' => $ca, 'peer_name' => 'wrong.example']],
            'peer_name not matching' => ['good', ['cafile' => $ca, 'peer_name' => 'wrong.example']],
            'verify_peer_name false' => ['wrong-name', ['cafile' => $ca, 'verify_peer_name' => false]],
            'verify_peer_name false, unknown CA' => ['wrong-name', ['verify_peer_name' => false]],
            'verify_peer false, wrong name' => ['wrong-name', ['verify_peer' => false]],
            'verify_peer false, right name' => ['other-ca', ['verify_peer' => false]],
            'both false' => ['wrong-name', ['verify_peer' => false, 'verify_peer_name' => false]],
            'self-signed' => ['self-signed', []],
            'allow_self_signed, self-signed' => ['self-signed', ['allow_self_signed' => true]],
            'allow_self_signed, unknown CA' => ['other-ca', ['allow_self_signed' => true]],
            'self-signed as cafile' => ['self-signed', ['cafile' => '{pki}/self-signed.pem']],
            'client cert required, none' => ['client-cert', ['cafile' => $ca]],
            'client cert and key' => ['client-cert', [
                'cafile' => $ca,
                'local_cert' => '{pki}/client.pem',
                'local_pk' => '{pki}/client.key',
            ]],
            'client cert with the key inside' => ['client-cert', [
                'cafile' => $ca,
                'local_cert' => '{pki}/client-combined.pem',
            ]],
            'encrypted client key' => ['client-cert', [
                'cafile' => $ca,
                'local_cert' => '{pki}/client.pem',
                'local_pk' => '{pki}/client-encrypted.key',
                'passphrase' => TlsPki::PASSPHRASE,
            ]],
            // capath: a folder of hashed CA certificates instead of the system's roots.
            'capath, trusted chain' => ['good', ['capath' => '{pki}/capath']],
            'capath of another CA' => ['good', ['capath' => '{pki}/other-capath']],
            'capath of another CA, cafile trusted' => ['good', ['capath' => '{pki}/other-capath', 'cafile' => $ca]],
            // peer_fingerprint: a string (md5 by its length 32, sha1 by 40) or algo => hash.
            'peer_fingerprint sha256, right' => ['good', [
                'cafile' => $ca,
                'peer_fingerprint' => ['sha256' => '{fp:sha256:server.pem}'],
            ]],
            'peer_fingerprint sha1 string, right, upper case' => ['good', [
                'cafile' => $ca,
                'peer_fingerprint' => '{FP:sha1:server.pem}',
            ]],
            'peer_fingerprint md5 string, right' => ['good', [
                'cafile' => $ca,
                'peer_fingerprint' => '{fp:md5:server.pem}',
            ]],
            'peer_fingerprint sha256 and md5, both right' => ['good', [
                'cafile' => $ca,
                'peer_fingerprint' => ['sha256' => '{fp:sha256:server.pem}', 'md5' => '{fp:md5:server.pem}'],
            ]],
            'peer_fingerprint sha256 right, md5 wrong' => ['good', [
                'cafile' => $ca,
                'peer_fingerprint' => ['sha256' => '{fp:sha256:server.pem}', 'md5' => '{fp:md5:other-server.pem}'],
            ]],
            'peer_fingerprint of another certificate' => ['good', [
                'cafile' => $ca,
                'peer_fingerprint' => ['sha256' => '{fp:sha256:other-server.pem}'],
            ]],
            'peer_fingerprint pins a self-signed certificate, verify_peer off' => ['self-signed', [
                'verify_peer' => false,
                'peer_fingerprint' => ['sha256' => '{fp:sha256:self-signed.pem}'],
            ]],
            'peer_fingerprint right, name wrong' => ['wrong-name', [
                'cafile' => $ca,
                'peer_fingerprint' => ['sha256' => '{fp:sha256:wrong-name.pem}'],
            ]],
            'peer_fingerprint string of a sha256 length' => ['good', [
                'cafile' => $ca,
                'peer_fingerprint' => '{fp:sha256:server.pem}',
            ]],
            'peer_fingerprint with colons' => ['good', [
                'cafile' => $ca,
                'peer_fingerprint' => ['sha256' => '{fp:sha256:server.pem:colons}'],
            ]],
            'peer_fingerprint unknown algorithm' => ['good', [
                'cafile' => $ca,
                'peer_fingerprint' => ['nope' => 'abcd'],
            ]],
            // ciphers (TLS 1.2 and older; the servers' keys are ECDSA P-256).
            'ciphers ECDSA, TLS 1.2' => ['good', [
                'cafile' => $ca,
                'crypto_method' => STREAM_CRYPTO_METHOD_TLSv1_2_CLIENT,
                'ciphers' => 'ECDHE-ECDSA-AES128-GCM-SHA256',
            ]],
            'ciphers RSA only, TLS 1.2' => ['good', [
                'cafile' => $ca,
                'crypto_method' => STREAM_CRYPTO_METHOD_TLSv1_2_CLIENT,
                'ciphers' => 'ECDHE-RSA-AES128-GCM-SHA256',
            ]],
            'ciphers RSA only, TLS 1.3 allowed' => ['good', [
                'cafile' => $ca,
                'ciphers' => 'ECDHE-RSA-AES128-GCM-SHA256',
            ]],
            'ciphers that match nothing' => ['good', ['cafile' => $ca, 'ciphers' => 'NO-SUCH-CIPHER']],
            // security_level: a P-256 key has 128 bits of security (level 3 at most).
            'security_level 1' => ['good', ['cafile' => $ca, 'security_level' => 1]],
            'security_level 3' => ['good', ['cafile' => $ca, 'security_level' => 3]],
            'security_level 4' => ['good', ['cafile' => $ca, 'security_level' => 4]],
            'SNI_enabled false' => ['good', ['cafile' => $ca, 'SNI_enabled' => false]],
            'SNI_enabled false, peer_name' => ['wrong-name', [
                'cafile' => $ca,
                'SNI_enabled' => false,
                'peer_name' => 'wrong.example',
            ]],
            // crypto_method: from the lowest TLS version flagged to the highest.
            'crypto_method TLS 1.2' => ['good', [
                'cafile' => $ca,
                'crypto_method' => STREAM_CRYPTO_METHOD_TLSv1_2_CLIENT,
            ]],
            'crypto_method TLS 1.3' => ['good', [
                'cafile' => $ca,
                'crypto_method' => STREAM_CRYPTO_METHOD_TLSv1_3_CLIENT,
            ]],
            'crypto_method TLS 1.0' => ['good', [
                'cafile' => $ca,
                'crypto_method' => STREAM_CRYPTO_METHOD_TLSv1_0_CLIENT,
            ]],
            'crypto_method TLS 1.0 and 1.2' => ['good', [
                'cafile' => $ca,
                'crypto_method' => STREAM_CRYPTO_METHOD_TLSv1_0_CLIENT | STREAM_CRYPTO_METHOD_TLSv1_2_CLIENT,
            ]],
            'crypto_method any' => ['good', ['cafile' => $ca, 'crypto_method' => STREAM_CRYPTO_METHOD_ANY_CLIENT]],
            'disable_compression true' => ['good', ['cafile' => $ca, 'disable_compression' => true]],
            'disable_compression false' => ['good', ['cafile' => $ca, 'disable_compression' => false]],
        ];
    }

    /**
     * wsc opens the connection exactly when PHP's own `ssl://` stream with
     * the same context options completes a WebSocket handshake: the `ssl`
     * options mean what they mean in PHP.
     *
     * @dataProvider optionSets
     *
     * An option refused by connect() (an \\InvalidArgumentException naming
     * it) counts as not opening.
     *
     * @param array<string, mixed> $options
     */
    public function testSameOutcomeAsPhpStreams(string $role, array $options): void
    {
        $options = self::resolve($options);
        [$phpOpens, $phpWhy] = self::phpStreamOpens(self::server($role)->port, $options);

        $rec = new Recorder();
        $con = $rec->attach(new AsyncTcpConnection(self::server($role)->wss(), self::ssl($options)));
        try {
            $con->connect();
            self::loopUntil(
                fn () => $rec->count('onWebSocketConnect') + $rec->count('onClose') > 0,
                'onWebSocketConnect or onClose',
            );
            $wscOpens = $rec->count('onWebSocketConnect') > 0;
            $wscWhy = $wscOpens ? 'opened' : (string) ($rec->args('onError')[0][1] ?? 'closed');
        } catch (\InvalidArgumentException $e) {
            $wscOpens = false;
            $wscWhy = 'connect() refused an option: ' . $e->getMessage();
        }
        self::assertSame(
            $phpOpens,
            $wscOpens,
            sprintf(
                "PHP's ssl:// stream %s (%s) but wsc %s (%s)",
                $phpOpens ? 'opens' : 'refuses',
                $phpWhy,
                $wscOpens ? 'opens' : 'refuses',
                $wscWhy,
            ),
        );
    }

    /**
     * Replaces `{pki}` with the PKI's folder and `{fp:ALGO:FILE}` (`{FP:...}`:
     * upper case; `{fp:ALGO:FILE:colons}`: `ab:cd:...`) with the fingerprint
     * of that certificate, in strings and arrays of strings.
     *
     * @param array<string, mixed> $options
     * @return array<string, mixed>
     */
    private static function resolve(array $options): array
    {
        $one = static function (mixed $v): mixed {
            if (!is_string($v)) {
                return $v;
            }
            if (preg_match('/^\{(fp|FP):(\w+):([\w.-]+?)(:colons)?\}$/', $v, $m) === 1) {
                $fp = self::pki()->fingerprint($m[3], $m[2]);
                if (($m[4] ?? '') !== '') {
                    $fp = implode(':', str_split($fp, 2));
                }
                return $m[1] === 'FP' ? strtoupper($fp) : $fp;
            }
            return str_replace('{pki}', self::pki()->dir, $v);
        };
        return array_map(static fn (mixed $v) => is_array($v) ? array_map($one, $v) : $one($v), $options);
    }

    // --- the options of this issue, one by one -------------------------------------

    public function testPeerFingerprintMismatchIsRefusedNamingBothFingerprints(): void
    {
        $rec = new Recorder();
        $other = self::pki()->fingerprint('other-server.pem', 'sha256');
        $con = $rec->attach(new AsyncTcpConnection(self::server('good')->wss(), self::ssl([
            'cafile' => self::pki()->path('ca.pem'),
            'peer_fingerprint' => ['sha256' => $other],
        ])));
        $message = $this->expectConnectFail($rec, $con);
        self::assertStringContainsString('peer fingerprint mismatch', $message);
        self::assertStringContainsString(self::pki()->fingerprint('server.pem', 'sha256'), $message);
    }

    public function testPeerFingerprintOfABadLengthThrowsAtConnectNamingIt(): void
    {
        $con = new AsyncTcpConnection(self::server('good')->wss(), self::ssl(['peer_fingerprint' => 'abcdef']));
        $this->expectException(\InvalidArgumentException::class);
        $this->expectExceptionMessage('ssl.peer_fingerprint');
        $con->connect();
    }

    public function testCapathOpensAndEchoes(): void
    {
        $this->expectOpenAndEcho('good', ['capath' => self::pki()->dir . '/capath']);
    }

    public function testMissingCapathThrowsAtConnectNamingIt(): void
    {
        $path = self::pki()->missing('no-such-folder');
        $con = new AsyncTcpConnection(self::server('good')->wss(), self::ssl(['capath' => $path]));
        try {
            $con->connect();
            self::fail('connect() accepted a missing capath');
        } catch (\InvalidArgumentException $e) {
            self::assertStringContainsString('ssl.capath', $e->getMessage());
            self::assertStringContainsString($path, $e->getMessage());
        }
    }

    public function testSniEnabledFalseSendsNoServerName(): void
    {
        $info = $this->sessionInfo('good', ['cafile' => self::pki()->path('ca.pem'), 'SNI_enabled' => false]);
        self::assertNull($info['sni']);
    }

    public function testCryptoMethodTls12UsesTls12(): void
    {
        $info = $this->sessionInfo('good', [
            'cafile' => self::pki()->path('ca.pem'),
            'crypto_method' => STREAM_CRYPTO_METHOD_TLSv1_2_CLIENT,
        ]);
        self::assertSame('TLSv1.2', $info['tls_version']);
        $info = $this->sessionInfo('good', ['cafile' => self::pki()->path('ca.pem')]);
        self::assertSame('TLSv1.3', $info['tls_version']);
    }

    public function testCryptoMethodSslv3OnlyThrowsAtConnect(): void
    {
        $con = new AsyncTcpConnection(self::server('good')->wss(), self::ssl([
            'crypto_method' => STREAM_CRYPTO_METHOD_SSLv3_CLIENT,
        ]));
        $this->expectException(\InvalidArgumentException::class);
        $this->expectExceptionMessage('ssl.crypto_method');
        $con->connect();
    }

    public function testCiphersThatMatchNothingThrowAtConnectNamingThem(): void
    {
        $con = new AsyncTcpConnection(self::server('good')->wss(), self::ssl(['ciphers' => 'NO-SUCH-CIPHER']));
        $this->expectException(\InvalidArgumentException::class);
        $this->expectExceptionMessage('ssl.ciphers');
        $con->connect();
    }

    public function testSecurityLevelOutOfRangeThrows(): void
    {
        $con = new AsyncTcpConnection(self::server('good')->wss(), self::ssl(['security_level' => 6]));
        $this->expectException(\InvalidArgumentException::class);
        $this->expectExceptionMessage('ssl.security_level');
        $con->connect();
    }

    public function testAnOptionWscCannotHonourThrowsNamingIt(): void
    {
        $con = new AsyncTcpConnection(self::server('good')->wss(), self::ssl(['verify_depth' => 3]));
        $this->expectException(\InvalidArgumentException::class);
        $this->expectExceptionMessage('ssl.verify_depth is not supported');
        $con->connect();
    }

    public function testServerOnlyOptionsAreIgnoredAsPhpClientsDo(): void
    {
        $this->expectOpenAndEcho('good', [
            'cafile' => self::pki()->path('ca.pem'),
            'honor_cipher_order' => true,
            'capture_peer_cert' => false,
        ]);
    }

    /**
     * A reconnect resumes the TLS session of the first connection (the
     * Python server, OpenSSL underneath, accepts its ticket). Sessions are
     * shared by connections with the same `ssl` options in the process:
     * security_level 2, used by no other test here, keeps this test's
     * first connection a full handshake.
     */
    public function testReconnectResumesTheTlsSession(): void
    {
        $rec = new Recorder();
        $con = $rec->attach(new AsyncTcpConnection(self::server('good')->wss(), self::ssl([
            'cafile' => self::pki()->path('ca.pem'),
            'security_level' => 2,
        ])));
        self::assertFalse($con->isTlsSessionResumed());
        $this->expectOpen($rec, $con);
        self::assertFalse($con->isTlsSessionResumed(), 'the first connection is a full handshake');
        $con->send('x');
        self::loopUntil(fn () => $rec->count('onMessage') >= 1, 'the echo (the ticket comes before it)');
        $con->reConnect(0);
        self::loopUntil(fn () => $rec->count('onWebSocketConnect') >= 2, 'the second onWebSocketConnect');
        self::assertTrue($con->isTlsSessionResumed(), 'the reconnect resumed: ' . json_encode($rec->names()));
        $con->close();
        self::loopUntil(fn () => $rec->count('onClose') >= 2, 'onClose');
    }

    // --- helpers ------------------------------------------------------------------

    private static function pki(): TlsPki
    {
        self::assertNotNull(self::$pki, 'the PKI was not made');
        return self::$pki;
    }

    private static function server(string $role): TlsWsServer
    {
        self::assertArrayHasKey($role, self::$servers, "no {$role} server");
        return self::$servers[$role];
    }

    /**
     * @param array<string, mixed> $options
     * @return array{ssl: array<string, mixed>}
     */
    private static function ssl(array $options): array
    {
        return ['ssl' => $options];
    }

    private function expectOpen(Recorder $rec, AsyncTcpConnection $con): void
    {
        $con->connect();
        self::loopUntil(
            fn () => $rec->count('onWebSocketConnect') + $rec->count('onClose') > 0,
            'onWebSocketConnect',
        );
        // /info's first message may come in the same loop turn.
        self::assertSame(
            ['onConnect', 'onWebSocketConnect'],
            array_slice($rec->names(), 0, 2),
            (string) json_encode($rec->events),
        );
        self::assertSame(0, $rec->count('onError'), (string) json_encode($rec->events));
        self::assertSame(AsyncTcpConnection::STATUS_ESTABLISHED, $con->getStatus());
    }

    private function expectEchoAndCleanClose(Recorder $rec, AsyncTcpConnection $con): void
    {
        $con->send('over verified TLS');
        $big = str_repeat('0123456789abcdef', 12500);
        $con->send($big);
        self::loopUntil(fn () => $rec->count('onMessage') >= 2, 'the two echoes');
        self::assertSame([['over verified TLS'], [$big]], $rec->args('onMessage'));
        $con->close();
        self::loopUntil(fn () => $rec->count('onClose') > 0, 'onClose');
        self::assertSame(1000, $con->getCloseCode());
        self::assertSame(0, $rec->count('onError'), json_encode($rec->args('onError')));
    }

    /**
     * @param array<string, mixed> $options
     */
    private function expectOpenAndEcho(string $role, array $options): void
    {
        $rec = new Recorder();
        $con = $rec->attach(new AsyncTcpConnection(self::server($role)->wss(), self::ssl($options)));
        $this->expectOpen($rec, $con);
        $this->expectEchoAndCleanClose($rec, $con);
    }

    /**
     * Connects and expects onError(CONNECT_FAIL) then onClose, no
     * onWebSocketConnect; returns the error message.
     */
    private function expectConnectFail(Recorder $rec, AsyncTcpConnection $con): string
    {
        $con->connect();
        self::loopUntil(
            fn () => $rec->count('onWebSocketConnect') + $rec->count('onClose') > 0,
            'onError and onClose',
        );
        self::assertSame(0, $rec->count('onWebSocketConnect'), 'the connection opened: ' . json_encode($rec->names()));
        self::assertSame(['onError', 'onClose'], array_values(array_diff($rec->names(), ['onConnect'])));
        [$code, $message] = $rec->args('onError')[0];
        self::assertSame(AsyncTcpConnection::CONNECT_FAIL, $code);
        self::assertSame(1006, $con->getCloseCode());
        self::assertSame(AsyncTcpConnection::STATUS_CLOSED, $con->getStatus());
        return $message;
    }

    /**
     * A refusal by certificate verification: onError(CONNECT_FAIL) with
     * OpenSSL's reason, then onClose, and no onConnect (TLS failed first).
     *
     * @param array<string, mixed> $options
     */
    private function expectVerifyFailure(string $role, array $options, string $detail): void
    {
        $rec = new Recorder();
        $con = $rec->attach(new AsyncTcpConnection(self::server($role)->wss(), self::ssl($options)));
        $message = $this->expectConnectFail($rec, $con);
        self::assertSame(['onError', 'onClose'], $rec->names());
        self::assertStringContainsString(self::VERIFY_FAILED, $message);
        self::assertStringContainsString($detail, $message);
    }

    /**
     * Opens `/info` and returns the server's report of the TLS session.
     *
     * @param array<string, mixed> $options
     * @return array{sni: ?string, client_cert: ?string, tls_version: ?string}
     */
    private function sessionInfo(string $role, array $options): array
    {
        $rec = new Recorder();
        $con = $rec->attach(new AsyncTcpConnection(self::server($role)->wss('/info'), self::ssl($options)));
        $this->expectOpen($rec, $con);
        self::loopUntil(fn () => $rec->count('onMessage') > 0, 'the /info message');
        $info = json_decode($rec->args('onMessage')[0][0], true, 4, JSON_THROW_ON_ERROR);
        self::assertIsArray($info);
        return $info;
    }

    /**
     * Whether PHP's own `ssl://` stream with these `ssl` options completes
     * a WebSocket handshake with the server (TLS 1.3 reports a refused
     * client certificate only after the handshake, when reading).
     *
     * @param array<string, mixed> $options
     * @return array{0: bool, 1: string} opened, and why not
     */
    private static function phpStreamOpens(int $port, array $options): array
    {
        $context = stream_context_create(['ssl' => $options]);
        $warnings = [];
        set_error_handler(static function (int $type, string $message) use (&$warnings): bool {
            $warnings[] = $message;
            return true;
        });
        try {
            [$opened, $why] = self::phpStreamHandshake($port, $context);
        } finally {
            restore_error_handler();
        }
        return [$opened, trim($why . ' ' . implode(' / ', $warnings))];
    }

    /**
     * @param resource $context a stream context with `ssl` options
     * @return array{0: bool, 1: string} opened, and why not
     */
    private static function phpStreamHandshake(int $port, $context): array
    {
        $errno = 0;
        $errstr = '';
        $stream = stream_socket_client(
            "ssl://localhost:{$port}",
            $errno,
            $errstr,
            5.0,
            STREAM_CLIENT_CONNECT,
            $context,
        );
        if ($stream === false) {
            return [false, $errstr];
        }
        stream_set_timeout($stream, 5);
        $key = base64_encode(random_bytes(16));
        fwrite($stream, "GET / HTTP/1.1\r\nHost: localhost:{$port}\r\nUpgrade: websocket\r\n"
            . "Connection: Upgrade\r\nSec-WebSocket-Key: {$key}\r\nSec-WebSocket-Version: 13\r\n\r\n");
        $line = fgets($stream);
        fclose($stream);
        if (is_string($line) && str_starts_with($line, 'HTTP/1.1 101 ')) {
            return [true, 'opened'];
        }
        return [false, 'no 101: ' . trim((string) $line)];
    }
}
