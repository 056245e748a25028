// Every event kind kmon knows, one definition each, gathered from the family
// files. Adding a kind: its C struct in packages/driver/include/kmon_abi.h,
// its driver program(s), and one defineKind() exported from a family file
// here (a new family file is added to the two lists below); see
// packages/driver/README.md.
import type { Fields, Flags } from './define.js';
import type { EventOf } from './kind.js';
import * as fileKinds from './file.js';
import * as networkKinds from './network.js';
import * as processKinds from './process.js';
import * as synthKinds from './synth.js';
import * as windowsKinds from './windows.js';

type KindsOf<M> = M[keyof M];
/** Any one kind definition. Written over the modules' types so field docs reach the published types. */
export type AnyKindDefinition =
  | KindsOf<typeof processKinds>
  | KindsOf<typeof synthKinds>
  | KindsOf<typeof windowsKinds>
  | KindsOf<typeof fileKinds>
  | KindsOf<typeof networkKinds>;

/** Every kind definition, in kind-number order. */
export const KIND_DEFINITIONS: readonly AnyKindDefinition[] = [processKinds, synthKinds, windowsKinds, fileKinds, networkKinds]
  .flatMap((family) => Object.values(family) as AnyKindDefinition[])
  .sort((a, b) => a.number - b.number);

for (const [i, d] of KIND_DEFINITIONS.entries()) {
  if (i > 0 && KIND_DEFINITIONS[i - 1]!.number === d.number) throw new Error(`kinds ${KIND_DEFINITIONS[i - 1]!.name} and ${d.name} share number ${d.number}`);
}

type EventsOf<D> = D extends { name: string; fields: Fields; flags: Flags } ? EventOf<D> : never;
/** The typed event union, one member per kind definition. */
export type KindEvent = EventsOf<AnyKindDefinition>;
