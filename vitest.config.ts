import { defineConfig } from 'vitest/config';

// Lab tests share the kernel's network namespaces and conntrack tables, so files run one at a time
// in a single fork; unit tests are cheap enough that this costs little.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'test/**/*.test.tsx'],
    pool: 'forks',
    fileParallelism: false,
    testTimeout: 20_000,
    hookTimeout: 60_000,
    // The JSON report lets .ci/run print a plain "N passed, N failed" closing line.
    reporters: ['default', 'json'],
    outputFile: { json: 'node_modules/.cache/kdiag/vitest-report.json' },
  },
});
