"""Seeds each fuzz target's corpus from the conformance vectors: tokens,
their claims, policies and paths (fuzz/corpus/<target>/, not committed)."""
import base64
import glob
import hashlib
import json
import os
import sys

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
out = os.path.join(root, "fuzz", "corpus")


def put(target: str, data: bytes) -> None:
    # Decision targets read a selector byte first (gate, path, method).
    if target in ("token", "claims", "signed"):
        for sel in (0x00, 0x03, 0x42):
            _put(target, bytes([sel]) + data)
        return
    _put(target, data)


def _put(target: str, data: bytes) -> None:
    d = os.path.join(out, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, hashlib.sha1(data).hexdigest()), "wb") as f:
        f.write(data)


def b64(seg: str) -> bytes:
    return base64.urlsafe_b64decode(seg + "=" * (-len(seg) % 4))


for path in sorted(glob.glob(os.path.join(root, "tests", "vectors", "*.json"))):
    doc = json.load(open(path, encoding="utf-8"))
    for case in doc.get("cases", []):
        req = case.get("request", {})
        put("path", f"{req.get('method', 'GET')} {req.get('path', '/')}".encode())
        token = req.get("token") or (req.get("authorization") or "")[len("Bearer "):]
        if token:
            put("token", token.encode())
            parts = token.split(".")
            if len(parts) == 3:
                try:
                    claims = b64(parts[1])
                except Exception:
                    continue
                put("claims", claims)
                put("signed", claims)
        pol = case.get("policy")
        if isinstance(pol, dict) and "policy" in pol:
            put("policy", b"\x01" + json.dumps(pol["policy"]).encode())
for toml in glob.glob(os.path.join(root, "core", "policies", "*.toml")):
    put("policy", b"\x00" + open(toml, "rb").read())
print(f"seeded {out}", file=sys.stderr)
