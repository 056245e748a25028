import { kmonVitestConfig } from '../../vitest.shared.ts';

// Kernel tests check that no kmon BPF object is left system-wide after a
// session, so test files that attach run one after another.
export default kmonVitestConfig({ fileParallelism: false });
