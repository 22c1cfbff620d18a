#!/bin/sh
# Makes test certificates in DIR with the openssl CLI (EC P-256 keys: fast to make):
#   ca.crt ca.key            a self-signed test CA
#   server.crt server.key    for localhost and 127.0.0.1, signed by ca
#   other-ca.crt other-ca.key  an unrelated CA (the wrong-CA test)
#   wrong.crt wrong.key      for wrong.example only, signed by ca (host-name mismatch)
#   client.crt client.key    a client certificate signed by ca (mutual TLS)
# Usage: make_certs.sh DIR
set -eu

if [ $# -ne 1 ]; then
  echo "usage: $0 DIR" >&2
  exit 2
fi
dir=$1
mkdir -p "$dir"
cd "$dir"

newkey="-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"

make_ca() {  # name subject
  # shellcheck disable=SC2086
  openssl req -x509 $newkey -keyout "$1.key" -out "$1.crt" -days 3650 -subj "$2" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
}

make_leaf() {  # name subject ca extensions
  # shellcheck disable=SC2086
  openssl req -new $newkey -keyout "$1.key" -out "$1.csr" -subj "$2" 2>/dev/null
  printf '%s\n' "$4" > "$1.ext"
  openssl x509 -req -in "$1.csr" -CA "$3.crt" -CAkey "$3.key" -CAcreateserial \
    -out "$1.crt" -days 3650 -extfile "$1.ext" 2>/dev/null
  rm -f "$1.csr" "$1.ext"
}

make_ca ca "/CN=vigil test CA"
make_ca other-ca "/CN=vigil unrelated test CA"
make_leaf server "/CN=localhost" ca \
  "basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth
subjectAltName=DNS:localhost,IP:127.0.0.1"
make_leaf wrong "/CN=wrong.example" ca \
  "basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth
subjectAltName=DNS:wrong.example"
make_leaf client "/CN=vigil test client" ca \
  "basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=clientAuth"
chmod 600 ./*.key
