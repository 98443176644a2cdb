// What the Cilium agent's BPF conntrack holds, per analysis: the latest `bpf ct list global`
// snapshot indexed by tuple, and the timeouts in force (cilium-config, else the agent's flag
// defaults). Memoised per PathContext; absent when the input has no Cilium listing or config.
import {
  ciliumEndpoint,
  CILIUM_CT_DEFAULTS,
  CILIUM_CT_TCP_OLD_DEFAULT,
  CILIUM_GC_MAX_LRU_SEC,
  CILIUM_GC_MIN_SEC,
  asCiliumCtSettings,
  asCiliumCtSnapshot,
  ciliumTimeoutKey,
  type CiliumCtEntry,
  type CiliumCtSettings,
  type CiliumCtSnapshot,
  type CiliumCtTimeoutKey,
} from '../../model/cilium.js';
import type { Evidence } from '../../model/diagnosis.js';
import type { Endpoint } from '../../model/endpoint.js';
import type { Flow } from '../../model/flow.js';
import type { PathContext, Sourced } from './context.js';
import { evidence } from './evidence.js';

/** One listed entry with its printed line. */
export interface CiliumCtHit {
  readonly entry: CiliumCtEntry;
  readonly line: string;
}

export interface CiliumView {
  readonly snapshot: CiliumCtSnapshot | undefined;
  /** Capture time and source of the snapshot (for evidence and the time left now). */
  readonly t: number;
  readonly src: string;
  readonly settings: CiliumCtSettings | undefined;
  readonly settingsT: number;
  readonly settingsSrc: string;
  /** Entries by `proto a:port b:port` with the two endpoints in sorted order. */
  readonly byTuple: ReadonlyMap<string, CiliumCtHit[]>;
}

const MEMO = new WeakMap<PathContext, CiliumView | null>();

const ep = ciliumEndpoint;

/** The index key of a tuple, the same whichever side is named first. */
export function ciliumTupleKey(proto: string, a: Endpoint, b: Endpoint): string {
  const x = ep(a.addr, a.port);
  const y = ep(b.addr, b.port);
  return `${proto.toLowerCase()} ${x < y ? `${x} ${y}` : `${y} ${x}`}`;
}

/** The Cilium view of the input, or undefined when it has neither a CT listing nor a config. */
export function ciliumView(ctx: PathContext): CiliumView | undefined {
  const hit = MEMO.get(ctx);
  if (hit !== undefined) return hit ?? undefined;
  const ct = ctx.table.meta('cilium-ct');
  const cfg = ctx.table.meta('cilium-config');
  const snapshot = asCiliumCtSnapshot(ct?.value);
  const settings = asCiliumCtSettings(cfg?.value);
  if (!snapshot && !settings) {
    MEMO.set(ctx, null);
    return undefined;
  }
  const byTuple = new Map<string, CiliumCtHit[]>();
  if (snapshot) {
    snapshot.entries.forEach((entry, i) => {
      if (entry.related) return;
      const k = ciliumTupleKey(
        entry.proto,
        { addr: entry.src, port: entry.sport },
        { addr: entry.dst, port: entry.dport },
      );
      const list = byTuple.get(k);
      const h = { entry, line: snapshot.lines[i] ?? '' };
      if (list) list.push(h);
      else byTuple.set(k, [h]);
    });
  }
  const view: CiliumView = {
    snapshot,
    t: ct?.t ?? 0,
    src: ct?.src ?? 'cilium:ct',
    settings,
    settingsT: cfg?.t ?? 0,
    settingsSrc: cfg?.src ?? 'cilium:config',
    byTuple,
  };
  MEMO.set(ctx, view);
  return view;
}

/** The entries of a flow (client to target, and to its backend when NAT'ed): the one with least time left first. */
export function ciliumEntriesOf(ctx: PathContext, f: Flow): CiliumCtHit[] {
  const v = ciliumView(ctx);
  if (!v || v.byTuple.size === 0) return [];
  const t = ctx.table;
  const c = t.client(f);
  const out = [...(v.byTuple.get(ciliumTupleKey(f.proto, c, t.target(f))) ?? [])];
  const b = t.backend(f);
  if (b) out.push(...(v.byTuple.get(ciliumTupleKey(f.proto, c, b)) ?? []));
  return out.sort(
    (x, y) =>
      (x.entry.remainingSec ?? Infinity) - (y.entry.remainingSec ?? Infinity) ||
      x.entry.expires - y.entry.expires,
  );
}

/** The timeout the agent re-arms an entry of this kind with: the config's value, else the flag default. */
export function ciliumTimeoutInForce(v: CiliumView, key: CiliumCtTimeoutKey): Sourced {
  const set = v.settings?.timeouts[key];
  if (set)
    return {
      value: set.value,
      source: set.source,
      evidence: evidence(v.settingsT, v.settingsSrc, `${key}=${set.value}s`),
    };
  const d = CILIUM_CT_DEFAULTS[key];
  const old = key === 'bpf-ct-timeout-regular-tcp' || key === 'bpf-ct-timeout-service-tcp';
  return {
    value: d,
    source: v.settings
      ? `${key} not set in ${v.settings.from}: the agent's default ${d} s${old ? ` (${CILIUM_CT_TCP_OLD_DEFAULT} s before Cilium 1.15)` : ''}`
      : `no cilium-config given: the agent's default ${key} ${d} s${old ? ` (${CILIUM_CT_TCP_OLD_DEFAULT} s before Cilium 1.15)` : ''}`,
  };
}

/** How long after expiry the agent's GC may still take to delete an entry, in words and the upper bound. */
export function ciliumGcSlack(v: CiliumView): { maxSec: number; text: string } {
  const gc = v.settings?.gcIntervalSec;
  if (gc && gc.value > 0) return { maxSec: gc.value, text: `up to one GC interval (${gc.source})` };
  const setMax = v.settings?.gcMaxIntervalSec?.value;
  // conntrack-gc-max-interval 0 (its default) leaves the built-in 12 h bound.
  const max = setMax !== undefined && setMax > 0 ? setMax : CILIUM_GC_MAX_LRU_SEC;
  return {
    maxSec: max,
    text: `up to one GC interval (dynamic: ${CILIUM_GC_MIN_SEC} s to ${max} s)`,
  };
}

/** The timeout of this entry and its evidence. */
export function ciliumEntryTimeout(
  v: CiliumView,
  e: CiliumCtEntry,
): Sourced & { key: CiliumCtTimeoutKey } {
  const key = ciliumTimeoutKey(e);
  return { ...ciliumTimeoutInForce(v, key), key };
}

/** Evidence quoting a listed entry. */
export function ciliumEntryEvidence(v: CiliumView, h: CiliumCtHit, note?: string): Evidence {
  return evidence(v.t, v.src, h.line, note);
}

/** The numbers both pathTimeouts and screenPath race with for a flow's Cilium layer. */
export interface CiliumNumbers {
  /** The timeout the entry re-arms to. */
  readonly timeoutSec: number;
  readonly timeout: Sourced & { key: CiliumCtTimeoutKey };
  /** Seconds left now from the listing's `remaining`, or null (no `-d`, or no entry). */
  readonly leftSec: number | null;
  /** When the listing was taken (-1 without one): activity after it makes the reading old. */
  readonly readT: number;
  /** The last packet the entry's timer implies (ms), if it does. */
  readonly activity?: number;
  readonly hit?: CiliumCtHit;
  readonly view: CiliumView;
}

/**
 * A flow's Cilium layer: its listed entry with the least time left, else (a config and no listing)
 * the timeout its kind of flow gets. Undefined when Cilium does not apply or the listing lacks it.
 */
export function ciliumNumbers(ctx: PathContext, f: Flow): CiliumNumbers | undefined {
  const v = ciliumView(ctx);
  if (!v) return undefined;
  if (f.proto !== 'tcp' && f.proto !== 'udp') return undefined;
  if (v.snapshot) {
    const h = ciliumEntriesOf(ctx, f)[0];
    if (!h) return undefined;
    const timeout = ciliumEntryTimeout(v, h.entry);
    const rem = h.entry.remainingSec;
    const leftSec = rem === undefined ? null : rem - (ctx.now - v.t) / 1000;
    const activity =
      rem !== undefined && rem <= timeout.value ? v.t - (timeout.value - rem) * 1000 : undefined;
    return {
      timeoutSec: timeout.value,
      timeout,
      leftSec,
      readT: v.t,
      ...(activity !== undefined ? { activity } : {}),
      hit: h,
      view: v,
    };
  }
  const key: CiliumCtTimeoutKey =
    f.proto === 'udp'
      ? f.natted
        ? 'bpf-ct-timeout-service-any'
        : 'bpf-ct-timeout-regular-any'
      : f.natted
        ? 'bpf-ct-timeout-service-tcp'
        : 'bpf-ct-timeout-regular-tcp';
  const timeout = { ...ciliumTimeoutInForce(v, key), key };
  return { timeoutSec: timeout.value, timeout, leftSec: null, readT: -1, view: v };
}
