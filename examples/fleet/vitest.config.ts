import { kmonVitestConfig } from '../../vitest.shared.ts';

export default kmonVitestConfig();
