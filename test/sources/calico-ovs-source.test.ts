import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  CALICO_CT_ARGV,
  calicoConntrackSource,
  calicoCtRan,
  findCalicoNodePids,
} from '../../src/sources/calico-source.js';

const root = mkdtempSync(join(tmpdir(), 'kdiag-calico-src-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function proc(pids: Record<number, string>): string {
  const dir = mkdtempSync(join(root, 'proc-'));
  for (const [pid, comm] of Object.entries(pids)) {
    mkdirSync(join(dir, pid));
    writeFileSync(join(dir, pid, 'comm'), `${comm}\n`);
  }
  return dir;
}

describe('calico-node discovery and dump', () => {
  it('finds calico-node processes by comm, lowest pid first', async () => {
    const dir = proc({ 4410: 'calico-node', 977: 'calico-node', 12: 'kube-proxy', 3: 'bird' });
    expect(await findCalicoNodePids(dir)).toEqual([977, 4410]);
    expect(await findCalicoNodePids(proc({ 5: 'cilium-agent' }))).toEqual([]);
  });

  it('runs the dump in the container of the process (nsenter -t PID -m)', () => {
    expect(calicoCtRan(977)).toEqual(['nsenter', '-t', '977', '-m', '--', ...CALICO_CT_ARGV]);
    expect(CALICO_CT_ARGV).toContain('--raw');
  });

  it('is unavailable, with the reason in its records, when calico-node is not running', async () => {
    const s = calicoConntrackSource(undefined);
    const recs = await s.snapshot();
    expect(s.status.state).toBe('unavailable');
    expect(s.status.message).toBe('no calico-node process on this node');
    expect(recs[0]).toMatchObject({ src: 'calico:conntrack', k: 'begin' });
    expect(recs.some((r) => r.k === 'err' && r.line.includes('no calico-node'))).toBe(true);
  });
});
