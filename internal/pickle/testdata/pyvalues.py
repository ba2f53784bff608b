# Prints one JSON line per (case, protocol): the pickle made by this CPython
# and the JSON that wsess must show for it. Used by TestDecodePython.
import base64, collections, datetime, decimal, json, pickle, sys, types, uuid

mod = types.ModuleType("emmett.datastructures")
class sdict(dict):
    __slots__ = ()
    def __getattr__(self, k): return self.get(k)
    def __setattr__(self, k, v): self[k] = v
    def __getstate__(self): return None
sdict.__module__ = "emmett.datastructures"
mod.sdict = sdict
sys.modules["emmett.datastructures"] = mod
sys.modules["emmett"] = types.ModuleType("emmett")

class Row:
    pass
Row.__module__ = "pydal.objects"
Row.__qualname__ = "Row"
pydal = types.ModuleType("pydal.objects"); pydal.Row = Row
sys.modules["pydal.objects"] = pydal; sys.modules["pydal"] = types.ModuleType("pydal")

def tojson(v):
    if isinstance(v, dict):
        return {k if isinstance(k, str) else repr(k): tojson(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [tojson(x) for x in v]
    if isinstance(v, (set, frozenset)):
        return sorted(tojson(x) for x in v)
    if isinstance(v, (bytes, bytearray)):
        return base64.b64encode(bytes(v)).decode()
    if isinstance(v, (datetime.datetime, datetime.date, datetime.time)):
        return v.isoformat()
    if isinstance(v, uuid.UUID):
        return str(v)
    if isinstance(v, Row):
        return tojson(v.__dict__)
    return v

row = Row(); row.id = 42; row.email = "ann@example.com"
shared = [1, 2]
cases = {
    "scalars": sdict(s="plain", u="Zoë ✓ \\ back\nslash 'q' \"d\"", e="", i=0, neg=-1, i8=255, i16=65535,
                     i32=-2**31, i64=2**63 - 1, big=-(2**100) + 3, f=0.1, f2=-2.5e-10, t=True, f0=False, n=None),
    "bytes": sdict(b=b"\x00\xff\n\\'", ba=bytearray(b"xyz"), empty=b""),
    "containers": sdict(l=[1, [2, [3]]], t=(1, "a"), t1=(1,), t0=(), s={3}, fs=frozenset(["x"]),
                        d={"k": {"deep": []}}, od=collections.OrderedDict([("a", 1)]),
                        dd=collections.defaultdict(list, {"z": [1]}), shared=[shared, shared]),
    "keys": sdict({1: "int", None: "none", (1, "a"): "tuple", 2.5: "float"}),
    "times": sdict(dt=datetime.datetime(2024, 5, 17, 13, 45, 30, 123456), d=datetime.date(1999, 12, 31),
                   tm=datetime.time(7, 8, 9), dt0=datetime.datetime(2000, 1, 1),
                   utc=datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc),
                   off=datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=datetime.timezone(datetime.timedelta(hours=-5, minutes=-30)))),
    "objects": sdict(user=row, id=uuid.UUID("9b2f4a0e-6f4c-4e0e-8d2a-3f1c2b7a9e10"), nested=sdict(a=sdict(b=1))),
}
for name, value in cases.items():
    for proto in range(0, pickle.HIGHEST_PROTOCOL + 1):
        print(json.dumps({"case": name, "proto": proto, "hex": pickle.dumps(value, protocol=proto).hex(),
                          "expected": tojson(value)}))
