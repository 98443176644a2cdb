// The node budget rule from configuration alone (issue 19 item 6): bundles with sysctls (and IPVS
// timeouts) but no flow still show the mismatch, and `kdiag check` exits 1 on them.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { analyzeInput } from '../../src/services/analyze-input.js';

const BUNDLES = fileURLToPath(new URL('../../fixtures/bundles/', import.meta.url));
const KDIAG = fileURLToPath(new URL('../../bin/kdiag.js', import.meta.url));
const run = promisify(execFile);

async function exitOf(dir: string): Promise<number> {
  try {
    await run(process.execPath, [KDIAG, 'check', dir]);
    return 0;
  } catch (err) {
    return (err as { code?: number }).code ?? -1;
  }
}

function bundle(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'kdiag-budget-'));
  for (const [n, t] of Object.entries(files)) writeFileSync(join(dir, n), t);
  return dir;
}

const HOST_SYSCTLS = readFileSync(join(BUNDLES, 'healthy-iptables', 'sysctl.txt'), 'utf8');

describe('node.timeout-budget', () => {
  it.each(['budget-sysctl-only', 'budget-sysctl-ipvs'])('kdiag check %s exits 1', async (name) => {
    expect(await exitOf(join(BUNDLES, name))).toBe(1);
  });

  it('a consistent sysctl.txt alone has no finding and exits 0', async () => {
    const dir = bundle({ 'sysctl.txt': HOST_SYSCTLS });
    try {
      const r = await analyzeInput(dir, {});
      expect(r.diagnosis.findings).toEqual([]);
      expect(await exitOf(dir)).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a path idle timer from --path-idle-timeout below the keepalive time', async () => {
    const dir = bundle({ 'sysctl.txt': HOST_SYSCTLS });
    try {
      const r = await analyzeInput(dir, { pathIdleTimeoutSec: 350 });
      expect(r.diagnosis.findings.map((f) => f.id)).toEqual([
        'node.timeout-budget:path-idle-below-keepalive@host',
      ]);
      expect(r.diagnosis.findings[0]!.cause).toContain('no per-flow prediction');
      expect(r.diagnosis.suggestions.map((s) => s.id)).toEqual(
        expect.arrayContaining(['app-keepalive', 'node-keepalive-time', 'external-idle-timeout']),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a node keepalive change that never reached a pod, and not a pod value set on purpose', async () => {
    const host = HOST_SYSCTLS.replace(
      'net.ipv4.tcp_keepalive_time = 7200',
      'net.ipv4.tcp_keepalive_time = 600',
    );
    const dir = bundle({
      'sysctl.txt': host,
      'sysctl@pod_shop_old-7f4b9c6d8-q8wzt.txt': 'net.ipv4.tcp_keepalive_time = 7200\n',
      'sysctl@pod_shop_tuned-6d5f8b7c9-x2kqp.txt': 'net.ipv4.tcp_keepalive_time = 60\n',
    });
    try {
      const r = await analyzeInput(dir, {});
      const f = r.diagnosis.findings.filter((x) => x.id.includes('keepalive-not-in-netns'));
      expect(f).toHaveLength(1);
      expect(f[0]!.id).toContain('old');
      const pod = r.diagnosis.suggestions.find((s) => s.id.startsWith('pod-keepalive-time'));
      expect(pod?.change).toMatchObject({
        kind: 'sysctl',
        key: 'net.ipv4.tcp_keepalive_time',
        value: '600',
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
