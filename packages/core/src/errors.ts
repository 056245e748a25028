// Every error kmon raises is a KmonError: a stable `code` to branch on and a
// `hint` that tells the user what to do about it.

export type KmonErrorCode =
  | 'KMON_PERMISSION' // the kernel refused: missing privilege
  | 'KMON_UNSUPPORTED' // the kernel lacks a feature kmon needs
  | 'KMON_OPTIONS' // the caller passed invalid options
  | 'KMON_PROTOCOL' // a record from the driver is malformed
  | 'KMON_CLOSED' // the session was used after close()
  | 'KMON_DRIVER' // the driver failed to load, attach or deliver
  | 'KMON_CAPTURE' // a capture file is malformed, from another ABI, or could not be written
  | 'KMON_NATS'; // a NATS server refused, could not be reached, or its stream does not fit (@kmon/nats)

export interface KmonErrorDetails {
  hint?: string;
  cause?: unknown;
}

export class KmonError extends Error {
  override readonly name: string = 'KmonError';
  readonly hint: string | undefined;

  constructor(
    readonly code: KmonErrorCode,
    message: string,
    details: KmonErrorDetails = {},
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.hint = details.hint;
  }

  /** One line for humans: the message and what to do about it. */
  describe(): string {
    return this.hint ? `${this.message} (${this.hint})` : this.message;
  }
}

/**
 * How to get the privilege eBPF needs on Linux for one program only: ambient
 * capabilities (setpriv, or a systemd unit), not `setcap` on the node binary,
 * which would grant tracing to every Node script of every user on the host.
 * Network events also attach syscall tracepoints, whose ids live in tracefs,
 * which only root may read (measured: EACCES with CAP_BPF+CAP_PERFMON alone).
 */
export const PRIVILEGE_HINT =
  'run as root, or give this program alone CAP_BPF and CAP_PERFMON as ambient capabilities (not setcap on node: that grants them to every Node script): ' +
  '`sudo setpriv --reuid="$USER" --regid="$(id -g)" --init-groups --inh-caps=+bpf,+perfmon --ambient-caps=+bpf,+perfmon <command>` ' +
  '(network events also read tracefs, root-only: add +dac_read_search to both lists), ' +
  'or in a systemd unit AmbientCapabilities=CAP_BPF CAP_PERFMON (and CAP_DAC_READ_SEARCH for network events)';

export class KmonPermissionError extends KmonError {
  override readonly name = 'KmonPermissionError';
  constructor(message: string, details: KmonErrorDetails = {}) {
    super('KMON_PERMISSION', message, { hint: PRIVILEGE_HINT, ...details });
  }
}

export class KmonUnsupportedError extends KmonError {
  override readonly name = 'KmonUnsupportedError';
  constructor(message: string, details: KmonErrorDetails = {}) {
    super('KMON_UNSUPPORTED', message, details);
  }
}

export class KmonOptionsError extends KmonError {
  override readonly name = 'KmonOptionsError';
  constructor(message: string, details: KmonErrorDetails = {}) {
    super('KMON_OPTIONS', message, details);
  }
}

export class KmonClosedError extends KmonError {
  override readonly name = 'KmonClosedError';
  constructor(what = 'the kmon session') {
    super('KMON_CLOSED', `${what} is closed`, { hint: 'open a new session' });
  }
}

export class KmonDriverError extends KmonError {
  override readonly name = 'KmonDriverError';
  constructor(message: string, details: KmonErrorDetails = {}) {
    super('KMON_DRIVER', message, details);
  }
}

/** Where in a batch a malformed record was found. */
export interface ProtocolFault {
  /** Index of the record in its batch (0-based). */
  record: number;
  /** Byte offset of the record in its batch. */
  offset: number;
  /** The header or body field at fault, e.g. "hdr.size" or "exec.argv_len". */
  field: string;
}

export class KmonProtocolError extends KmonError {
  override readonly name = 'KmonProtocolError';
  readonly record: number;
  readonly offset: number;
  readonly field: string;

  constructor(fault: ProtocolFault, problem: string) {
    super('KMON_PROTOCOL', `malformed record #${fault.record} at offset ${fault.offset}: ${fault.field} ${problem}`, {
      hint:
        fault.field === 'hdr.abi_version'
          ? 'the driver and @kmon/core speak different record ABIs: rebuild both from the same checkout'
          : 'a driver bug (the ABI version matches): report it with the driver, kernel (`uname -r`) and this message',
    });
    this.record = fault.record;
    this.offset = fault.offset;
    this.field = fault.field;
  }
}

export function isKmonError(value: unknown): value is KmonError {
  return value instanceof KmonError;
}
