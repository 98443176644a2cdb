// Exit status 130 means "interrupted" (kdiag --help): a Ctrl-C during a long read must end kdiag by
// SIGINT, which a shell reports as 128 + 2, never as a normal 0/1/2 that looks like an answer.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const KDIAG = new URL('../../bin/kdiag.js', import.meta.url).pathname;

/** Starts kdiag, sends SIGINT once it has run `afterMs`, and resolves with how it ended. */
function interrupt(
  args: readonly string[],
  afterMs: number,
): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [KDIAG, ...args], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const t = setTimeout(() => child.kill('SIGINT'), afterMs);
    child.on('exit', (code, signal) => {
      clearTimeout(t);
      resolve({ code, signal, stderr });
    });
  });
}

describe('interrupted commands end as interrupted', () => {
  let dir = '';
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'kdiag-interrupt-'));
    // A bundle big enough that reading it takes seconds: 200,000 conntrack entries.
    const ip = (i: number) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
    const lines: string[] = [];
    for (let i = 0; i < 200_000; i++)
      lines.push(
        `ipv4     2 tcp      6 86369 ESTABLISHED src=${ip(i)} dst=10.96.45.12 sport=${1024 + (i % 60000)} dport=80 src=10.244.2.5 dst=${ip(i)} sport=8080 dport=${1024 + (i % 60000)} [ASSURED] mark=0 use=1`,
      );
    writeFileSync(join(dir, 'conntrack-L.txt'), `${lines.join('\n')}\n`);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  for (const cmd of ['check', 'replay'] as const) {
    it(`${cmd}: SIGINT midway ends it by the signal (shell status 130), with no stack trace`, async () => {
      const r = await interrupt([cmd, dir], 1500);
      expect(r.code === 130 || r.signal === 'SIGINT', `code ${r.code} signal ${r.signal}`).toBe(
        true,
      );
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }, 60_000);
  }
});
