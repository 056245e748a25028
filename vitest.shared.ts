// Shared vitest settings: resolve workspace packages to their TypeScript
// sources (the "@kmon/source" export condition), so tests never need a build
// of the package under test, and write a JSON report that scripts/test.mjs
// sums into the CI's one-line summary.
import { defineConfig } from 'vitest/config';

const conditions = ['@kmon/source', 'node', 'import', 'default'];

export function kmonVitestConfig(options: { testTimeout?: number; fileParallelism?: boolean } = {}) {
  return defineConfig({
    resolve: { conditions },
    ssr: { resolve: { conditions, externalConditions: conditions } },
    test: {
      environment: 'node',
      include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
      testTimeout: options.testTimeout ?? 10_000,
      fileParallelism: options.fileParallelism ?? true,
      reporters: ['default', ['json', { outputFile: '.test-results.json' }]],
    },
  });
}
