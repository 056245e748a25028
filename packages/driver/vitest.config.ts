import { kmonVitestConfig } from '../../vitest.shared.ts';

export default kmonVitestConfig({ testTimeout: 600_000, fileParallelism: false });
