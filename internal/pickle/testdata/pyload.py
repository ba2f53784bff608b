# Loads pickles written by wsess's Encoder with CPython's pickle, the way an
# Emmett app would, and prints each as one JSON line: the root's class and
# its value. Input: one hex pickle a line.
import base64, datetime, json, pickle, sys, types

def install(modname):
    mod = types.ModuleType(modname)
    class sdict(dict):
        pass
    sdict.__module__ = modname
    sdict.__qualname__ = "sdict"
    mod.sdict = sdict
    parts = modname.split(".")
    for i in range(1, len(parts)):
        sys.modules.setdefault(".".join(parts[:i]), types.ModuleType(".".join(parts[:i])))
    sys.modules[modname] = mod

for m in ("emmett.datastructures", "weppy.datastructures", "emmett_core.datastructures"):
    install(m)

def tojson(v):
    if isinstance(v, dict):
        assert all(isinstance(k, str) for k in v)
        return {k: tojson(x) for k, x in v.items()}
    if isinstance(v, list):
        return [tojson(x) for x in v]
    if isinstance(v, bytes):
        return {"bytes": base64.b64encode(v).decode()}
    if isinstance(v, (datetime.datetime, datetime.date, datetime.time)):
        return {type(v).__name__: v.isoformat()}
    if isinstance(v, int) and not isinstance(v, bool):
        return {"int": str(v)}
    if isinstance(v, float):
        return {"float": repr(v)}
    assert v is None or isinstance(v, (str, bool)), type(v)
    return v

for line in sys.stdin:
    obj = pickle.loads(bytes.fromhex(line.strip()))
    t = type(obj)
    print(json.dumps({"class": t.__module__ + "." + t.__qualname__, "value": tojson(obj)}, sort_keys=True))
