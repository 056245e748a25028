// kmon: kernel events as typed RxJS Observables, from this machine's kernel.
// The composition root: @kmon/rx's API, which works over any KernelBinding,
// with @kmon/native's binding for this OS put in, so that `createKmon()` is
// all an application writes. Pass `binding` to run on something else.
import { nativeBinding } from '@kmon/native';
import {
  createKmon as createKmonOver,
  type HostLookups,
  type Kmon,
  type KmonConfig as BindingKmonConfig,
  type KmonMessage,
  type SessionOptionsInput,
} from '@kmon/rx';
import type { Observable } from 'rxjs';
import { linuxHost } from './host.js';

export * from '@kmon/rx';
export { nativeBinding };
export { linuxHost, type LinuxHostFiles } from './host.js';

/** @kmon/rx's config with the binding optional: this OS's kernel unless told otherwise. */
export type KmonConfig = Omit<BindingKmonConfig, 'binding'> & Partial<Pick<BindingKmonConfig, 'binding'>>;

/** This machine's user, group and cgroup names for event context, shared by every session (Linux; none elsewhere yet). */
let thisHost: HostLookups | undefined;
const hostLookups = () => (thisHost ??= process.platform === 'linux' ? linuxHost() : {});

/**
 * A shared session on this machine's kernel (or on `config.binding`), its
 * events' context named from this host (or `config.host`). Validates
 * `options` now, attaches on the first subscriber.
 */
export function createKmon(options: SessionOptionsInput = {}, config: KmonConfig = {}): Kmon {
  return createKmonOver(options, { ...config, binding: config.binding ?? nativeBinding, host: config.host ?? hostLookups() });
}

/** Live kernel events with loss notices in-band, from one shared session. */
export function events(options: SessionOptionsInput = {}, config: KmonConfig = {}): Observable<KmonMessage> {
  return createKmon(options, config).events$;
}
