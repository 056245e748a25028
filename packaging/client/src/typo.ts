// A field name typo that the published types must reject (the package test
// expects exactly this error, and no other).
import type { KmonEvent } from 'kmon';

export const code = (e: Extract<KmonEvent, { kind: 'exit' }>) => e.exitCod;
