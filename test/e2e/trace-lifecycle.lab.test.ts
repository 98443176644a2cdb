// kill -9 of `kdiag trace` must not leave a probe attached: bpftrace dies with kdiag (pdeathsig).
// Nor a file: nothing runs when kdiag is SIGKILLed, so nothing may be written to be cleaned up.
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { labSkipReason } from '../helpers/lab-guard.js';
import { KDIAG } from '../helpers/trace-harness.js';

const reason = labSkipReason('root', 'bpftrace', 'tracefs', 'conntrack');

/** Live (not zombie) processes whose parent is `ppid` and whose command is `comm`. */
async function childrenNamed(ppid: number, comm: string): Promise<number[]> {
  const out: number[] = [];
  for (const d of await readdir('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = await readFile(`/proc/${d}/stat`, 'utf8');
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      if (Number(rest[1]) === ppid && name === comm && rest[0] !== 'Z') out.push(Number(d));
    } catch {
      // gone while we looked
    }
  }
  return out;
}

async function alive(pid: number): Promise<boolean> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

const started: number[] = [];

describe.skipIf(reason)('kdiag trace lifecycle (real bpftrace)', () => {
  afterAll(() => {
    for (const pid of started) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  });

  it.each(['SIGKILL', 'SIGTERM'] as const)(
    'leaves no bpftrace within 2 s after %s of kdiag, and no file in its TMPDIR',
    async (signal) => {
      const tmp = await mkdtemp(join(tmpdir(), 'kdiag-lifecycle-'));
      let leftFiles: string[] = [];
      try {
        const child = spawn(
          process.execPath,
          [KDIAG, 'trace', '--json', '--probes', 'trace_tcp_reset,trace_skb_drop'],
          {
            stdio: ['ignore', 'pipe', 'pipe'],
            env: { ...process.env, TMPDIR: tmp },
          },
        );
        started.push(child.pid!);
        let out = '';
        child.stdout.setEncoding('utf8');
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`trace not ready: ${out}`)), 60_000);
          child.stdout.on('data', (c: string) => {
            out += c;
            if (out.includes('"Tracing')) {
              clearTimeout(timer);
              resolve();
            }
          });
          child.on('exit', () => reject(new Error(`trace exited early: ${out}`)));
        });
        // Both probes run in one bpftrace program (parse/probes/program-merge.ts).
        const probes = await childrenNamed(child.pid!, 'bpftrace');
        expect(probes.length).toBe(1);
        started.push(...probes);
        child.kill(signal);
        const deadline = Date.now() + 2000;
        let left = probes;
        while (Date.now() < deadline) {
          left = [];
          for (const p of probes) if (await alive(p)) left.push(p);
          if (left.length === 0) break;
          await new Promise((r) => setTimeout(r, 100));
        }
        expect(left, `bpftrace still running 2 s after ${signal} of kdiag`).toEqual([]);
        leftFiles = await readdir(tmp);
      } finally {
        // Also when the test fails before its check: a failed run must not leave its TMPDIR behind.
        await rm(tmp, { recursive: true, force: true });
      }
      expect(leftFiles, `files left in kdiag's TMPDIR after ${signal}`).toEqual([]);
    },
    90_000,
  );
});
