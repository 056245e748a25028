// The README's "Use it in your project" program, as a user's project has it.
// EVENTS=n stops after n events (the package test); without it, Ctrl-C.
import { createKmon, isKmonError, ofKind } from 'kmon';
import { take } from 'rxjs';

const kmon = createKmon({ kinds: ['exec', 'exit'] });
kmon.events$.pipe(ofKind('exec', 'exit', 'lost'), take(Number(process.env.EVENTS ?? Infinity))).subscribe({
  next: (m) => console.log(m.kind === 'lost' ? `lost ${m.count} (${m.cause})` : `${m.kind} ${m.pid} ${m.comm}`),
  error: (error) => {
    console.error(isKmonError(error) ? `${error.message}\n  hint: ${error.hint}` : error);
    process.exitCode = 1;
  },
  complete: () => kmon.stop(),
});
process.on('SIGINT', () => kmon.stop()).on('SIGTERM', () => kmon.stop());
