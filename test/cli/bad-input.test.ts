// Bad input through the real CLI: one clear line naming file and line, exit code 2, never a stack trace.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURE_FORMAT } from '../../src/record/fixture-header.js';

const KDIAG = new URL('../../bin/kdiag.js', import.meta.url).pathname;
const run = promisify(execFile);

async function kdiag(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(process.execPath, [KDIAG, ...args], { maxBuffer: 64 << 20 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

const header = {
  format: FIXTURE_FORMAT,
  version: '1.0',
  recordedAt: '2026-11-23T05:00:00Z',
  kdiag: '0.1.0',
  host: { hostname: 'n', kernel: '6.18' },
};

describe('kdiag replay on bad input', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kdiag-bad-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  function expectOneLine(r: { code: number; stderr: string }, pattern: RegExp): void {
    expect(r.code).toBe(2);
    const lines = r.stderr
      .trim()
      .split('\n')
      .filter((l) => !l.startsWith('  hint:'));
    expect(lines, r.stderr).toHaveLength(1);
    expect(lines[0]).toMatch(pattern);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  }

  it('binary garbage', async () => {
    const f = join(dir, 'garbage.bin');
    await writeFile(f, Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256)));
    expectOneLine(await kdiag('replay', f), /^kdiag: .*garbage\.bin:1: /);
  });

  it('a truncated gzip', async () => {
    const f = join(dir, 'cut.ndjson.gz');
    const body = [
      JSON.stringify(header),
      ...Array.from({ length: 5000 }, (_, i) =>
        JSON.stringify({
          t: i,
          src: 'conntrack:events',
          line: `[${1795410000 + i}.000001]\t[DESTROY] tcp      6 ESTABLISHED src=10.0.0.1 dst=10.96.0.10 sport=${1000 + (i % 5000)} dport=80 src=10.0.0.2 dst=10.0.0.1 sport=8080 dport=${1000 + (i % 5000)} [ASSURED]`,
        }),
      ),
    ].join('\n');
    const gz = gzipSync(body);
    await writeFile(f, gz.subarray(0, gz.length - 200));
    expectOneLine(
      await kdiag('replay', f),
      /^kdiag: .*cut\.ndjson\.gz:\d+: gzip data is truncated/,
    );
  });

  it('a header from a newer version', async () => {
    const f = join(dir, 'future.ndjson');
    await writeFile(f, `${JSON.stringify({ ...header, version: '3.1' })}\n`);
    const r = await kdiag('replay', f);
    expectOneLine(r, /future\.ndjson:1: recording format 3\.1 is newer than this kdiag reads/);
    expect(r.stderr).toMatch(/hint: upgrade kdiag/);
  });

  it('a bad record in the middle names its line', async () => {
    const f = join(dir, 'mid.ndjson');
    await writeFile(
      f,
      `${JSON.stringify(header)}\n{"t":1,"src":"a:b","line":"x"}\nnot json at all\n{"t":2,"src":"a:b","line":"y"}\n`,
    );
    expectOneLine(await kdiag('replay', f), /mid\.ndjson:3: not JSON/);
  });

  it('a bundle with one unreadable file', async () => {
    const b = join(dir, 'bundle-unreadable');
    await mkdir(b);
    await writeFile(
      join(b, 'sysctl.txt'),
      'net.netfilter.nf_conntrack_tcp_timeout_established = 86400\n',
    );
    await symlink('/nonexistent/kdiag-test', join(b, 'conntrack-L.txt'));
    expectOneLine(await kdiag('replay', b), /conntrack-L\.txt: can't read: no such file/);
  });

  it('a bundle file holding binary data', async () => {
    const b = join(dir, 'bundle-binary');
    await mkdir(b);
    await writeFile(
      join(b, 'ss.txt'),
      Buffer.concat([
        Buffer.from('ESTAB 0 0 10.0.0.1:1 10.0.0.2:2\n'),
        Buffer.from([0, 1, 2, 0x0a]),
      ]),
    );
    expectOneLine(
      await kdiag('replay', b),
      /ss\.txt:2: binary data \(NUL byte\): expected the text output of ss -tinoe/,
    );
  });

  it('a missing input', async () => {
    expectOneLine(await kdiag('replay', join(dir, 'nope')), /nope: no such file or folder/);
  });

  it('a bad flag value', async () => {
    const r = await kdiag('replay', join(dir, 'x'), '--path-idle-timeout', 'soon');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--path-idle-timeout must be a positive duration/);
  });

  it('a malformed line inside a bundle is an issue, not a failure', async () => {
    const b = join(dir, 'bundle-malformed');
    await mkdir(b);
    await writeFile(
      join(b, 'conntrack-L.txt'),
      'tcp      6 431999 ESTABLISHED src=10.0.0.1 dst=10.96.0.10 sport=40000 dport=80 src=10.0.0.2 dst=10.0.0.1 sport=8080 dport=40000 [ASSURED] mark=0 use=1\nthis is not conntrack\n',
    );
    const r = await kdiag('replay', b, '--json');
    expect([0, 1]).toContain(r.code);
    const j = JSON.parse(r.stdout) as {
      issueCount: number;
      issues: { file: string; line: number }[];
    };
    expect(j.issueCount).toBe(1);
    expect(j.issues[0]!.file).toMatch(/conntrack-L\.txt$/);
    expect(j.issues[0]!.line).toBe(2);
  });
});
