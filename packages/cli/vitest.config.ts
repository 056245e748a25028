import { kmonVitestConfig } from '../../vitest.shared.ts';

// test/watch.kernel.test.ts starts `pnpm kmon watch` as a user would: pnpm and
// node starting up took 8.4 s on the shared 2-core CI machine under load.
export default kmonVitestConfig({ testTimeout: 30_000 });
