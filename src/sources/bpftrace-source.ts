// Runs one kdiag probe: `bpftrace -f json -` with the templated probes/<id>.bt on its stdin,
// under setpriv --pdeathsig, and stamps its JSON lines as RawRecords `bpftrace:<id>`.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { release } from 'node:os';
import { join } from 'node:path';
import { EnvironmentError, KdiagError, ToolFailedError, UsageError } from '../errors.js';
import { probeById, PROBES, type ProbeSpec } from '../parse/probes/catalog.js';
import type { ProbeContext } from '../parse/probes/context.js';
import { renderProbe } from '../parse/probes/template.js';
import { mergeProbePrograms } from '../parse/probes/program-merge.js';
import { kernelClock, printfTag, tagRoutes } from './bpftrace-lines.js';
import type { TraceFormat } from '../parse/tracefs-format.js';
import { spawnLines, which } from '../host/exec.js';
import { readKernelHz, type KernelHz } from './host-capabilities.js';
import type { RawRecord } from '../engine/raw-record.js';
import { systemClock, type Clock, type Source } from './source.js';
import { eventFieldNames, readTraceFormat, requireTracefs } from '../host/tracefs.js';
import { requireRoot } from '../host/root.js';

export interface BpftraceSourceOptions {
  /** Folder holding the .bt files (the package's probes/). */
  readonly probesDir: string;
  /** Keep only events of these network namespaces (inodes, `stat -L -c %i /proc/<pid>/ns/net`); empty = all. */
  readonly netnsFilter?: readonly number[];
  readonly clock?: Clock;
  /** Summary interval of aggregating probes, seconds (default 1). */
  readonly intervalSec?: number;
  /** Kernel HZ override (else read from /boot/config-* or /proc/config.gz). */
  readonly hz?: number;
  /** tracefs roots to try (tests). */
  readonly tracefsCandidates?: readonly string[];
  /** SIGKILL backstop after SIGINT, ms (default 3000). */
  readonly forceKillAfterMs?: number;
  /** Called with the bpftrace pid once spawned (tests, status UI). */
  readonly onSpawn?: (pid: number | undefined) => void;
}

const REASON_TABLE = {
  drop: ['skb:kfree_skb', 'reason'],
  rst: ['tcp:tcp_send_reset', 'reason'],
  states: ['sock:inet_sock_set_state', 'newstate'],
} as const;

/** Reads the kernel facts a probe is templated with and checks its tracepoints; throws EnvironmentError with a hint. */
export async function buildProbeContext(
  spec: ProbeSpec,
  opts: Omit<BpftraceSourceOptions, 'probesDir'>,
): Promise<{ context: ProbeContext; fields: Record<string, string[]> }> {
  const root = await requireTracefs(opts.tracefsCandidates);
  const formats = new Map<string, TraceFormat>();
  const fields: Record<string, string[]> = {};
  const wanted = new Set<string>([...spec.tracepoints.map((t) => t.name), REASON_TABLE.states[0]]);
  if (spec.templates.includes('drop-reasons')) wanted.add(REASON_TABLE.drop[0]);
  if (spec.templates.includes('rst-reasons')) wanted.add(REASON_TABLE.rst[0]);
  for (const name of wanted) {
    const f = await readTraceFormat(root, name);
    if (f) {
      formats.set(name, f);
      fields[name] = eventFieldNames(f);
    }
  }
  for (const tp of spec.tracepoints) {
    const have = fields[tp.name];
    if (!have) {
      throw new EnvironmentError(
        'KDIAG_ENVIRONMENT',
        `can't run probe ${spec.id}: the kernel has no tracepoint ${tp.name}`,
        `needs Linux >= ${spec.minKernel}; see \`kdiag doctor\``,
      );
    }
    const lacking = tp.fields.filter((f) => !have.includes(f));
    if (lacking.length > 0) {
      throw new EnvironmentError(
        'KDIAG_ENVIRONMENT',
        `can't run probe ${spec.id}: ${tp.name} has no field ${lacking.join(', ')}`,
        `needs Linux >= ${spec.minKernel} (the feature is off on ${release()})`,
      );
    }
  }
  const table = (t: readonly [string, string]): Record<string, string> | undefined => {
    const s = formats.get(t[0])?.symbols[t[1]];
    return s ? Object.fromEntries(Object.entries(s)) : undefined;
  };
  const dropReasons = spec.templates.includes('drop-reasons')
    ? table(REASON_TABLE.drop)
    : undefined;
  if (spec.templates.includes('drop-reasons') && !dropReasons) {
    throw new EnvironmentError(
      'KDIAG_ENVIRONMENT',
      `can't run probe ${spec.id}: skb:kfree_skb has no drop-reason table (Linux < 5.17)`,
      'the drop probe is off on this kernel; resets are still traced',
    );
  }
  const rstReasons = spec.templates.includes('rst-reasons') ? table(REASON_TABLE.rst) : undefined;
  let hz: KernelHz | undefined =
    opts.hz === undefined ? undefined : { hz: opts.hz, source: 'option' };
  if (spec.templates.includes('hz') && hz === undefined) {
    hz = await readKernelHz();
    if (!hz) {
      throw new EnvironmentError(
        'KDIAG_ENVIRONMENT',
        `can't run probe ${spec.id}: the kernel HZ is unknown (no /boot/config-${release()}, no /proc/config.gz)`,
        'modprobe configs, or pass the HZ explicitly',
      );
    }
  }
  const tcpStates = table(REASON_TABLE.states);
  const context: ProbeContext = {
    v: 1,
    probe: spec.id,
    kernel: release(),
    ...(hz ? { hz: hz.hz, hzSource: hz.source } : {}),
    ...(spec.templates.includes('interval') ? { intervalSec: opts.intervalSec ?? 1 } : {}),
    ...netnsContext(opts.netnsFilter ?? []),
    ...(dropReasons ? { dropReasons } : {}),
    ...(rstReasons ? { rstReasons } : {}),
    ...(tcpStates ? { tcpStates } : {}),
  };
  return { context, fields };
}

/** The context's record of the netns filter: one inode in `netns`, several in `netnsIn`. */
function netnsContext(inodes: readonly number[]): Pick<ProbeContext, 'netns' | 'netnsIn'> {
  return inodes.length > 1 ? { netns: 0, netnsIn: inodes } : { netns: inodes[0] ?? 0 };
}

/** Checks once that bpftrace and setpriv can run (root, on PATH). */
async function requireBpftrace(): Promise<void> {
  requireRoot('run bpftrace');
  if ((await which('bpftrace')) === undefined)
    throw new EnvironmentError(
      'KDIAG_TOOL_MISSING',
      "can't run bpftrace: not found on PATH",
      'apt-get install bpftrace',
    );
  if ((await which('setpriv')) === undefined)
    throw new EnvironmentError(
      'KDIAG_TOOL_MISSING',
      "can't run setpriv: not found on PATH",
      'apt-get install util-linux',
    );
}

/** One probe's templated text and the context it was templated with. */
export interface TemplatedProbe {
  readonly spec: ProbeSpec;
  readonly program: string;
  readonly context: ProbeContext;
}

/** Reads and templates probes/<id>.bt for this kernel; throws a UsageError or EnvironmentError. */
export async function templateProbe(
  probeId: string,
  opts: BpftraceSourceOptions,
): Promise<TemplatedProbe> {
  const spec = probeById(probeId);
  if (!spec)
    throw new UsageError(
      `unknown probe "${probeId}"`,
      `probes: ${PROBES.map((p) => p.id).join(', ')}`,
    );
  const file = join(opts.probesDir, spec.file);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new EnvironmentError(
      'KDIAG_ENVIRONMENT',
      `can't read probe ${file}: ${(err as Error).message}`,
      'reinstall kdiag (probes/ ships with it)',
    );
  }
  const { context, fields } = await buildProbeContext(spec, opts);
  const rendered = renderProbe(text, {
    ...(context.dropReasons ? { dropReasons: context.dropReasons } : {}),
    ...(context.rstReasons ? { rstReasons: context.rstReasons } : {}),
    fields,
    ...(context.hz === undefined ? {} : { hz: context.hz }),
    ...(opts.intervalSec === undefined ? {} : { intervalSec: opts.intervalSec }),
    netns: opts.netnsFilter ?? [],
  });
  if (rendered.errors.length > 0)
    throw new EnvironmentError(
      'KDIAG_ENVIRONMENT',
      `can't template probe ${spec.id}: ${rendered.errors[0]}`,
      'see `kdiag doctor`',
    );
  return {
    spec,
    program: rendered.program,
    context: {
      ...context,
      file: spec.file,
      ...(rendered.missing.length > 0 ? { missing: rendered.missing } : {}),
    },
  };
}

/** Creates the live source of one probe (`trace_skb_drop` …); checks root, bpftrace and tracefs first. */
export async function createBpftraceSource(
  probeId: string,
  opts: BpftraceSourceOptions,
): Promise<Source> {
  if (!probeById(probeId))
    throw new UsageError(
      `unknown probe "${probeId}"`,
      `probes: ${PROBES.map((p) => p.id).join(', ')}`,
    );
  await requireBpftrace();
  return programSource([await templateProbe(probeId, opts)], opts);
}

export interface BpftraceProgramSource {
  /** Undefined when no probe could be templated. */
  readonly source?: Source;
  /** The probes in the program, in order. */
  readonly probes: readonly ProbeSpec[];
  /** One line per probe left out, and why. */
  readonly notes: readonly string[];
}

/**
 * One bpftrace process for several probes: their templated texts merged into one program
 * (program-merge.ts), its output routed back to each probe's `bpftrace:<id>` by line tag. One
 * process compiles and attaches them all, instead of one LLVM and BTF load per probe.
 */
export async function createBpftraceProgramSource(
  probeIds: readonly string[],
  opts: BpftraceSourceOptions,
): Promise<BpftraceProgramSource> {
  for (const id of probeIds)
    if (!probeById(id))
      throw new UsageError(
        `unknown probe "${id}"`,
        `probes: ${PROBES.map((p) => p.id).join(', ')}`,
      );
  if (probeIds.length === 0) return { probes: [], notes: [] };
  await requireBpftrace();
  const parts: TemplatedProbe[] = [];
  const notes: string[] = [];
  for (const id of probeIds) {
    try {
      parts.push(await templateProbe(id, opts));
    } catch (err) {
      const e = err as { message?: string; hint?: string };
      notes.push(
        `probe ${id} not running: ${e.message ?? String(err)}${e.hint ? ` (${e.hint})` : ''}`,
      );
    }
  }
  if (parts.length === 0) return { probes: [], notes };
  return { source: programSource(parts, opts), probes: parts.map((p) => p.spec), notes };
}

// ---- perf buffer ---------------------------------------------------------------------------------

/**
 * Pages per CPU of bpftrace's perf ring buffer, where printf lines wait until bpftrace reads them:
 * 0.17 reads BPFTRACE_PERF_RB_PAGES (main.cpp, its --help lists it; default 64, 256 KiB a CPU). At
 * 64, a churn of 2,000 connections/s in the lab lost 26,321 lines (BENCHMARKS.md): bpftrace blocks
 * writing to kdiag's pipe while kdiag parses, and the kernel drops what the ring cannot hold. 1024
 * pages (4 MiB a CPU, a power of two as perf requires) hold about a second of that churn's lines.
 * A value already set in kdiag's environment is kept.
 */
export const PERF_RB_PAGES = 1024;

/** bpftrace's argv with the perf buffer size in its environment (`env` execs bpftrace itself). */
export function bpftraceArgv(args: readonly string[]): string[] {
  const pages = process.env.BPFTRACE_PERF_RB_PAGES ?? String(PERF_RB_PAGES);
  return ['env', `BPFTRACE_PERF_RB_PAGES=${pages}`, 'bpftrace', ...args];
}

// ------------------------------------------------------------------------------------------------

/** The source id of a program of several probes (one probe keeps its own `bpftrace:<id>`). */
export const BPFTRACE_PROGRAM_SOURCE = 'bpftrace';

function programSource(parts: readonly TemplatedProbe[], opts: BpftraceSourceOptions): Source {
  const merged =
    parts.length === 1
      ? { program: parts[0]!.program, errors: [] }
      : mergeProbePrograms(parts.map((p) => ({ id: p.spec.id, program: p.program })));
  if (merged.errors.length > 0)
    throw new EnvironmentError(
      'KDIAG_ENVIRONMENT',
      `can't merge probes: ${merged.errors[0]}`,
      'reinstall kdiag (probes/ ships with it)',
    );
  const sha256 = createHash('sha256').update(merged.program).digest('hex');
  const clock = opts.clock ?? systemClock;
  const files = parts.map((p) => p.spec.file).join('+');
  return {
    id: parts.length === 1 ? parts[0]!.spec.sourceId : BPFTRACE_PROGRAM_SOURCE,
    argv: ['bpftrace', '-B', 'line', '-f', 'json', `<templated ${files}>`],
    records: (signal) =>
      programRecords(
        parts.map((p) => ({ spec: p.spec, ctx: { ...p.context, sha256 } })),
        merged.program,
        clock,
        signal,
        opts,
      ),
  };
}

async function* programRecords(
  parts: readonly { spec: ProbeSpec; ctx: ProbeContext }[],
  program: string,
  clock: Clock,
  signal: AbortSignal,
  opts: BpftraceSourceOptions,
): AsyncGenerator<RawRecord> {
  const first = parts[0]!.spec;
  const srcs = parts.map((p) => p.spec.sourceId);
  const route = tagRoutes(parts.map((p) => p.spec));
  const kernel = kernelClock(clock);
  for (const p of parts)
    yield {
      t: clock(),
      src: p.spec.sourceId,
      line: JSON.stringify({ ...p.ctx, clock: kernel.describe() }),
      k: 'begin',
    };
  if (signal.aborted) return;
  const stop = new AbortController();
  let spawned: ReturnType<typeof spawnLines> | undefined;
  let done = false;
  let resend: NodeJS.Timeout | undefined;
  // bpftrace 0.17 can miss a SIGINT that lands right after it printed attached_probes (seen here:
  // it then runs until the SIGKILL backstop). Repeat SIGINT to our own child until it has exited.
  stop.signal.addEventListener(
    'abort',
    () => {
      const pid = spawned?.pid;
      if (pid === undefined) return;
      resend = setInterval(() => {
        if (done) return;
        try {
          process.kill(pid, 'SIGINT');
        } catch {
          // already gone
        }
      }, 500);
      resend.unref();
    },
    { once: true },
  );
  const onAbort = () => stop.abort();
  signal.addEventListener('abort', onAbort, { once: true });
  let attached = false;
  try {
    // -B line: stdout is a pipe, and a full buffer would hold events back for seconds. The program
    // goes in on stdin, not in a file: a file would stay behind in /tmp when kdiag is SIGKILLed.
    spawned = spawnLines(bpftraceArgv(['-B', 'line', '-f', 'json', '-']), {
      input: program,
      signal: stop.signal,
      killSignal: 'SIGINT',
      dieWithParent: true,
      ...(opts.forceKillAfterMs === undefined ? {} : { forceKillAfterMs: opts.forceKillAfterMs }),
    });
    void spawned.exited.finally(() => {
      done = true;
      if (resend) clearInterval(resend);
    });
    opts.onSpawn?.(spawned.pid);
    for await (const out of spawned.lines) {
      if (out.stream === 'stderr') {
        if (out.line.trim() !== '')
          yield { t: clock(), src: first.sourceId, line: out.line, k: 'err' };
        continue;
      }
      if (out.line.trim() === '') continue;
      const tagged = printfTag(out.line);
      if (tagged !== undefined) {
        const now = clock();
        yield {
          t: kernel.wallMs(tagged.ns, now),
          src: route.get(tagged.tag) ?? first.sourceId,
          line: out.line,
        };
        continue;
      }
      if (out.line.includes('"attached_probes"')) {
        // the program's probes attach together: each probe's reader hears it
        attached = true;
        const now = clock();
        for (const src of srcs) yield { t: now, src, line: out.line };
        continue;
      }
      // lost_events and the rest concern the one program: counted once, on its first probe
      yield { t: clock(), src: first.sourceId, line: out.line };
    }
    const ex = await spawned.exited;
    const line = ex.signal ? `signal ${ex.signal}` : `exit ${ex.exitCode ?? '?'}`;
    const now = clock();
    for (const src of srcs) yield { t: now, src, line, k: 'end' };
    if (!ex.canceled && !signal.aborted && ex.exitCode !== 0)
      throw failure(
        parts.map((p) => p.spec),
        ex.exitCode,
        ex.stderrTail,
        attached,
      );
  } finally {
    signal.removeEventListener('abort', onAbort);
    if (spawned) {
      // The consumer may stop iterating early: stop bpftrace (SIGINT, SIGKILL backstop) and wait for it.
      stop.abort();
      await spawned.exited.catch(() => undefined);
      done = true;
      if (resend) clearInterval(resend);
    }
  }
}

function failure(
  specs: readonly ProbeSpec[],
  exitCode: number | undefined,
  stderrTail: string,
  attached: boolean,
): KdiagError {
  const name = specs.map((s) => s.id).join(', ');
  const minBpftrace =
    specs
      .map((s) => s.minBpftrace)
      .sort()
      .slice(-1)[0] ?? '0.17';
  const minKernel =
    specs
      .map((s) => s.minKernel)
      .sort()
      .slice(-1)[0] ?? '5.17';
  const lines = stderrTail.split('\n').filter((l) => l.trim() !== '' && !/RLIMIT_MEMLOCK/.test(l));
  const first = lines.find((l) => /ERROR|error/.test(l)) ?? lines[0] ?? '';
  if (/not found on PATH/.test(stderrTail))
    return new EnvironmentError(
      'KDIAG_TOOL_MISSING',
      "can't run bpftrace: not found on PATH",
      'apt-get install bpftrace',
    );
  if (/Operation not permitted|permission denied/i.test(stderrTail)) {
    return new EnvironmentError(
      'KDIAG_NOT_ROOT',
      `can't load probe ${name}: ${first.trim().slice(0, 120)}`,
      're-run as root (CAP_BPF, CAP_PERFMON, CAP_SYS_ADMIN)',
    );
  }
  if (!attached) {
    return new EnvironmentError(
      'KDIAG_ENVIRONMENT',
      `can't compile probe ${name}: ${first.trim().slice(0, 160) || `bpftrace exited ${exitCode}`}`,
      `needs bpftrace >= ${minBpftrace}, BTF and Linux >= ${minKernel}; see \`kdiag doctor\``,
    );
  }
  return new ToolFailedError(
    ['bpftrace', '-f', 'json', specs.map((s) => s.file).join('+')],
    exitCode,
    stderrTail,
  );
}
