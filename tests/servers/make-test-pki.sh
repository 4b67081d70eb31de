#!/bin/sh
# Makes the throw-away PKI of the TLS tests (tests/tls_certs.rs,
# php/tests/TlsTest.php) with the openssl CLI, in DIR (created if needed;
# the caller makes it per test run and removes it). Nothing here is ever
# committed: every key is new on each run.
#
# Usage: make-test-pki.sh DIR
#
# Writes (PEM; keys unencrypted PKCS#8 unless said otherwise):
#   ca.pem ca.key                  the test CA
#   server.pem server.key          signed by the CA, SAN DNS:localhost, IP:127.0.0.1
#   wrong-name.pem wrong-name.key  signed by the CA, SAN DNS:wrong.example only
#   client.pem client.key          client certificate (CN=wsc test client), signed by the CA
#   client-encrypted.key           the same client key, PKCS#8 encrypted with AES-256,
#                                  passphrase in client-passphrase.txt
#   client-encrypted-traditional.key  the same key in the traditional format
#                                  (BEGIN EC PRIVATE KEY, Proc-Type: ENCRYPTED, AES-256-CBC),
#                                  same passphrase
#   client-combined.pem            client.pem followed by client.key (PHP's local_cert
#                                  holding both)
#   other-ca.pem other-ca.key      a second CA that signed nothing the servers use
#   other-server.pem other-server.key  signed by the other CA, SAN DNS:localhost, IP:127.0.0.1
#   self-signed.pem self-signed.key    a self-signed leaf (not a CA), SAN DNS:localhost, IP:127.0.0.1
#   capath/ other-capath/          folders holding ca.pem / other-ca.pem under their subject
#                                  hash (HASH.0), as `openssl rehash` names them (PHP's capath)
set -eu

dir=${1:?usage: make-test-pki.sh DIR}
mkdir -p "$dir"
cd "$dir"
command -v openssl >/dev/null 2>&1 || {
    echo "make-test-pki.sh: openssl is not installed (apt-get install openssl, or scripts/install-deps.sh test)" >&2
    exit 2
}

passphrase='correct horse battery staple'
printf '%s' "$passphrase" >client-passphrase.txt

newkey() { # FILE: a fresh P-256 key, PKCS#8
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null
}

cat >ext.cnf <<'EOF'
[ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash

[server]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = DNS:localhost, IP:127.0.0.1

[wrong]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = DNS:wrong.example

[client]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid

[selfsigned]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
subjectAltName = DNS:localhost, IP:127.0.0.1

[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused
EOF

serial() { openssl rand -hex 16; }

ca() { # NAME CN
    newkey "$1.key"
    openssl req -config ext.cnf -new -x509 -key "$1.key" -subj "/CN=$2" -days 2 \
        -set_serial "0x$(serial)" -extensions ca -out "$1.pem"
}

leaf() { # NAME CN SECTION CA
    newkey "$1.key"
    openssl req -config ext.cnf -new -key "$1.key" -subj "/CN=$2" -out "$1.csr"
    openssl x509 -req -in "$1.csr" -CA "$4.pem" -CAkey "$4.key" -set_serial "0x$(serial)" \
        -days 2 -extfile ext.cnf -extensions "$3" -out "$1.pem" 2>/dev/null
    rm -f "$1.csr"
}

ca ca 'wsc test CA'
ca other-ca 'wsc unknown test CA'
leaf server localhost server ca
leaf wrong-name wrong.example wrong ca
leaf client 'wsc test client' client ca
leaf other-server localhost server other-ca
newkey self-signed.key
openssl req -config ext.cnf -new -x509 -key self-signed.key -subj /CN=localhost -days 2 \
    -set_serial "0x$(serial)" -extensions selfsigned -out self-signed.pem
openssl pkcs8 -topk8 -v2 aes256 -in client.key -passout "pass:$passphrase" -out client-encrypted.key
openssl pkey -in client.key -traditional -aes256 -passout "pass:$passphrase" \
    -out client-encrypted-traditional.key
cat client.pem client.key >client-combined.pem
for c in ca other-ca; do
    d=$([ "$c" = ca ] && echo capath || echo other-capath)
    mkdir -p "$d"
    cp "$c.pem" "$d/$(openssl x509 -hash -noout -in "$c.pem").0"
done
rm -f ext.cnf
echo "pki ready in $dir"
