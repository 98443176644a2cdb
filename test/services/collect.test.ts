// kdiag collect: the pure helpers and folder handling. A real bundle: collect.lab.test.ts.
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProgram } from '../../src/cli/program.js';
import { EnvironmentError, UsageError } from '../../src/errors.js';
import {
  collectBundle,
  defaultBundleName,
  progressLine,
  utcStamp,
} from '../../src/services/collect.js';

describe('collect helpers (pure)', () => {
  it('names the default folder after the host and the UTC time', () => {
    const d = new Date('2026-11-23T04:05:06.789Z');
    expect(utcStamp(d)).toBe('20261123T040506Z');
    expect(defaultBundleName('node-1.example', d)).toBe(
      'kdiag-bundle-node-1.example-20261123T040506Z',
    );
    expect(defaultBundleName('we/ird host', d)).toBe('kdiag-bundle-we_ird_host-20261123T040506Z');
  });
  it('says what each file holds in a past-participle progress line', () => {
    expect(progressLine('conntrack-L.txt', 'a\nb\n')).toBe(
      'Conntrack table read with conntrack -L (2 entries)',
    );
    expect(progressLine('nf_conntrack.txt', '')).toBe(
      'Conntrack table read from /proc/net/nf_conntrack (0 entries)',
    );
    expect(progressLine('ipvsadm-timeout.txt', 'Timeout (tcp tcpfin udp): 900 120 300\n')).toBe(
      'IPVS timeouts read (Timeout (tcp tcpfin udp): 900 120 300)',
    );
    expect(
      progressLine(
        'iptables-save.txt',
        '*nat\n:OUTPUT ACCEPT [0:0]\n[1:60] -A OUTPUT -j DNAT\nCOMMIT\n',
      ),
    ).toBe('iptables rules read (1 rules)');
    expect(progressLine('ss@pod_default_web-0.txt', 'ESTAB 0 0 a b\n\t cubic\n')).toBe(
      'Sockets read for pod_default_web-0 (1 sockets)',
    );
    expect(
      progressLine(
        'sysctl@pod_default_web-0.txt',
        'net.ipv4.tcp_keepalive_time = 300\nnet.ipv4.tcp_keepalive_intvl = 75\n',
      ),
    ).toBe('Sysctls read for pod_default_web-0 (2 keys)');
  });
});

describe('collect folder handling', () => {
  let root: string;
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'kdiag-collect-unit-'));
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('refuses a non-empty --out folder and an unknown --netns', async () => {
    mkdirSync(join(root, 'full'));
    writeFileSync(join(root, 'full', 'x'), 'x');
    await expect(collectBundle({ out: join(root, 'full') })).rejects.toBeInstanceOf(UsageError);
    await expect(
      collectBundle({ out: join(root, 'n'), netns: 'kdiag-surely-absent-ns' }),
    ).rejects.toThrow(/no network namespace/);
    expect(existsSync(join(root, 'n'))).toBe(false);
  });

  it('fails with exit code 2 when the folder cannot be created', async () => {
    writeFileSync(join(root, 'a-file'), '');
    const err = await collectBundle({ out: join(root, 'a-file', 'bundle') }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(EnvironmentError);
    expect((err as EnvironmentError).exitCode).toBe(2);
  });

  it('is registered on the program with its flags', () => {
    const cmd = createProgram().commands.find((c) => c.name() === 'collect');
    expect(cmd).toBeDefined();
    expect(cmd!.options.map((o) => o.long)).toEqual([
      '--out',
      '--netns',
      '--kube-proxy-config',
      '--json',
      '--tar',
      '--redact',
      '--redact-key',
    ]);
  });
});
