// What `npm pack` puts in the tarball: the built CLI, the probes, and nothing of tests or recordings.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const ROOT = new URL('../../', import.meta.url).pathname;
const run = promisify(execFile);

interface PackEntry {
  path: string;
}

async function packedFiles(): Promise<string[]> {
  // --ignore-scripts: prepack would rebuild dist/ under the other tests; the test run has just built it.
  const { stdout } = await run('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
    cwd: ROOT,
    maxBuffer: 16 << 20,
  });
  const [pack] = JSON.parse(stdout) as Array<{ files: PackEntry[] }>;
  return pack!.files.map((f) => f.path).sort();
}

describe('npm pack', () => {
  it('ships the built CLI, its bin shim and every probe', async () => {
    const files = await packedFiles();
    expect(files).toContain('bin/kdiag.js');
    expect(files).toContain('dist/src/cli/main.js');
    expect(files).toContain('dist/src/lab/agent.js');
    expect(files).toContain('package.json');
    const probes = files.filter((f) => /^probes\/[^/]+\.bt$/.test(f));
    expect(probes.length).toBeGreaterThanOrEqual(5);
    expect(probes).toContain('probes/trace_skb_drop.bt');
  });

  it('leaves out tests, sources, benchmarks and recordings', async () => {
    const files = await packedFiles();
    const stray = files.filter(
      (f) =>
        /^(test|src|bench|fixtures|dist\/bench|dist\/test|dist-exe|node_modules)\//.test(f) ||
        (f.endsWith('.ts') && !f.endsWith('.d.ts')),
    );
    expect(stray).toEqual([]);
  });
});
