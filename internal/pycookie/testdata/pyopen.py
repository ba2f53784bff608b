# Opens a weppy or Emmett cookie the way the Python frameworks do, using
# only hashlib, hmac and the openssl command, and prints each session as
# one JSON line. Input: lines of "weppy|emmett<TAB>KEY<TAB>COOKIE".
import base64, datetime, hashlib, hmac, io, json, pickle, subprocess, sys, zlib

def openssl(mode, k, iv, data):
    r = subprocess.run(["openssl", "enc", "-d", mode, "-K", k.hex(), "-iv", iv.hex(), "-nopad"],
                       input=data, capture_output=True, check=True)
    return r.stdout

def open_cookie(fmt, key, cookie):
  if fmt == "emmett":
    salt, sig, ct = (base64.urlsafe_b64decode(p) for p in cookie.split(":"))
    dk = hashlib.pbkdf2_hmac("sha256", key.encode(), salt, 1000, 80)
    if not hmac.compare_digest(sig, hmac.new(dk[32:64], ct, hashlib.sha256).digest()):
        sys.exit("bad signature")
    data = openssl("-aes-256-ctr", dk[:32], dk[64:80], ct)
  else:
    sig, b64 = cookie.split(":", 1)
    hk = hashlib.sha1(key.encode()).hexdigest().encode()
    if not hmac.compare_digest(sig, hmac.new(hk, b64.encode(), hashlib.md5).hexdigest()):
        sys.exit("bad signature")
    k = key[:32].encode()
    k += b"." * (32 - len(k) % 32)
    data = openssl("-aes-256-cfb8", k, k[:16], base64.urlsafe_b64decode(b64))
  if data[:1] == b"x":
    data = zlib.decompressobj().decompress(data)
  return data

class Row:
    pass

class Stub(pickle.Unpickler):
    def find_class(self, module, name):
        if name == "sdict":
            return type("sdict", (dict,), {})
        if (module, name) == ("pydal.objects", "Row"):
            return Row
        return super().find_class(module, name)

def tojson(v):
    if isinstance(v, dict):
        return {str(k): tojson(x) for k, x in v.items()}
    if isinstance(v, (list, tuple, set, frozenset)):
        return [tojson(x) for x in v]
    if isinstance(v, (bytes, bytearray)):
        return base64.b64encode(bytes(v)).decode()
    if isinstance(v, (datetime.datetime, datetime.date, datetime.time)):
        return v.isoformat()
    if isinstance(v, Row):
        return tojson(v.__dict__)
    return v

for line in sys.stdin:
    fmt, key, cookie = line.rstrip("\n").split("\t")
    print(json.dumps(tojson(Stub(io.BytesIO(open_cookie(fmt, key, cookie))).load())))
