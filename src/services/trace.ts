// kdiag trace: live sources and probes through the session, changes streamed as they happen.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { hostname, release } from 'node:os';
import type { AnalyzeOptions } from '../analysis/analyze.js';
import { FIXTURE_FORMAT, FIXTURE_VERSION, type FixtureHeader } from '../record/fixture-header.js';
import { createFixtureWriter, type FixtureWriter } from '../record/fixture-writer.js';
import {
  BPFTRACE_PROGRAM_SOURCE,
  createBpftraceProgramSource,
} from '../sources/bpftrace-source.js';
import { run } from '../host/exec.js';
import { readVantageWarning } from '../host/vantage.js';
import type { Clock, Source } from '../sources/source.js';
import { KDIAG_VERSION } from '../version.js';
import { buildLiveSources } from './live-sources.js';
import { probeScope, type ProbeScope } from './probe-scope.js';
import { LiveSession, type SessionChange } from './live-session.js';
import { preflightTrace } from './trace-preflight.js';

export interface TraceOptions {
  readonly netns?: string;
  /**
   * Keep only probe events of these named network namespaces, filtered in the kernel. Without it,
   * `netns` filters to that namespace and those wired to it over veths (probe-scope.ts).
   */
  readonly probeNetns?: readonly string[];
  /** Probe ids to run; empty = none (conntrack and snapshots only). */
  readonly probes: readonly string[];
  readonly probesDir: string;
  readonly intervalMs: number;
  readonly record?: string;
  readonly kubeProxyConfig?: string;
  readonly analysis: AnalyzeOptions;
  readonly clock: Clock;
  /** Progress and notes for a person (stderr). */
  readonly progress: (line: string) => void;
  /** Apply/revert from the TUI. */
  readonly onApply?: (
    suggestion: string,
    diagnosis: () => import('../model/diagnosis.js').Diagnosis,
  ) => Promise<import('../model/session.js').AppliedChange>;
  readonly onRevert?: (journalId: string) => Promise<void>;
}

async function toolVersion(argv: string[]): Promise<string | undefined> {
  try {
    const r = await run(argv, { reject: false, timeoutMs: 5000 });
    const m = /v?\d+\.\d+(\.\d+)?/.exec(`${r.stdout}\n${r.stderr}`);
    return m?.[0];
  } catch {
    return undefined;
  }
}

/** Builds the recording header from what is running. */
async function buildHeader(
  o: TraceOptions,
  sources: readonly Source[],
  probeFiles: { id: string; file: string }[],
  scope: ScopeRecord | undefined,
): Promise<FixtureHeader> {
  const tools: Record<string, string> = {};
  for (const [name, argv] of [
    ['bpftrace', ['bpftrace', '--version']],
    ['conntrack', ['conntrack', '--version']],
    ['iptables', ['iptables', '--version']],
    ['ss', ['ss', '--version']],
  ] as const) {
    const v = await toolVersion([...argv]);
    if (v) tools[name] = v;
  }
  const probes = await Promise.all(
    probeFiles.map(async (p) => ({
      id: p.id,
      sha256: createHash('sha256')
        .update(await readFile(p.file))
        .digest('hex'),
    })),
  );
  return {
    format: FIXTURE_FORMAT,
    version: FIXTURE_VERSION,
    recordedAt: new Date(o.clock()).toISOString(),
    kdiag: KDIAG_VERSION,
    host: { hostname: hostname(), kernel: release() },
    tools,
    probes,
    sources: sources.map((s) => ({ id: s.id, argv: [...s.argv] })),
    options: {
      ...(o.analysis.pathIdleTimeoutSec !== undefined
        ? { pathIdleTimeoutSec: o.analysis.pathIdleTimeoutSec }
        : {}),
      ...(o.analysis.cloud !== undefined ? { cloud: o.analysis.cloud } : {}),
      ...(o.netns ? { netns: o.netns } : {}),
      ...(scope ? { probeNetns: scope } : {}),
      intervalMs: o.intervalMs,
    },
    redacted: false,
    ...(scope && scope.notes.length > 0 ? { notes: scope.notes.join('\n') } : {}),
  };
}

/** What the recording keeps of the probes' netns filter: the namespaces and what was said of them. */
interface ScopeRecord {
  readonly names: readonly string[];
  readonly inodes: readonly number[];
  readonly notes: readonly string[];
}

function recordedScope(scope: ProbeScope, probesRun: boolean): ScopeRecord | undefined {
  if (!probesRun || scope.notes.length === 0) return undefined;
  return { names: scope.names ?? [], inodes: scope.inodes ?? [], notes: scope.notes };
}

export interface StartedTrace {
  readonly session: LiveSession;
  readonly notes: readonly string[];
  readonly recorder?: FixtureWriter;
  /** Resolves when every probe has attached (or failed). */
  readonly attached: Promise<void>;
}

/** Starts a live session with the chosen sources and probes. */
export async function startTrace(
  o: TraceOptions,
  onChange: (c: SessionChange) => void,
): Promise<StartedTrace> {
  await preflightTrace(o);
  // The probes' compile is the long pole of being ready: the namespaces it filters on are found
  // while the snapshot sources are set up, not after them.
  const [{ sources, notes }, vantage, scope] = await Promise.all([
    buildLiveSources({
      clock: o.clock,
      intervalMs: o.intervalMs,
      events: true,
      allSockets: true,
      ...(o.netns ? { netns: o.netns } : {}),
      ...(o.kubeProxyConfig ? { kubeProxyConfig: o.kubeProxyConfig } : {}),
    }),
    // Outside the node's network namespace, or unable to tell, a quiet trace must not read as healthy.
    readVantageWarning(),
    // Resolved before the compile: the inodes are templated into the program.
    o.probes.length > 0 ? probeScope(o) : Promise.resolve<ProbeScope>({ notes: [] }),
  ]);
  const probeFiles: { id: string; file: string }[] = [];
  const notesOut = vantage === undefined ? [...notes] : [vantage, ...notes];
  const netnsFilter = scope.inodes;
  if (o.probes.length > 0) {
    o.progress(`Compiling probes ${o.probes.join(', ')} (one bpftrace program)…`);
    const program = await createBpftraceProgramSource(o.probes, {
      probesDir: o.probesDir,
      clock: o.clock,
      ...(netnsFilter === undefined ? {} : { netnsFilter }),
    }).catch((err: unknown) => {
      const e = err as { message?: string; hint?: string };
      notesOut.push(
        `probes not running: ${e.message ?? String(err)}${e.hint ? ` (${e.hint})` : ''}`,
      );
      return undefined;
    });
    if (program) {
      notesOut.push(...program.notes);
      // First in line: bpftrace's compile is the long pole of being ready, so it starts first.
      if (program.source) sources.unshift(program.source);
      for (const spec of program.probes)
        probeFiles.push({ id: spec.id, file: `${o.probesDir}/${spec.file}` });
      if (program.source) notesOut.push(...scope.notes);
    }
  }
  let recorder: FixtureWriter | undefined;
  if (o.record)
    recorder = await createFixtureWriter(
      o.record,
      await buildHeader(o, sources, probeFiles, recordedScope(scope, probeFiles.length > 0)),
    );
  const pending = new Set(probeFiles.map((p) => `bpftrace:${p.id}`));
  let resolveAttached!: () => void;
  const attached = new Promise<void>((resolve) => {
    resolveAttached = resolve;
    if (pending.size === 0) resolve();
  });
  const session: LiveSession = new LiveSession({
    sources,
    analysis: o.analysis,
    clock: o.clock,
    ...(recorder ? { recorder } : {}),
    missing: notesOut,
    ...(o.onApply
      ? { onApply: (id: string) => o.onApply!(id, () => session.getSnapshot().diagnosis) }
      : {}),
    ...(o.onRevert ? { onRevert: o.onRevert } : {}),
    // Snapshot reads wait for the probes (at most a minute): the event stream and bpftrace do not.
    deferUntil: Promise.race([attached, new Promise<void>((r) => setTimeout(r, 60_000).unref())]),
    deferred: (s) => !s.id.startsWith('bpftrace') && !s.id.startsWith('conntrack:events'),
    // bpftrace's attached_probes line arrives as a probe-status observation.
    onObservation: (obs) => {
      if (
        obs.kind === 'probe' &&
        obs.event.kind === 'probe-status' &&
        obs.event.status === 'attached' &&
        pending.delete(obs.src)
      ) {
        o.progress(`Probe ${obs.src.slice('bpftrace:'.length)} attached`);
        if (pending.size === 0) resolveAttached();
      }
    },
  });
  session.onChange((c) => {
    if (c.type === 'source') {
      // The program of several probes is one source: when it ends, none of them will attach.
      if (c.health.id === BPFTRACE_PROGRAM_SOURCE) pending.clear();
      else pending.delete(c.health.id);
      if (pending.size === 0) resolveAttached();
    }
    onChange(c);
  });
  // Facts about the host the analysis needs, recorded like any other record so a replay has them.
  session.ingest({
    t: o.clock(),
    src: 'kdiag:meta',
    line: JSON.stringify({ key: 'kernel-release', value: release() }),
  });
  session.start();
  return { session, notes: notesOut, ...(recorder ? { recorder } : {}), attached };
}
