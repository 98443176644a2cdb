// The template context of a probe run (bpftrace source's `begin` record, JSON): the symbol tables
// and constants kdiag templated into the program, so that replay maps numbers without the kernel.
import { lineIssue, row, type LineOutcome } from '../result.js';

export interface ProbeContext {
  /** Context format version. */
  readonly v: 1;
  readonly probe: string;
  /** Kernel release the program was templated for. */
  readonly kernel?: string;
  /** CONFIG_HZ used to turn jiffies into ms, and where it was read. */
  readonly hz?: number;
  readonly hzSource?: string;
  readonly intervalSec?: number;
  /** netns inode the probe was restricted to, 0 = all (or several: netnsIn). */
  readonly netns?: number;
  /** netns inodes the probe was restricted to, when more than one. */
  readonly netnsIn?: readonly number[];
  /** enum skb_drop_reason (skb:kfree_skb format), number → name. */
  readonly dropReasons?: Record<string, string>;
  /** enum sk_rst_reason (tcp:tcp_send_reset format, ≥ 6.10), number → name. */
  readonly rstReasons?: Record<string, string>;
  /** TCP states (sock:inet_sock_set_state format), number → name without `TCP_`. */
  readonly tcpStates?: Record<string, string>;
  /** Template names the running kernel lacks (templated to a never-matching value). */
  readonly missing?: readonly string[];
  /** The probe file and the sha256 of the templated program that ran. */
  readonly file?: string;
  readonly sha256?: string;
}

/** An empty context: numbers stay unresolved (`UNKNOWN(3)`), TCP states use the UAPI names. */
export function emptyProbeContext(probe: string): ProbeContext {
  return { v: 1, probe };
}

const MAX_CONTEXT = 64 * 1024;

function isTable(x: unknown): x is Record<string, string> {
  if (typeof x !== 'object' || x === null || Array.isArray(x)) return false;
  return Object.entries(x).every(([k, v]) => /^-?\d{1,10}$/.test(k) && typeof v === 'string' && v.length <= 80);
}

/** Reads the JSON line of a bpftrace source's `begin` record. */
export function parseProbeContext(line: string): LineOutcome<ProbeContext> {
  if (line.length > MAX_CONTEXT) return lineIssue('probe.bad-context', `context longer than ${MAX_CONTEXT} characters`);
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch {
    return lineIssue('probe.bad-context', 'context is not JSON');
  }
  if (typeof raw !== 'object' || raw === null) return lineIssue('probe.bad-context', 'context is not an object');
  const o = raw as Record<string, unknown>;
  if (o.v !== 1) return lineIssue('probe.bad-context', `unsupported context version ${String(o.v)}`);
  if (typeof o.probe !== 'string') return lineIssue('probe.bad-context', 'context has no probe name');
  const num = (k: string) => (typeof o[k] === 'number' && Number.isFinite(o[k]) ? (o[k] as number) : undefined);
  const str = (k: string) => (typeof o[k] === 'string' ? (o[k] as string) : undefined);
  const table = (k: string) => (isTable(o[k]) ? (o[k] as Record<string, string>) : undefined);
  const ctx: ProbeContext = {
    v: 1,
    probe: o.probe,
    ...(str('kernel') === undefined ? {} : { kernel: str('kernel') }),
    ...(num('hz') === undefined ? {} : { hz: num('hz') }),
    ...(str('hzSource') === undefined ? {} : { hzSource: str('hzSource') }),
    ...(num('intervalSec') === undefined ? {} : { intervalSec: num('intervalSec') }),
    ...(num('netns') === undefined ? {} : { netns: num('netns') }),
    ...(Array.isArray(o.netnsIn) ? { netnsIn: o.netnsIn.filter((x): x is number => typeof x === 'number').slice(0, 1024) } : {}),
    ...(table('dropReasons') === undefined ? {} : { dropReasons: table('dropReasons') }),
    ...(table('rstReasons') === undefined ? {} : { rstReasons: table('rstReasons') }),
    ...(table('tcpStates') === undefined ? {} : { tcpStates: table('tcpStates') }),
    ...(str('file') === undefined ? {} : { file: str('file') }),
    ...(str('sha256') === undefined ? {} : { sha256: str('sha256') }),
    ...(Array.isArray(o.missing) ? { missing: o.missing.filter((x): x is string => typeof x === 'string') } : {}),
  };
  return row(ctx);
}

// include/net/tcp_states.h: part of the socket diag UAPI and unchanged since 2.6; used only when a
// recording has no context.
const TCP_STATES: Record<number, string> = {
  1: 'ESTABLISHED', 2: 'SYN_SENT', 3: 'SYN_RECV', 4: 'FIN_WAIT1', 5: 'FIN_WAIT2', 6: 'TIME_WAIT',
  7: 'CLOSE', 8: 'CLOSE_WAIT', 9: 'LAST_ACK', 10: 'LISTEN', 11: 'CLOSING', 12: 'NEW_SYN_RECV',
};

function stateName(ctx: ProbeContext, n: number): string {
  if (n === 0) return 'UNKNOWN';
  const name = ctx.tcpStates?.[String(n)] ?? TCP_STATES[n];
  return name === undefined ? `UNKNOWN(${n})` : name.replace(/^TCP_/, '');
}

// The names of small state numbers, for the last context asked about (one per probe run; a state
// event asks twice per line).
let namesOf: ProbeContext | undefined;
let names: (string | undefined)[] = [];

/** TCP state number → name (`ESTABLISHED`); 0 or unknown → `UNKNOWN` / `UNKNOWN(n)`. */
export function tcpStateName(ctx: ProbeContext, n: number): string {
  if (!(n >= 1 && n < 64 && Number.isInteger(n))) return stateName(ctx, n);
  if (ctx !== namesOf) {
    namesOf = ctx;
    names = [];
  }
  return (names[n] ??= stateName(ctx, n));
}

/** A reason number → its name in the given table, `UNKNOWN(n)` when absent. */
export function reasonName(table: Record<string, string> | undefined, n: number): string {
  return table?.[String(n)] ?? `UNKNOWN(${n})`;
}
