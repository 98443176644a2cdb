import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { RawRecord } from '../../src/engine/raw-record.js';
import {
  formatSysctl,
  grepToSysctl,
  listSysctlFiles,
  readSysctls,
  sysctlKeyOf,
  sysctlSource,
} from '../../src/sources/sysctl-source.js';

describe('sysctl formatting (pure)', () => {
  it('names keys as sysctl(8) does', () => {
    expect(sysctlKeyOf('net/ipv4/ip_forward')).toBe('net.ipv4.ip_forward');
    expect(sysctlKeyOf('/net/netfilter/nf_conntrack_max')).toBe('net.netfilter.nf_conntrack_max');
  });
  it('prints `key = value`, keeping inner tabs like sysctl -a', () => {
    expect(formatSysctl('net.ipv4.tcp_keepalive_time', '7200\n')).toBe(
      'net.ipv4.tcp_keepalive_time = 7200',
    );
    expect(formatSysctl('net.ipv4.tcp_rmem', '4096\t131072\t6291456\n')).toBe(
      'net.ipv4.tcp_rmem = 4096\t131072\t6291456',
    );
  });
  it('turns grep -H output into key = value lines and ignores anything else', () => {
    const text =
      '/proc/sys/net/netfilter/nf_conntrack_max:262144\n/proc/sys/kernel/osrelease:6.18.44\ngrep: junk\n/proc/sys/net/ipv4/ip_forward:1\n';
    expect(grepToSysctl(text)).toEqual([
      'net.netfilter.nf_conntrack_max = 262144',
      'kernel.osrelease = 6.18.44',
      'net.ipv4.ip_forward = 1',
    ]);
  });
});

describe('reading /proc/sys', () => {
  const root = mkdtempSync(join(tmpdir(), 'kdiag-sysctl-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('lists only the relevant keys of a fake tree, sorted', async () => {
    mkdirSync(join(root, 'net/netfilter'), { recursive: true });
    mkdirSync(join(root, 'net/ipv4'), { recursive: true });
    mkdirSync(join(root, 'kernel'), { recursive: true });
    writeFileSync(join(root, 'net/netfilter/nf_conntrack_tcp_timeout_established'), '432000\n');
    writeFileSync(join(root, 'net/netfilter/nf_log_all_netns'), '0\n');
    writeFileSync(join(root, 'net/ipv4/tcp_keepalive_time'), '7200\n');
    writeFileSync(join(root, 'net/ipv4/tcp_rmem'), '4096\t131072\t6291456\n');
    writeFileSync(join(root, 'net/ipv4/ip_forward'), '1\n');
    writeFileSync(join(root, 'kernel/osrelease'), '6.18.44\n');
    expect(await readSysctls(root)).toEqual([
      'kernel.osrelease = 6.18.44',
      'net.ipv4.ip_forward = 1',
      'net.ipv4.tcp_keepalive_time = 7200',
      'net.netfilter.nf_conntrack_tcp_timeout_established = 432000',
    ]);
  });

  it('reads the host values into a sysctl:all snapshot', async () => {
    const src = await sysctlSource({ clock: () => 1 });
    const recs: RawRecord[] = [];
    for await (const r of src.records(new AbortController().signal)) recs.push(r);
    expect(recs[0]?.k).toBe('begin');
    expect(recs[0]?.line.startsWith('sysctl ')).toBe(true);
    const lines = recs.filter((r) => !r.k).map((r) => r.line);
    expect(lines).toContain(
      `kernel.osrelease = ${readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim()}`,
    );
    expect(lines).toContain(
      `net.ipv4.tcp_keepalive_time = ${readFileSync('/proc/sys/net/ipv4/tcp_keepalive_time', 'utf8').trim()}`,
    );
    expect(lines.every((l) => / = /.test(l))).toBe(true);
    expect(lines.length).toBeLessThanOrEqual((await listSysctlFiles()).length);
    expect(recs.at(-1)).toMatchObject({ k: 'end', line: 'exit 0' });
  });
});
