#!/usr/bin/env python3
"""PE checks for kmon.sys (and the checksum GNU ld does not write).

  pe_tool.py fix-checksum IMAGE   write the PE checksum
  pe_tool.py check IMAGE...       native subsystem, NX, force-integrity,
                                  valid checksum, imports only from
                                  ntoskrnl.exe/hal.dll, no W+X section
Prints one JSON line per image; exits 1 if any check fails.
"""
import json
import struct
import sys

ALLOWED_IMPORTS = {"ntoskrnl.exe", "hal.dll"}
SUBSYSTEM_NATIVE = 1
DLLCHAR_DYNAMIC_BASE = 0x40
DLLCHAR_FORCE_INTEGRITY = 0x80
DLLCHAR_NX_COMPAT = 0x100
SCN_MEM_EXECUTE = 0x20000000
SCN_MEM_WRITE = 0x80000000


class Pe:
    def __init__(self, data):
        self.data = data
        if data[:2] != b"MZ":
            raise ValueError("no MZ header")
        self.pe = struct.unpack_from("<I", data, 0x3C)[0]
        if data[self.pe:self.pe + 4] != b"PE\0\0":
            raise ValueError("no PE signature")
        coff = self.pe + 4
        self.machine, self.nsections = struct.unpack_from("<HH", data, coff)
        opt_size = struct.unpack_from("<H", data, coff + 16)[0]
        self.opt = coff + 20
        if struct.unpack_from("<H", data, self.opt)[0] != 0x20B:
            raise ValueError("not PE32+")
        self.checksum_at = self.opt + 64
        self.checksum = struct.unpack_from("<I", data, self.checksum_at)[0]
        self.subsystem, self.dllchars = struct.unpack_from("<HH", data, self.opt + 68)
        self.import_rva = struct.unpack_from("<I", data, self.opt + 112 + 8)[0]
        self.sections = []
        at = self.opt + opt_size
        for _ in range(self.nsections):
            name, vsize, va, rawsize, rawptr = struct.unpack_from("<8sIIII", data, at)
            flags = struct.unpack_from("<I", data, at + 36)[0]
            self.sections.append((name.rstrip(b"\0").decode(), va, max(vsize, rawsize), rawptr, flags))
            at += 40

    def offset(self, rva):
        for _, va, size, rawptr, _ in self.sections:
            if va <= rva < va + size:
                return rva - va + rawptr
        raise ValueError(f"rva {rva:#x} outside sections")

    def cstring(self, rva):
        at = self.offset(rva)
        return self.data[at:self.data.index(b"\0", at)].decode()

    def imports(self):
        names, at = [], self.offset(self.import_rva) if self.import_rva else None
        while at is not None:
            desc = struct.unpack_from("<5I", self.data, at)
            if not any(desc):
                break
            names.append(self.cstring(desc[3]))
            at += 20
        return names

    def computed_checksum(self):
        d = self.data + (b"\0" if len(self.data) % 2 else b"")
        total = 0
        for i in range(0, len(d), 2):
            if self.checksum_at <= i < self.checksum_at + 4:
                continue
            total += d[i] | d[i + 1] << 8
            total = (total & 0xFFFF) + (total >> 16)
        total = (total & 0xFFFF) + (total >> 16)
        return (total + len(self.data)) & 0xFFFFFFFF


def fix_checksum(path):
    with open(path, "rb") as f:
        data = bytearray(f.read())
    pe = Pe(bytes(data))
    struct.pack_into("<I", data, pe.checksum_at, pe.computed_checksum())
    with open(path, "wb") as f:
        f.write(data)


def check(path):
    with open(path, "rb") as f:
        pe = Pe(f.read())
    imports = pe.imports()
    wx = [s[0] for s in pe.sections if s[4] & SCN_MEM_EXECUTE and s[4] & SCN_MEM_WRITE]
    checks = {
        "amd64": pe.machine == 0x8664,
        "native_subsystem": pe.subsystem == SUBSYSTEM_NATIVE,
        "nx_compat": bool(pe.dllchars & DLLCHAR_NX_COMPAT),
        "force_integrity": bool(pe.dllchars & DLLCHAR_FORCE_INTEGRITY),
        "dynamic_base": bool(pe.dllchars & DLLCHAR_DYNAMIC_BASE),
        "checksum_valid": pe.checksum != 0 and pe.checksum == pe.computed_checksum(),
        "imports_kernel_only": bool(imports) and all(i.lower() in ALLOWED_IMPORTS for i in imports),
        "no_writable_code": not wx,
    }
    ok = all(checks.values())
    print(json.dumps({"image": path, "ok": ok, "checks": checks, "imports": imports, "wx_sections": wx}))
    return ok


def main(argv):
    if len(argv) >= 3 and argv[1] == "fix-checksum":
        for p in argv[2:]:
            fix_checksum(p)
        return 0
    if len(argv) >= 3 and argv[1] == "check":
        results = [check(p) for p in argv[2:]]
        return 0 if all(results) else 1
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
