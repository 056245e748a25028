import { kmonVitestConfig } from '../../vitest.shared.ts';

// Browser tests: one chromium at a time, and generous waits: the machine is shared.
export default kmonVitestConfig({ testTimeout: 30_000, fileParallelism: false });
