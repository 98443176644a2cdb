// doctor's proofs: each capability it calls present is shown by a tiny attach or read (bpftrace
// attaching one probe and exiting, `conntrack -E` held open for a moment, `nft list tables`,
// `ipvsadm -Ln`, the BTF file's magic), run in parallel, each under a deadline. A failure is told
// in the tool's own words: one line of its stderr, control characters stripped.
import { open } from 'node:fs/promises';
import { run, which } from '../host/exec.js';
import { failureLine, oneLine } from '../parse/tool-failure.js';

export type ProofId =
  'tracepoint' | 'kprobe' | 'kfunc' | 'btf' | 'conntrack-events' | 'nft' | 'ipvs';

export interface ProofResult {
  readonly id: ProofId;
  /** true: proven; false: tried and failed; undefined: not tried (tool missing, not root). */
  readonly ok: boolean | undefined;
  /** What was run or read, as the user would type it. */
  readonly what: string;
  /** Why not (the tool's stderr, one line), or what was seen. */
  readonly detail: string;
  /** The tool's standard output when it succeeded (nft's tables, ipvsadm's services). */
  readonly stdout?: string;
}

export interface Proof {
  readonly id: ProofId;
  /** The tool it needs on PATH (none for a file read). */
  readonly tool?: string;
  readonly argv?: readonly string[];
  /** A file read instead of a command. */
  readonly read?: (path: string) => Promise<ProofOutcome>;
  readonly path?: string;
  readonly timeoutMs: number;
  /** A command still running at its deadline proves it (conntrack -E opened its socket). */
  readonly runningIsProof?: boolean;
  /** Needs root (bpftrace, netlink listeners). */
  readonly root: boolean;
}

interface ProofOutcome {
  readonly ok: boolean;
  readonly detail: string;
}

// A bpftrace program that attaches one probe and exits: BEGIN runs once every probe is attached.
const attach = (probe: string): string[] => ['bpftrace', '-e', `${probe} {} BEGIN { exit(); }`];

/** The proofs doctor runs, one per capability. */
export function defaultProofs(): Proof[] {
  return [
    {
      id: 'tracepoint',
      tool: 'bpftrace',
      argv: attach('tracepoint:sock:inet_sock_set_state'),
      timeoutMs: 20_000,
      root: true,
    },
    {
      id: 'kprobe',
      tool: 'bpftrace',
      argv: attach('kprobe:tcp_v4_connect'),
      timeoutMs: 20_000,
      root: true,
    },
    {
      id: 'kfunc',
      tool: 'bpftrace',
      argv: attach('kfunc:tcp_v4_connect'),
      timeoutMs: 20_000,
      root: true,
    },
    {
      id: 'btf',
      path: '/sys/kernel/btf/vmlinux',
      read: readBtfMagic,
      timeoutMs: 2000,
      root: false,
    },
    {
      id: 'conntrack-events',
      tool: 'conntrack',
      argv: ['conntrack', '-E'],
      timeoutMs: 700,
      runningIsProof: true,
      root: true,
    },
    { id: 'nft', tool: 'nft', argv: ['nft', 'list', 'tables'], timeoutMs: 5000, root: true },
    { id: 'ipvs', tool: 'ipvsadm', argv: ['ipvsadm', '-Ln'], timeoutMs: 5000, root: true },
  ];
}

/** BTF files begin with the magic 0xeB9F (little or big endian). */
async function readBtfMagic(path: string): Promise<ProofOutcome> {
  let fh;
  try {
    fh = await open(path, 'r');
    const b = Buffer.alloc(2);
    const { bytesRead } = await fh.read(b, 0, 2, 0);
    const ok = bytesRead === 2 && (b.readUInt16LE(0) === 0xeb9f || b.readUInt16BE(0) === 0xeb9f);
    return { ok, detail: ok ? 'BTF magic read' : 'no BTF magic at the start of the file' };
  } catch (e) {
    return { ok: false, detail: oneLine((e as Error).message) };
  } finally {
    await fh?.close();
  }
}

/** Judges one finished command: exit 0 proves it; a deadline proves a listener; else its stderr. */
export function judgeRun(
  p: Pick<Proof, 'runningIsProof' | 'timeoutMs'>,
  r: { exitCode: number; stderr: string; stdout: string; timedOut: boolean },
): ProofOutcome {
  if (r.timedOut)
    return p.runningIsProof
      ? { ok: true, detail: `open for ${p.timeoutMs} ms` }
      : { ok: false, detail: `no answer within ${p.timeoutMs} ms` };
  if (r.exitCode === 0) return { ok: true, detail: 'exit 0' };
  return { ok: false, detail: failureLine(r.stderr) || `exit ${r.exitCode}` };
}

export interface ProofRunOptions {
  readonly root: boolean;
  /** Called as each proof ends, for a progress line. */
  readonly onDone?: (r: ProofResult, done: number, total: number) => void;
  /** Looks a tool up on PATH (tests give a fake). */
  readonly which?: (tool: string) => Promise<string | undefined>;
}

/** Runs the proofs in parallel, each under its own deadline; results in the proofs' order. */
export async function runProofs(
  proofs: readonly Proof[],
  opts: ProofRunOptions,
): Promise<ProofResult[]> {
  const find = opts.which ?? which;
  let done = 0;
  return Promise.all(
    proofs.map(async (p) => {
      const r = await runOne(p, opts.root, find);
      opts.onDone?.(r, ++done, proofs.length);
      return r;
    }),
  );
}

async function runOne(
  p: Proof,
  root: boolean,
  find: (tool: string) => Promise<string | undefined>,
): Promise<ProofResult> {
  const what = p.argv
    ? p.argv.map((a) => (/\s/.test(a) ? `'${a}'` : a)).join(' ')
    : `read ${p.path}`;
  if (p.read && p.path) {
    const o = await p.read(p.path);
    return { id: p.id, ok: o.ok, what, detail: o.detail };
  }
  if (!p.argv || !p.tool) return { id: p.id, ok: undefined, what, detail: 'nothing to run' };
  if ((await find(p.tool)) === undefined)
    return { id: p.id, ok: undefined, what, detail: `${p.tool} not found on PATH` };
  if (p.root && !root) return { id: p.id, ok: undefined, what, detail: 'not tried: not root' };
  try {
    const r = await run(p.argv, { reject: false, timeoutMs: p.timeoutMs });
    // run() reports a deadline as exit 124 (no exit code of its own).
    const o = judgeRun(p, { ...r, timedOut: r.exitCode === 124 });
    return {
      id: p.id,
      ok: o.ok,
      what,
      detail: o.detail,
      ...(o.ok && r.stdout !== '' ? { stdout: r.stdout } : {}),
    };
  } catch (e) {
    return { id: p.id, ok: false, what, detail: oneLine((e as Error).message) };
  }
}
