// Exit status 130 means "interrupted" (kdiag --help): a Ctrl-C during a long read must end kdiag by
// SIGINT, which a shell reports as 128 + 2, never as a normal 0/1/2 that looks like an answer.
import { spawn, spawnSync } from 'node:child_process';
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

const hasScript = spawnSync('script', ['--version'], { stdio: 'ignore' }).status === 0;
const RECORDING = new URL(
  '../../fixtures/sessions/conntrack-expiry/recording.ndjson',
  import.meta.url,
).pathname;

/**
 * Opens the replay TUI under a pseudo-terminal (util-linux `script`, whose -e returns the child's
 * status), types `key` once the first frame is drawn, and resolves with the exit status.
 */
function tuiKey(key: string): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(
      'script',
      ['-q', '-e', '-c', `${process.execPath} ${KDIAG} ui --replay ${RECORDING}`, '/dev/null'],
      { stdio: ['pipe', 'pipe', 'pipe'] },
    );
    let out = '';
    let sent = false;
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      // The status line is the frame's last line: the UI listens for keys by then.
      if (!sent && out.includes('REPLAY')) {
        sent = true;
        child.stdin.write(key);
      }
    });
    child.on('exit', (code) => resolve({ code, out }));
  });
}

describe.skipIf(!hasScript)('the TUI: q answers, Ctrl-C interrupts', () => {
  it('Ctrl-C exits 130 (interrupted), not 0', async () => {
    const r = await tuiKey('\u0003');
    expect(r.code, r.out.slice(-400)).toBe(130);
  }, 60_000);

  it('q exits with the findings code: 1, the recording has findings at its end', async () => {
    const r = await tuiKey('q');
    expect(r.code, r.out.slice(-400)).toBe(1);
  }, 60_000);
});
