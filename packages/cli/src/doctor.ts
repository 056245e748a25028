// `kmon doctor`: checks what kmon needs from this machine and says how to fix
// what is missing. The last check attaches the real driver, so a green run
// means `kmon watch` will work.
import { existsSync, readFileSync } from 'node:fs';
import { release } from 'node:os';
import { createKmon, isKmonError, type KmonConfig } from 'kmon';
import { firstValueFrom, race, timer } from 'rxjs';

export interface Check {
  name: string;
  ok: boolean;
  detail: string;
  /** What to do when the check fails. */
  fix?: string;
}

const CAP_PERFMON = 38n;
const CAP_BPF = 39n;
const CAP_SYS_ADMIN = 21n;

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
  return {
    name: 'privilege',
    ok,
    detail: ok ? `CAP_BPF+CAP_PERFMON available (uid ${process.getuid?.()})` : `missing CAP_BPF and/or CAP_PERFMON (uid ${process.getuid?.()})`,
    fix: 'run as root, or `sudo setcap cap_bpf,cap_perfmon+ep $(which node)`',
  };
}

function btfCheck(): Check {
  const path = '/sys/kernel/btf/vmlinux';
  const ok = existsSync(path);
  return {
    name: 'kernel BTF',
    ok,
    detail: ok ? `${path} present (CO-RE relocations can be resolved)` : `${path} missing`,
    fix: 'use a kernel built with CONFIG_DEBUG_INFO_BTF=y (every major distribution kernel since 2021 is)',
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

async function attachCheck(config: KmonConfig): Promise<Check> {
  const name = 'driver attach';
  try {
    const kmon = createKmon({ kinds: ['exec', 'exit', 'fork'], ringBytes: 256 * 1024 }, config);
    const attached = race(kmon.batches$, timer(300));
    await firstValueFrom(attached, { defaultValue: undefined });
    kmon.stop();
    return { name, ok: true, detail: 'tracepoints sched_process_exec/exit/fork attached and the ring buffer mapped' };
  } catch (error) {
    const detail = isKmonError(error) ? error.message : String(error);
    const fix = isKmonError(error) ? error.hint : undefined;
    return { name, ok: false, detail, ...(fix ? { fix } : {}) };
  }
}

export async function runChecks(config: KmonConfig = {}): Promise<Check[]> {
  if (process.platform !== 'linux') {
    return [await attachCheck(config)];
  }
  return [privilegeCheck(), kernelVersionCheck(), btfCheck(), await attachCheck(config)];
}

export function formatChecks(checks: Check[]): string {
  return checks
    .map((c) => `${c.ok ? '✓' : '✗'} ${c.name}: ${c.detail}${!c.ok && c.fix ? `\n    fix: ${c.fix}` : ''}`)
    .join('\n');
}
