#!/usr/bin/python3
"""Throwaway RSA key + self-signed certificate for WS-Security tests (python3-cryptography, Debian).

usage: make_cert.py KEY_OUT CERT_OUT CN NOT_BEFORE_DAYS NOT_AFTER_DAYS [BITS]
(days relative to now; e.g. -2 -1 makes an expired certificate, 1 2 one not yet valid)
"""
import datetime
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

key_out, cert_out, cn, nb, na = sys.argv[1:6]
bits = int(sys.argv[6]) if len(sys.argv) > 6 else 2048
key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
now = datetime.datetime.now(datetime.timezone.utc)
cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now + datetime.timedelta(days=float(nb)))
        .not_valid_after(now + datetime.timedelta(days=float(na)))
        .sign(key, hashes.SHA256()))
with open(key_out, "wb") as f:
    f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                              serialization.NoEncryption()))
with open(cert_out, "wb") as f:
    f.write(cert.public_bytes(serialization.Encoding.PEM))
