// What the eBPF backend needs from a Linux machine, for `kmon doctor`.
import { existsSync, readFileSync } from 'node:fs';
import { release } from 'node:os';
import { PRIVILEGE_HINT, isKmonError, type Check } from '@kmon/core';
import { loadAddonFile } from '../load.js';

const CAP_PERFMON = 38n;
const CAP_BPF = 39n;
const CAP_SYS_ADMIN = 21n;
const VMLINUX_BTF = '/sys/kernel/btf/vmlinux';

function effectiveCapabilities(): bigint {
  const line = readFileSync('/proc/self/status', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('CapEff:'));
  return line ? BigInt(`0x${line.split(/\s+/)[1]}`) : 0n;
}

function privilegeCheck(): Check {
  const caps = effectiveCapabilities();
  const has = (cap: bigint) => (caps & (1n << cap)) !== 0n;
  const ok = has(CAP_SYS_ADMIN) || (has(CAP_BPF) && has(CAP_PERFMON));
  const uid = process.getuid?.();
  return {
    name: 'privilege',
    ok,
    detail: ok ? `CAP_BPF+CAP_PERFMON available (uid ${uid})` : `missing CAP_BPF and/or CAP_PERFMON (uid ${uid})`,
    fix: PRIVILEGE_HINT,
  };
}

function kernelVersionCheck(): Check {
  const [major = 0, minor = 0] = release().split('.').map(Number);
  const ok = major > 5 || (major === 5 && minor >= 12);
  return {
    name: 'kernel version',
    ok,
    detail: `Linux ${release()} (needs 5.12+: BPF ring buffers, BTF tracepoints, atomic fetch-and-add)`,
    fix: 'upgrade to Linux 5.12 or later',
  };
}

function btfCheck(): Check {
  const ok = existsSync(VMLINUX_BTF);
  return {
    name: 'kernel BTF',
    ok,
    detail: ok ? `${VMLINUX_BTF} present (CO-RE relocations can be resolved)` : `${VMLINUX_BTF} missing`,
    fix: 'use a kernel built with CONFIG_DEBUG_INFO_BTF=y (every major distribution kernel since 2021 is)',
  };
}

/** kmon.node loads: a prebuild (or source build) for this machine, with the shared library it links (libbpf.so.1). */
function addonCheck(): Check {
  const name = 'kmon.node and libbpf.so.1';
  try {
    return { name, ok: true, detail: `${loadAddonFile().path} loads, with the libbpf it links` };
  } catch (error) {
    const detail = isKmonError(error) ? error.message : String(error);
    return { name, ok: false, detail, ...(isKmonError(error) && error.hint ? { fix: error.hint } : {}) };
  }
}

export async function linuxChecks(): Promise<Check[]> {
  return [privilegeCheck(), kernelVersionCheck(), btfCheck(), addonCheck()];
}
