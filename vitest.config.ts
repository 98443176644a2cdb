import { defineConfig } from 'vitest/config';

// Two projects. unit: everything that needs no kernel, files in parallel (the edit-test loop,
// `npm run test:unit`). lab: the real-kernel tests (*.lab.test.ts, they call labSkipReason), which
// share the kernel's network namespaces and conntrack tables, so their files run one at a time.
export default defineConfig({
  test: {
    pool: 'forks',
    testTimeout: 20_000,
    hookTimeout: 60_000,
    // The JSON report lets .ci/run print a plain "N passed, N failed" closing line.
    reporters: ['default', 'json'],
    outputFile: { json: 'node_modules/.cache/kdiag/vitest-report.json' },
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          sequence: { groupOrder: 0 },
          include: ['test/**/*.test.ts', 'test/**/*.test.tsx'],
          exclude: ['test/**/*.lab.test.ts', 'test/**/*.lab.test.tsx'],
        },
      },
      {
        extends: true,
        test: {
          name: 'lab',
          include: ['test/**/*.lab.test.ts', 'test/**/*.lab.test.tsx'],
          fileParallelism: false,
          // After the unit project, not beside it: kernel timeouts and expiries are timed by the
          // lab tests, and parallel unit files would compete for the CPU.
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
