// Runs `kdiag trace --json --record` (the built CLI) against the lab while a scenario drives traffic.
import { execFile, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect } from 'vitest';
import { labDown, labNamespaces, labUp, type Lab } from '../../src/lab/lab.js';
import { requireBuiltAgent } from './lab-harness.js';
import { runScenario, type ScenarioResult } from '../../src/lab/scenarios.js';

export const KDIAG = fileURLToPath(new URL('../../bin/kdiag.js', import.meta.url));

export interface TraceLine {
  readonly type: string;
  readonly t: number;
  readonly emittedAt?: number;
  readonly [k: string]: unknown;
}

export interface TracedScenario {
  readonly result: ScenarioResult;
  readonly lines: TraceLine[];
  readonly stderr: string;
  readonly exitCode: number | null;
}

/** Starts trace, waits until its probes are attached, runs the scenario, stops trace with SIGINT. */
export async function traceScenario(
  lab: Lab,
  scenario: string,
  record: string,
  extraArgs: string[] = [],
  /** How long trace keeps running after the scenario: its next snapshots and analysis. */
  lingerMs = 5000,
  /** Before `lingerMs`, trace runs until this holds (checked every 200 ms, 60 s at most). */
  lingerUntil?: () => boolean,
): Promise<TracedScenario> {
  const child = spawn(
    process.execPath,
    [
      KDIAG,
      'trace',
      '--json',
      '--record',
      record,
      '--netns',
      lab.ns.node,
      '--duration',
      '300s',
      ...extraArgs,
    ],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const lines: TraceLine[] = [];
  let stderr = '';
  let carry = '';
  let ready: () => void;
  const isReady = new Promise<void>((resolve) => {
    ready = resolve;
  });
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    const parts = (carry + chunk).split('\n');
    carry = parts.pop() ?? '';
    for (const p of parts) {
      if (!p.trim()) continue;
      const obj: TraceLine = { ...(JSON.parse(p) as TraceLine), emittedAt: Date.now() };
      lines.push(obj);
      if (
        obj.type === 'status' &&
        typeof obj.message === 'string' &&
        obj.message.startsWith('Tracing')
      )
        ready();
    }
  });
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (c: string) => {
    stderr += c;
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  try {
    await Promise.race([
      isReady,
      exited.then(() => {
        throw new Error(`kdiag trace exited before it was ready:\n${stderr}`);
      }),
      new Promise((_, reject) =>
        setTimeout(() => reject(new Error(`kdiag trace not ready after 60 s:\n${stderr}`)), 60_000),
      ),
    ]);
    // One snapshot round before traffic, so sysctls and rules are known.
    await new Promise((r) => setTimeout(r, 2500));
    const result = await runScenario(scenario, { lab });
    // Let the next snapshot and analysis see the aftermath.
    for (const t0 = Date.now(); lingerUntil && !lingerUntil() && Date.now() - t0 < 60_000;)
      await new Promise((r) => setTimeout(r, 200));
    await new Promise((r) => setTimeout(r, lingerMs));
    child.kill('SIGINT');
    const exitCode = await exited;
    return { result, lines, stderr, exitCode };
  } finally {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
  }
}

/** The flow id kdiag gives the scenario's client connection. */
export function clientFlowId(r: ScenarioResult): string | undefined {
  const c = r.clientTuple;
  const ep = (ip: string, port: number) => (ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`);
  return c ? `tcp ${ep(c.src, c.sport)}>${ep(c.dst, c.dport)}` : undefined;
}

export interface FindingLite {
  readonly id: string;
  readonly rule: string;
  readonly fm: string;
  readonly flows: readonly string[];
  readonly cause: string;
  readonly t: number;
}

export function findingsOf(lines: readonly TraceLine[]): (FindingLite & { emittedAt: number })[] {
  return lines
    .filter((l) => l.type === 'finding')
    .map((l) => ({ ...(l.finding as FindingLite), emittedAt: l.emittedAt ?? 0 }));
}

/** The findings still standing at the end: each update replaces its id, a withdrawal removes it. */
export function standingFindingsOf(lines: readonly TraceLine[]): FindingLite[] {
  const byId = new Map<string, FindingLite>();
  for (const l of lines) {
    if (l.type === 'finding') {
      const f = l.finding as FindingLite;
      byId.set(f.id, f);
    } else if (l.type === 'finding-withdrawn') byId.delete(String(l.id));
  }
  return [...byId.values()];
}

/** One lab and one scratch folder for a describe block: up before its tests, down (and checked gone) after. */
export function tracedLab(prefix: string): { readonly lab: () => Lab; readonly dir: () => string } {
  let lab: Lab | undefined;
  let dir: string | undefined;
  beforeAll(async () => {
    requireBuiltAgent();
    dir = await mkdtemp(join(tmpdir(), prefix));
    lab = await labUp({});
  }, 120_000);
  afterAll(async () => {
    await lab?.down();
    await labDown();
    expect(await labNamespaces()).toEqual([]);
    if (dir) await rm(dir, { recursive: true, force: true });
  }, 120_000);
  return { lab: () => lab!, dir: () => dir! };
}

/** `rule flow,flow` of a finding: what live and replay are compared by. */
export function findingKey(f: FindingLite): string {
  return `${f.rule} ${[...f.flows].sort().join(',')}`;
}

/**
 * The findings `kdiag replay --json` makes of a recording, and the keys of those live still stood
 * by at the end (updates replacing, withdrawals removing), both sorted: they must be equal.
 */
export async function liveAndReplay(
  lines: readonly TraceLine[],
  record: string,
): Promise<{ live: string[]; replay: string[]; issueCount: number }> {
  const replay = await promisify(execFile)(process.execPath, [KDIAG, 'replay', record, '--json'], {
    maxBuffer: 256 << 20,
  }).catch((e: { stdout: string; code: number }) => {
    if (e.code === 1) return { stdout: e.stdout };
    throw e;
  });
  const replayed = JSON.parse(replay.stdout) as { findings: FindingLite[]; issueCount: number };
  return {
    live: [...new Set(standingFindingsOf(lines).map(findingKey))].sort(),
    replay: [...new Set(replayed.findings.map(findingKey))].sort(),
    issueCount: replayed.issueCount,
  };
}

const FIXTURES = new URL('../../fixtures/sessions/', import.meta.url).pathname;

/** What a recorded session must replay to (fixtures/sessions/NAME/expected.json). */
export interface SessionExpectation {
  /** Rules that must fire on the client's flow (or, with `global`, anywhere). */
  readonly rules: readonly string[];
  /** Rules that must not fire on that flow. */
  readonly not?: readonly string[];
  readonly healthy?: boolean;
  readonly global?: boolean;
}

/**
 * With KDIAG_UPDATE_FIXTURES=1 (`npm run fixtures:record`), keeps a traced run's recording as a
 * session fixture, which test/replay/sessions.test.ts then replays offline to `want`.
 */
export async function saveSessionFixture(
  scenario: string,
  r: ScenarioResult,
  record: string,
  want: SessionExpectation,
): Promise<void> {
  if (process.env.KDIAG_UPDATE_FIXTURES !== '1') return;
  const out = join(FIXTURES, scenario);
  await mkdir(out, { recursive: true });
  await copyFile(record, join(out, 'recording.ndjson'));
  const expected = {
    scenario,
    fm: r.fm,
    flow: clientFlowId(r),
    outcome: r.outcome,
    rules: want.rules,
    not: want.not ?? [],
    healthy: Boolean(want.healthy),
    global: Boolean(want.global),
  };
  await writeFile(join(out, 'expected.json'), `${JSON.stringify(expected, null, 2)}\n`);
}
