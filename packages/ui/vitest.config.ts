import { kmonVitestConfig } from '../../vitest.shared.ts';

// A browser test: its waits are generous, the machine is shared.
export default kmonVitestConfig({ testTimeout: 30_000 });
