#!/usr/bin/env python3
"""Checks that a DaemonThreads .nupkg ships ReadyToRun images: reads the PE/CLI header of every DaemonThreads.dll in it
and prints, per entry, whether the CLI header's ManagedNativeHeader points at a READYTORUN header ("RTR" signature).
Fails unless lib/<tfm> is IL only and runtimes/linux-x64/lib/<tfm> is ReadyToRun for net8.0 and net10.0.
Usage: check-r2r.py PACKAGE.nupkg"""
import struct, sys, zipfile

def r2r(pe):
    e = struct.unpack_from("<I", pe, 0x3C)[0]
    assert pe[e:e + 4] == b"PE\0\0"
    nsec = struct.unpack_from("<H", pe, e + 6)[0]
    optsz = struct.unpack_from("<H", pe, e + 20)[0]
    opt = e + 24
    magic = struct.unpack_from("<H", pe, opt)[0]
    dd = opt + (96 if magic == 0x10B else 112)
    cli_rva = struct.unpack_from("<I", pe, dd + 14 * 8)[0]
    secs = [struct.unpack_from("<8sIIII", pe, opt + optsz + i * 40) for i in range(nsec)]
    def off(rva):
        for _, vsize, va, rawsize, raw in secs:
            if va <= rva < va + max(vsize, rawsize):
                return rva - va + raw
        raise ValueError(rva)
    cli = off(cli_rva)
    native_rva = struct.unpack_from("<I", pe, cli + 64)[0]  # ManagedNativeHeader directory
    return native_rva != 0 and pe[off(native_rva):off(native_rva) + 4] == b"RTR\0"

z = zipfile.ZipFile(sys.argv[1])
found = {}
for n in z.namelist():
    if n.endswith("/DaemonThreads.dll"):
        found[n] = r2r(z.read(n))
        print(f"{n:<45} {'ReadyToRun' if found[n] else 'IL only'}")
need = {f"lib/{t}/DaemonThreads.dll": False for t in ("net8.0", "net10.0")}
need.update({f"runtimes/linux-x64/lib/{t}/DaemonThreads.dll": True for t in ("net8.0", "net10.0")})
bad = [n for n, v in need.items() if found.get(n) is not v]
if bad:
    sys.exit(f"check-r2r: unexpected or missing: {bad}")
