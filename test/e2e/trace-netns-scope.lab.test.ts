// Real kernel: `trace --netns NODE` filters its probes in the kernel to NODE and the namespaces wired
// to it over veths (the lab's client, middlebox, backends), so the packets of an unrelated pair of
// namespaces never reach the output or the recording; `--probe-netns` chooses namespaces instead.
// Ctrl-C (SIGINT) stops it cleanly, with its summary, and it exits 130; SIGTERM 143.
import { execFile, spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labSkipReason } from '../helpers/lab-guard.js';
import { KDIAG, tracedLab, type TraceLine } from '../helpers/trace-harness.js';
import { ADDR } from '../../src/lab/topology.js';

const reason = labSkipReason('root', 'netns', 'iptables', 'conntrack', 'bpftrace', 'tracefs');
const sh = promisify(execFile);

// A pair wired only to each other, from the benchmarking range (RFC 2544), unlike any lab address.
const OTHER = { a: 'h25u-a', b: 'h25u-b', ipA: '198.18.25.1', ipB: '198.18.25.2' } as const;

/** Connects from `ns` to a closed port `times` times: each connect draws an RST from the peer. */
async function refusedConnects(ns: string, ip: string, times: number): Promise<void> {
  const js = `const s=require('net').connect(9,${JSON.stringify(ip)});s.on('error',()=>process.exit(0));s.on('connect',()=>process.exit(3));`;
  for (let i = 0; i < times; i++)
    await sh('ip', ['netns', 'exec', ns, process.execPath, '-e', js], { timeout: 10_000 });
}

interface TraceRun {
  readonly lines: TraceLine[];
  readonly stderr: () => string;
  readonly ready: Promise<void>;
  readonly exited: Promise<number | null>;
  /** Resolves once a line satisfies `pred` (rejects after `ms`). */
  readonly until: (pred: (l: TraceLine) => boolean, ms: number) => Promise<void>;
  readonly kill: (sig: NodeJS.Signals) => void;
}

function startTrace(args: readonly string[]): TraceRun {
  const child = spawn(process.execPath, [KDIAG, 'trace', '--json', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: TraceLine[] = [];
  const waiters: { pred: (l: TraceLine) => boolean; done: () => void }[] = [];
  let stderr = '';
  let carry = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    const parts = (carry + chunk).split('\n');
    carry = parts.pop() ?? '';
    for (const p of parts.filter((x) => x.trim())) {
      const l = JSON.parse(p) as TraceLine;
      lines.push(l);
      for (const w of waiters) if (w.pred(l)) w.done();
    }
  });
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  const until = (pred: (l: TraceLine) => boolean, ms: number) =>
    new Promise<void>((resolve, reject) => {
      if (lines.some(pred)) return resolve();
      const t = setTimeout(() => reject(new Error(`not seen in ${ms} ms:\n${stderr}`)), ms);
      waiters.push({ pred, done: () => (clearTimeout(t), resolve()) });
      void exited.then(() => reject(new Error(`trace exited:\n${stderr}`)));
    });
  const ready = until(
    (l) => l.type === 'status' && String(l.message).startsWith('Tracing'),
    90_000,
  );
  return { lines, stderr: () => stderr, ready, exited, until, kill: (s) => child.kill(s) };
}

const mentions = (l: TraceLine, ip: string) => JSON.stringify(l).includes(ip);

describe.skipIf(reason)('trace --netns keeps the probes to the node and its veth peers', () => {
  const env = tracedLab('kdiag-h25-scope-');

  beforeAll(async () => {
    await sh('ip', ['netns', 'add', OTHER.a]);
    await sh('ip', ['netns', 'add', OTHER.b]);
    await sh('ip', [
      '-n',
      OTHER.a,
      'link',
      'add',
      'h25u0',
      'type',
      'veth',
      'peer',
      'name',
      'h25u1',
      'netns',
      OTHER.b,
    ]);
    for (const [ns, dev, ip] of [
      [OTHER.a, 'h25u0', OTHER.ipA],
      [OTHER.b, 'h25u1', OTHER.ipB],
    ] as const) {
      await sh('ip', ['-n', ns, 'addr', 'add', `${ip}/30`, 'dev', dev]);
      await sh('ip', ['-n', ns, 'link', 'set', dev, 'up']);
      await sh('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    }
  }, 60_000);
  afterAll(async () => {
    for (const ns of [OTHER.a, OTHER.b]) await sh('ip', ['netns', 'del', ns]).catch(() => {});
  });

  it('traces the lab client, never the unrelated pair; SIGINT exits 130 after the summary', async () => {
    const record = join(env.dir(), 'scope.ndjson');
    const lab = env.lab();
    const t = startTrace(['--netns', lab.ns.node, '--record', record]);
    await t.ready;
    const note = t.lines.find(
      (l) => l.type === 'status' && String(l.message).includes('filtered in the kernel'),
    );
    const noteText = JSON.stringify(note);
    for (const ns of [lab.ns.node, lab.ns.client, lab.ns.mbox, lab.ns.be1, lab.ns.be2])
      expect(noteText, t.stderr()).toContain(ns);
    expect(noteText).not.toContain(OTHER.a);
    expect(noteText).toContain('created after the start');
    // The unrelated resets first: had the probes seen them, they would come out before the lab's.
    await refusedConnects(OTHER.a, OTHER.ipB, 3);
    await refusedConnects(lab.ns.client, ADDR.mboxClientSide, 3);
    await t.until((l) => l.type === 'event' && mentions(l, ADDR.client), 30_000);
    t.kill('SIGINT');
    expect(await t.exited, t.stderr()).toBe(130);
    expect(t.lines.some((l) => l.type === 'summary')).toBe(true);
    expect(t.lines.filter((l) => mentions(l, OTHER.ipA) || mentions(l, OTHER.ipB))).toEqual([]);
    // Filtered in the kernel: the recording has none of them either, and says what was traced.
    const rec = await readFile(record, 'utf8');
    expect(rec).toContain(ADDR.client);
    expect(rec).not.toContain(OTHER.ipA);
    const header = JSON.parse(rec.split('\n')[0]!) as {
      options: { probeNetns?: { names: string[] } };
    };
    expect(header.options.probeNetns?.names).toContain(lab.ns.client);
  }, 180_000);

  it('--probe-netns chooses the namespace instead (the pair is seen); SIGTERM exits 143', async () => {
    const t = startTrace(['--probe-netns', OTHER.a, '--probe-netns', OTHER.b]);
    await t.ready;
    await refusedConnects(OTHER.a, OTHER.ipB, 3);
    await t.until((l) => l.type === 'event' && mentions(l, OTHER.ipA), 30_000);
    t.kill('SIGTERM');
    expect(await t.exited, t.stderr()).toBe(143);
    expect(t.lines.some((l) => l.type === 'summary')).toBe(true);
  }, 180_000);

  it('--duration reaching its end exits 0 or 1, not as interrupted', async () => {
    const t = startTrace(['--probe-netns', OTHER.a, '--duration', '1s']);
    const code = await t.exited;
    expect([0, 1], t.stderr()).toContain(code);
    expect(t.lines.some((l) => l.type === 'summary')).toBe(true);
  }, 180_000);
});
