#!/usr/bin/env bash
# Makes a private CA and a certificate it signed for 127.0.0.1 / localhost, for the HTTPS fake
# provider, plus the bundle of set-up (b): the system bundle followed by the private CA.
# Usage: bench/https_certs.sh DIR
set -euo pipefail
dir=$1
mkdir -p "$dir"
cd "$dir"
ec() { printf '%s' "-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes"; }
# shellcheck disable=SC2046 # the key options are a word list on purpose
openssl req -x509 $(ec) -days 2 -subj "/CN=onfail bench CA" -keyout ca.key -out ca.pem \
  -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign 2>/dev/null
# shellcheck disable=SC2046
openssl req $(ec) -subj "/CN=127.0.0.1" -keyout server.key -out server.csr 2>/dev/null
printf '%s\n' "subjectAltName=IP:127.0.0.1,DNS:localhost" "basicConstraints=CA:FALSE" \
  "keyUsage=critical,digitalSignature" "extendedKeyUsage=serverAuth" >server.ext
openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -extfile server.ext \
  -out server.pem 2>/dev/null
cat /etc/ssl/certs/ca-certificates.crt ca.pem >bundle.pem
