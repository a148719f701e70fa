#!/usr/bin/env python3
"""Reproduces the known-answer vector of BlockFormatTest with an independent AES-GCM (pyca/cryptography).

Block format v1: header | segments (nonce 12 | ciphertext <= 64 KiB | tag 16),
AAD of segment i = header | block index (u64 BE) | i (u32 BE) | final flag (u8).
"""
import hashlib
import struct
import uuid

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

KEY = bytes(range(32))
KEY_ID = uuid.UUID("00112233-4455-6677-8899-aabbccddeeff")
WRITE_ID = uuid.UUID("0f0e0d0c-0b0a-0908-0706-050403020100")
BLOCK_INDEX = 7
LENGTH = 65536 + 1000
PLAINTEXT = bytes((i * 31 + 7) & 0xFF for i in range(LENGTH))
NONCES = [bytes(range(0xA0, 0xAC)), bytes(range(0xB0, 0xBC))]  # what the scripted SecureRandom hands out
SEGMENT = 65536

segments = [PLAINTEXT[i:i + SEGMENT] for i in range(0, LENGTH, SEGMENT)]
header = (b"CFBK" + bytes([1]) + KEY_ID.bytes + WRITE_ID.bytes
          + struct.pack(">qii", BLOCK_INDEX, LENGTH, len(segments)))
blob = bytearray(header)
tags = []
for i, (nonce, chunk) in enumerate(zip(NONCES, segments)):
    aad = header + struct.pack(">qi", BLOCK_INDEX, i) + bytes([1 if i == len(segments) - 1 else 0])
    sealed = AESGCM(KEY).encrypt(nonce, chunk, aad)
    tags.append(sealed[-16:].hex())
    blob += nonce + sealed

print("header  ", header.hex())
print("length  ", len(blob))
print("sha256  ", hashlib.sha256(blob).hexdigest())
print("tags    ", tags)
print("ct0[:16]", blob[len(header) + 12:len(header) + 28].hex())
