// The node's settings as last read, per network namespace (scope): sysctls with the values they
// took, conntrack statistics, iptables rulesets, kube-proxy and IPVS settings, meta values and the
// kernel log lines kdiag was given. Time comes from the observations.
import type { ConntrackCpuStats } from './conntrack.js';
import { mergeRulesets, type IptablesRuleset } from './iptables.js';
import type { IpvsService, IpvsStatsRow, IpvsTimeouts } from './ipvs.js';
import type { KubeProxySettings } from './kube-proxy.js';

export interface Stamped<T> {
  readonly value: T;
  readonly t: number;
  readonly src: string;
  readonly raw?: string;
}

/** One `conntrack -S` (or /proc/net/stat/nf_conntrack) reading, summed over CPUs. */
export interface StatsSample {
  readonly t: number;
  readonly src: string;
  readonly text: string;
  readonly counters: Readonly<Record<string, number>>;
  readonly entries?: number;
  /** CPU lines in the reading (possible CPUs). */
  readonly cpus: number;
}

const HOST = '';

/** The key of a scope in per-scope maps: the host netns is ''. */
export function scopeKey(scope: string | undefined): string {
  return scope ?? HOST;
}

function normSysctlKey(k: string): string {
  return k.trim().replace(/\//g, '.');
}

/** Node-wide and per-netns settings, as the FlowTable was told them. */
export class NodeSettings {
  private readonly sysctls = new Map<string, Map<string, Stamped<string>>>();
  /** Each value a sysctl took, stamped with its first reading, per scope and key (oldest first, bounded). */
  private readonly sysctlChanges = new Map<string, Stamped<string>[]>();
  private readonly stats = new Map<string, StatsSample[]>();
  private readonly rulesets = new Map<string, Stamped<IptablesRuleset>>();
  /** Each scope's rulesets by source (iptables-save, ip6tables-save, nft): `rulesets` holds their merge. */
  private readonly rulesetParts = new Map<string, Map<string, IptablesRuleset>>();
  private readonly metas = new Map<string, Stamped<unknown>>();
  private readonly netnsLabels = new Map<number, string>();
  kubeProxy: Stamped<KubeProxySettings> | undefined = undefined;
  ipvsTimeouts: Stamped<IpvsTimeouts> | undefined = undefined;
  ipvsServices: Stamped<readonly IpvsService[]> | undefined = undefined;
  ipvsStats: Stamped<readonly IpvsStatsRow[]> | undefined = undefined;
  /** Kernel log lines kdiag was given (meta `kernel-log`), newest last, bounded. */
  readonly kernelLog: Stamped<string>[] = [];

  /** `str` interns strings kept for long; `statsLength` is the conntrack -S samples kept per scope. */
  constructor(
    private readonly str: (s: string) => string,
    private readonly statsLength: number,
  ) {}

  /** Records a sysctl reading; `firstT` is the time of the table's first observation. */
  setSysctls(
    values: Readonly<Record<string, unknown>>,
    t: number,
    src: string,
    scope: string | undefined,
    firstT: number,
  ): void {
    const sk = scopeKey(scope);
    let m = this.sysctls.get(sk);
    if (!m) {
      m = new Map();
      this.sysctls.set(sk, m);
    }
    for (const [k, v] of Object.entries(values)) {
      const key = normSysctlKey(k);
      const value = String(v).trim();
      const prev = m.get(key);
      const stamped = { value, t, src: this.str(src) };
      if (prev && prev.value !== value) {
        // Keep what was in force before, so a finding can quote the value at the time of an event.
        const hk = `${sk}|${key}`;
        const ch = this.sysctlChanges.get(hk) ?? [
          { ...prev, t: Math.min(prev.t, firstT >= 0 ? firstT : prev.t) },
        ];
        ch.push(stamped);
        if (ch.length > 8) ch.shift();
        this.sysctlChanges.set(hk, ch);
      }
      m.set(key, stamped);
    }
  }

  /** A sysctl value as last read in a scope (undefined scope = the host netns). */
  sysctl(key: string, scope?: string): Stamped<string> | undefined {
    return this.sysctls.get(scopeKey(scope))?.get(normSysctlKey(key));
  }

  /**
   * The sysctl value last read at or before `t` (the reading in force then), else the earliest
   * reading kdiag has. A reading may lag a change by one snapshot interval.
   */
  sysctlAt(key: string, scope: string | undefined, t: number): Stamped<string> | undefined {
    const k = normSysctlKey(key);
    const cur = this.sysctls.get(scopeKey(scope))?.get(k);
    const ch = this.sysctlChanges.get(`${scopeKey(scope)}|${k}`);
    if (!cur || !ch) return cur;
    let best: Stamped<string> | undefined;
    for (const c of ch) if (c.t <= t) best = c;
    return best ?? ch[0];
  }

  /** Each value a sysctl took during the capture with its first reading, oldest first. */
  sysctlHistory(key: string, scope?: string): Stamped<string>[] {
    const k = normSysctlKey(key);
    const cur = this.sysctls.get(scopeKey(scope))?.get(k);
    const ch = this.sysctlChanges.get(`${scopeKey(scope)}|${k}`);
    return ch ? [...ch] : cur ? [cur] : [];
  }

  /** A numeric sysctl, or undefined when unknown or not a number. */
  sysctlNum(key: string, scope?: string): number | undefined {
    const v = this.sysctl(key, scope);
    if (!v) return undefined;
    const n = Number(v.value);
    return Number.isFinite(n) ? n : undefined;
  }

  /** Scopes that reported sysctls. */
  sysctlScopes(): string[] {
    return [...this.sysctls.keys()].map((s) => s);
  }

  statsHistory(scope?: string): readonly StatsSample[] {
    return this.stats.get(scopeKey(scope)) ?? [];
  }

  iptables(scope?: string): Stamped<IptablesRuleset> | undefined {
    return this.rulesets.get(scopeKey(scope));
  }

  meta(key: string): Stamped<unknown> | undefined {
    return this.metas.get(key);
  }

  /** Scope label for a probe event's netns inode, when the session told us (meta `netns-label`). */
  scopeOfNetns(inode: number): string | undefined {
    return this.netnsLabels.get(inode);
  }

  /** Adds a `conntrack -S` reading, summed over CPUs. */
  addStats(
    cpus: readonly ConntrackCpuStats[],
    t: number,
    src: string,
    scope: string | undefined,
    raw: string | undefined,
  ): void {
    const sum: Record<string, number> = {};
    let entries: number | undefined;
    for (const c of cpus) {
      for (const [k, v] of Object.entries(c.counters))
        if (Number.isFinite(v)) sum[k] = (sum[k] ?? 0) + v;
      if (c.entries !== undefined) entries = c.entries;
    }
    const text =
      raw ??
      `conntrack -S: ${['invalid', 'drop', 'early_drop', 'insert_failed']
        .filter((k) => sum[k] !== undefined)
        .map((k) => `${k}=${sum[k]}`)
        .join(' ')}${entries !== undefined ? ` entries=${entries}` : ''}`;
    const sk = scopeKey(scope);
    let h = this.stats.get(sk);
    if (!h) {
      h = [];
      this.stats.set(sk, h);
    }
    h.push(
      entries === undefined
        ? { t, src, text, counters: sum, cpus: cpus.length }
        : { t, src, text, counters: sum, entries, cpus: cpus.length },
    );
    if (h.length > this.statsLength) h.shift();
  }

  /** Records a meta value: a netns label, a kernel log line, or a value kept by key. */
  applyMeta(key: string, value: unknown, t: number, src: string, raw: string | undefined): void {
    if (key === 'netns-label' && value && typeof value === 'object') {
      const v = value as { inode?: unknown; scope?: unknown };
      if (typeof v.inode === 'number' && typeof v.scope === 'string')
        this.netnsLabels.set(v.inode, v.scope);
      return;
    }
    if (key === 'kernel-log' && typeof value === 'string') {
      this.kernelLog.push({ value, t, src, raw });
      if (this.kernelLog.length > 256) this.kernelLog.shift();
      return;
    }
    // kube-proxy's counters are judged by how they moved since the first scrape.
    if (key === 'kube-proxy-metrics' && !this.metas.has('kube-proxy-metrics-first'))
      this.metas.set('kube-proxy-metrics-first', { value, t, src });
    this.metas.set(key, raw === undefined ? { value, t, src } : { value, t, src, raw });
  }

  /** Records a scope's iptables ruleset. */
  setIptables(ruleset: IptablesRuleset, t: number, src: string, scope: string | undefined): void {
    const sk = scopeKey(scope);
    let parts = this.rulesetParts.get(sk);
    if (!parts) {
      parts = new Map();
      this.rulesetParts.set(sk, parts);
    }
    parts.set(src, ruleset);
    this.rulesets.set(sk, { value: mergeRulesets([...parts.values()]), t, src });
  }
}
