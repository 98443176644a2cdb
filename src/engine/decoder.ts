// The decoder, RawRecords → Observations: frames snapshots, picks the parser by source kind, and maps every
// parse issue back to the file and line it came from. Pure apart from calling its sink.
import type { ConntrackEventLineSource } from '../model/conntrack.js';
import type { Observation, SnapshotWhat } from '../model/observation.js';
import type { KubeProxySettings } from '../model/kube-proxy.js';
import { parseConntrackEntryLine } from '../parse/conntrack-entry.js';
import { parseConntrackEventLine } from '../parse/conntrack-events.js';
import { parseConntrackStats } from '../parse/conntrack-stats.js';
import { parseIpvsConnLine } from '../parse/ipvsadm-conns.js';
import { parseIpvsServices } from '../parse/ipvsadm-services.js';
import { parseIpvsStats } from '../parse/ipvsadm-stats.js';
import { parseIpvsTimeout } from '../parse/ipvsadm-timeout.js';
import { parseIptablesSave } from '../parse/iptables-save.js';
import { parseNftRuleset } from '../parse/nft-ruleset.js';
import { parseKubeProxyArgs, resolveKubeProxy } from '../parse/kube-proxy-args.js';
import { parseKubeProxyConfig } from '../parse/kube-proxy-config.js';
import { lostEventCount } from '../parse/lost-events.js';
import { parseProcConntrackStat } from '../parse/proc-conntrack-stat.js';
import { clip, type LineOutcome, type ParseIssue, type ParseResult } from '../parse/result.js';
import { parseSs } from '../parse/ss.js';
import { parseSysctl, SYSCTL_INFO_CODES } from '../parse/sysctl.js';
import {
  sourceKind,
  sourceScope,
  type LocatedRecord,
  type RawRecord,
  type RecordKind,
} from './raw-record.js';
import { createProbeRecordReader, type ProbeRecordReader } from './probe-records.js';
import { netnsLabel } from '../model/netns-label.js';
import { CALICO_CT_META, CALICO_FELIX_META } from '../model/calico.js';
import { OVS_CT_META, ovsConntrackObservations } from '../model/ovs.js';
import { parseCalicoDump } from '../parse/calico-conntrack.js';
import { parseFelixConfig } from '../parse/calico-felix-config.js';
import { parseOvsDump } from '../parse/ovs-conntrack.js';
import { parseCiliumConfig } from '../parse/cilium-config.js';
import { parseCiliumCt } from '../parse/cilium-ct.js';
import { parseKubeProxyMetrics, parseProxyModeAnswer } from '../parse/kube-proxy-metrics.js';

/** What one source gave: records, parse issues, its first stderr lines, and the events it said it lost. */
export interface SourceStats {
  records: number;
  issues: number;
  stderr: string[];
  /** Events lost, as its stderr and probe status lines counted them (see lostEventCount). */
  lost: number;
}

export interface DecodeIssue extends ParseIssue {
  readonly file: string;
  readonly src: string;
}

interface SrcInfo {
  readonly kind: string;
  readonly scope: string | undefined;
  readonly handler: Handler | undefined;
  readonly stats: SourceStats;
  /** A `bpftrace:` source. */
  readonly probe: boolean;
  /** Its open snapshot (the same object as in Decoder.open). */
  open: OpenSnapshot | undefined;
  /** Its probe reader, once made; null for a probe source that names no known probe. */
  reader: ProbeRecordReader | null | undefined;
}

interface OpenSnapshot {
  readonly handler: Handler;
  readonly ctx: Ctx;
  readonly lines: string[];
  readonly lineNos: number[];
  readonly file: string;
  row?: RowParser;
  /** Lines seen past the decoder's per-snapshot limit, and the first of them: the snapshot is refused. */
  over?: { count: number; firstLine: number };
}

/**
 * Lines one document snapshot (ss, sysctl, iptables-save …) may hold. A document is parsed whole,
 * so its memory grows with it; past this the snapshot is refused with one issue instead, which
 * keeps memory bounded whatever the input (docs/limits.md has the measured cost).
 */
export const MAX_SNAPSHOT_LINES = 500_000;

/** Kinds whose documents cost more per line: ss keeps a socket and its flow per line (~2 KB each). */
const SNAPSHOT_LINE_LIMITS: Readonly<Record<string, number>> = { 'ss:sockets': 250_000 };

/** The line limit of one snapshot of `kind`, never above the decoder's own `max`. */
export function snapshotLineLimit(kind: string, max = MAX_SNAPSHOT_LINES): number {
  return Math.min(max, SNAPSHOT_LINE_LIMITS[kind] ?? MAX_SNAPSHOT_LINES);
}

type RowParser = (line: string) => LineOutcome<Observation | Observation[]>;
type DocParser = (text: string) => ParseResult<Observation[]>;

interface Ctx {
  readonly t: number;
  readonly src: string;
  readonly scope: string | undefined;
}

interface Handler {
  readonly snapshot?: SnapshotWhat;
  readonly row?: (ctx: Ctx) => RowParser;
  readonly doc?: (ctx: Ctx) => DocParser;
  /** Same as `row`, for the hot formats (see fastRows). */
  readonly fast?: FastRow;
}

// Four literal shapes instead of conditional spreads: spreading builds each object on V8's slow path,
// which cost more than parsing the row on a 10^5-entry snapshot (node --cpu-prof, bench/).
function base(ctx: Ctx, raw?: string): { t: number; src: string; scope?: string; raw?: string } {
  if (ctx.scope === undefined)
    return raw === undefined ? { t: ctx.t, src: ctx.src } : { t: ctx.t, src: ctx.src, raw };
  return raw === undefined
    ? { t: ctx.t, src: ctx.src, scope: ctx.scope }
    : { t: ctx.t, src: ctx.src, scope: ctx.scope, raw };
}

/** Sinks the row's observation; returns the outcome only when it is an issue. */
type RowIssue = Extract<LineOutcome<never>, { kind: 'issue' }>;
type FastRow = (
  t: number,
  src: string,
  scope: string | undefined,
  line: string,
  sink: (o: Observation) => void,
) => RowIssue | undefined;

/** A row handler without a closure, a context or an outcome wrapper per line, for the formats that come by the 10^5. */
function fastRows<T>(
  parse: (line: string) => LineOutcome<T>,
  make: (t: number, src: string, scope: string | undefined, line: string, v: T) => Observation,
): FastRow {
  return (t, src, scope, line, sink) => {
    const out = parse(line);
    if (out.kind === 'row') {
      sink(make(t, src, scope, line, out.value));
      return undefined;
    }
    return out.kind === 'issue' ? out : undefined;
  };
}

function mapRow<T>(out: LineOutcome<T>, f: (v: T) => Observation): LineOutcome<Observation> {
  return out.kind === 'row' ? { kind: 'row', value: f(out.value) } : out;
}

function mapDoc<T>(r: ParseResult<T>, f: (v: T) => Observation[]): ParseResult<Observation[]> {
  return { value: f(r.value), issues: r.issues };
}

const conntrackRows: Handler = {
  snapshot: 'conntrack',
  row: (ctx) => (line) =>
    mapRow(parseConntrackEntryLine(line), (entry) => ({
      ...base(ctx, line),
      kind: 'conntrack-entry',
      entry,
    })),
  fast: fastRows(parseConntrackEntryLine, (t, src, scope, line, entry): Observation =>
    scope === undefined
      ? { t, src, raw: line, kind: 'conntrack-entry', entry }
      : { t, src, scope, raw: line, kind: 'conntrack-entry', entry },
  ),
};

/** How the model gets back a conntrack event from the line it kept instead (stateless: one for all sources). */
const CONNTRACK_EVENT_LINES: ConntrackEventLineSource = {
  reparse(line) {
    const out = parseConntrackEventLine(line);
    return out.kind === 'row' ? out.value : undefined;
  },
};

/** The parser and framing of each source kind. */
const HANDLERS: Record<string, Handler> = {
  'conntrack:list': conntrackRows,
  'procfs:nf_conntrack': conntrackRows,
  'conntrack:events': {
    row: (ctx) => (line) =>
      mapRow(parseConntrackEventLine(line), (event) => ({
        ...base(ctx, line),
        kind: 'conntrack-event',
        event,
        reparse: CONNTRACK_EVENT_LINES,
      })),
    fast: fastRows(parseConntrackEventLine, (t, src, scope, line, event): Observation =>
      scope === undefined
        ? { t, src, raw: line, kind: 'conntrack-event', event, reparse: CONNTRACK_EVENT_LINES }
        : {
            t,
            src,
            scope,
            raw: line,
            kind: 'conntrack-event',
            event,
            reparse: CONNTRACK_EVENT_LINES,
          },
    ),
  },
  'conntrack:stats': {
    doc: (ctx) => (text) =>
      mapDoc(parseConntrackStats(text), (cpus) => [
        { ...base(ctx), kind: 'conntrack-stats', cpus },
      ]),
  },
  'procfs:stat_nf_conntrack': {
    doc: (ctx) => (text) =>
      mapDoc(parseProcConntrackStat(text), (cpus) => [
        { ...base(ctx), kind: 'conntrack-stats', cpus },
      ]),
  },
  'ipvsadm:services': {
    doc: (ctx) => (text) =>
      mapDoc(parseIpvsServices(text), (services) => [
        { ...base(ctx), kind: 'ipvs-services', services },
      ]),
  },
  'ipvsadm:conns': {
    snapshot: 'ipvs-conns',
    row: (ctx) => (line) =>
      mapRow(parseIpvsConnLine(line), (conn) => ({ ...base(ctx, line), kind: 'ipvs-conn', conn })),
  },
  'procfs:ip_vs_conn': {
    snapshot: 'ipvs-conns',
    row: (ctx) => (line) =>
      mapRow(parseIpvsConnLine(line), (conn) => ({ ...base(ctx, line), kind: 'ipvs-conn', conn })),
  },
  'ipvsadm:timeout': {
    doc: (ctx) => (text) =>
      mapDoc(parseIpvsTimeout(text), (timeouts) =>
        timeouts ? [{ ...base(ctx, text.trim()), kind: 'ipvs-timeouts', timeouts }] : [],
      ),
  },
  'ipvsadm:stats': {
    doc: (ctx) => (text) =>
      mapDoc(parseIpvsStats(text), (rows) => [{ ...base(ctx), kind: 'ipvs-stats', rows }]),
  },
  'sysctl:all': {
    doc: (ctx) => (text) =>
      mapDoc(parseSysctl(text), (values) => [{ ...base(ctx), kind: 'sysctls', values }]),
  },
  'ss:sockets': {
    doc: (ctx) => (text) =>
      mapDoc(parseSs(text), (sockets) => [
        { ...base(ctx), kind: 'snapshot-begin', what: 'sockets' },
        ...sockets.map((s): Observation => ({
          ...base(ctx),
          kind: 'socket',
          socket: ctx.scope === undefined ? s : { ...s, netns: ctx.scope },
        })),
        { ...base(ctx), kind: 'snapshot-end', what: 'sockets' },
      ]),
  },
  'iptables:save': {
    doc: (ctx) => (text) =>
      mapDoc(parseIptablesSave(text), (ruleset) => [{ ...base(ctx), kind: 'iptables', ruleset }]),
  },
  'ip6tables:save': {
    doc: (ctx) => (text) =>
      mapDoc(parseIptablesSave(text), (ruleset) => [{ ...base(ctx), kind: 'iptables', ruleset }]),
  },
  // nftables mode: the same facts as iptables-save (the tables themselves stay in the parser's result)
  'nft:ruleset': {
    doc: (ctx) => (text) =>
      mapDoc(parseNftRuleset(text), ({ tables: _tables, ...ruleset }) => [
        { ...base(ctx), kind: 'iptables', ruleset },
      ]),
  },
  // Calico eBPF data plane (issue 22): the dump and the FelixConfiguration are kept whole (meta).
  'calico:conntrack': {
    doc: (ctx) => (text) =>
      mapDoc(parseCalicoDump(text), (value) => [
        { ...base(ctx), kind: 'meta', key: CALICO_CT_META, value },
      ]),
  },
  'calico:felixconfig': {
    doc: (ctx) => (text) =>
      mapDoc(parseFelixConfig(text), (value) =>
        value ? [{ ...base(ctx), kind: 'meta', key: CALICO_FELIX_META, value }] : [],
      ),
  },
  // OVS (Antrea, OVN-Kubernetes): the kernel datapath's conntrack entries, in zones.
  'ovs:conntrack': {
    doc: (ctx) => (text) =>
      mapDoc(parseOvsDump(text), (value) => [
        { ...base(ctx), kind: 'meta', key: OVS_CT_META, value },
        ...ovsConntrackObservations(value, base(ctx)),
      ]),
  },
  // Cilium's BPF conntrack and its timeouts reach the table as metas (analysis/path/cilium-context.ts)
  'cilium:ct': {
    doc: (ctx) => (text) =>
      mapDoc(parseCiliumCt(text), (value) => [
        { ...base(ctx), kind: 'meta', key: 'cilium-ct', value },
      ]),
  },
  'cilium:config': {
    doc: (ctx) => (text) =>
      mapDoc(parseCiliumConfig(text), (value) => [
        { ...base(ctx), kind: 'meta', key: 'cilium-config', value },
      ]),
  },
  'kube-proxy:metrics': {
    doc: (ctx) => (text) =>
      mapDoc(parseKubeProxyMetrics(text), (m) =>
        m.samples === 0
          ? []
          : [
              { ...base(ctx), kind: 'meta', key: 'kube-proxy-metrics', value: m },
              ...(m.version === undefined
                ? []
                : [
                    {
                      ...base(ctx),
                      kind: 'meta' as const,
                      key: 'kube-proxy-version',
                      value: m.version,
                    },
                  ]),
            ],
      ),
  },
  'kube-proxy:proxymode': {
    doc: (ctx) => (text) => {
      const mode = parseProxyModeAnswer(text);
      return {
        value:
          mode === undefined
            ? []
            : [{ ...base(ctx, mode), kind: 'meta', key: 'proxy-mode', value: mode }],
        issues:
          mode === undefined && text.trim() !== ''
            ? [
                {
                  line: 1,
                  code: 'kube-proxy.bad-proxymode',
                  message: 'not a proxy mode',
                  text: text.slice(0, 80),
                },
              ]
            : [],
      };
    },
  },
};

const INFO_CODES: ReadonlySet<string> = SYSCTL_INFO_CODES;

/** Turns located raw records into observations for the model, collecting parse issues. */
export class Decoder {
  readonly issues: DecodeIssue[] = [];
  issueCount = 0;
  /** Things that are not parse failures (unreadable sysctl keys): counted apart. */
  readonly infos: DecodeIssue[] = [];
  infoCount = 0;
  records = 0;
  readonly perSource = new Map<string, SourceStats>();

  /** What each source id means, worked out once: kind, scope, handler and its counters. */
  private readonly srcInfo = new Map<string, SrcInfo>();
  private readonly open = new Map<string, OpenSnapshot>();
  private kubeArgs: ReturnType<typeof parseKubeProxyArgs> | undefined;
  private kubeConfig: ParseResult<KubeProxySettings> | undefined;
  private readonly warnedUnknown = new Set<string>();

  constructor(
    private readonly sink: (o: Observation) => void,
    private readonly maxStoredIssues = 1000,
    private readonly maxSnapshotLines = MAX_SNAPSHOT_LINES,
  ) {}

  private stats(src: string) {
    let s = this.perSource.get(src);
    if (!s) {
      s = { records: 0, issues: 0, stderr: [], lost: 0 };
      this.perSource.set(src, s);
    }
    return s;
  }

  private issue(file: string, src: string, i: ParseIssue): void {
    if (i.severity === 'info' || INFO_CODES.has(i.code)) {
      this.infoCount++;
      if (this.infos.length < 50) this.infos.push({ ...i, file, src, severity: 'info' });
      return;
    }
    this.issueCount++;
    this.stats(src).issues++;
    if (this.issues.length < this.maxStoredIssues) this.issues.push({ ...i, file, src });
  }

  /** A tool's stderr line: kept among the source's first 20, and read for lost events (their count returned). */
  private stderrLine(st: SourceStats, line: string): number {
    if (st.stderr.length < 20) st.stderr.push(clip(line));
    const lost = lostEventCount(line);
    st.lost += lost;
    return lost;
  }

  private emit(out: Observation | Observation[]): void {
    if (Array.isArray(out)) for (const o of out) this.sink(o);
    else this.sink(out);
  }

  /** Feeds one record. */
  push(lr: LocatedRecord): void {
    const { rec } = lr;
    this.pushRecord(rec.t, rec.src, rec.line, rec.k, lr.file, lr.line);
  }

  /** Feeds one record given by its parts (no LocatedRecord to build: the replay's fast path). */
  pushRecord(
    t: number,
    src: string,
    line: string,
    k: RecordKind | undefined,
    file: string,
    lineNo: number,
  ): void {
    this.records++;
    let info = this.srcInfo.get(src);
    if (info === undefined) info = this.newSrcInfo(src);
    const st = info.stats;
    st.records++;
    // The hot path: a row of an open snapshot (conntrack table) or a streamed event line.
    const fast = info.handler?.fast;
    if (fast !== undefined && k === undefined) {
      const o = info.open;
      // Rows of an open snapshot carry the snapshot's time, streamed rows their own.
      const out =
        o !== undefined
          ? fast(o.ctx.t, src, o.ctx.scope, line, this.sink)
          : fast(t, src, info.scope, line, this.sink);
      if (out !== undefined)
        this.issue(file, src, {
          line: lineNo,
          code: out.code,
          message: out.message,
          text: clip(line),
        });
      return;
    }
    if (info.probe) return this.pushProbe(info, t, src, line, k, file, lineNo);
    const rec: RawRecord = k === undefined ? { t, src, line } : { t, src, line, k };
    const lr: LocatedRecord = { rec, file, line: lineNo };
    const kind = info.kind;
    const ctx: Ctx = { t, src, scope: info.scope };
    if (rec.k === 'err') {
      if (this.stderrLine(st, rec.line) > 0)
        this.sink({ ...base(ctx, rec.line), kind: 'meta', key: 'lost-events', value: rec.line });
      return;
    }
    if (kind === 'kube-proxy:config' || kind === 'kube-proxy:args')
      return this.pushKubeProxy(lr, ctx, kind);
    if (kind === 'kdiag:owners') return this.pushOwners(lr, ctx);
    if (kind === 'kdiag:meta') {
      if (rec.k) return;
      try {
        const v = JSON.parse(rec.line) as { key?: unknown; value?: unknown };
        if (typeof v.key === 'string')
          this.sink({ ...base(ctx, rec.line), kind: 'meta', key: v.key, value: v.value });
        else
          this.issue(lr.file, rec.src, {
            line: lr.line,
            code: 'meta.bad-line',
            message: 'expected {"key":…,"value":…}',
            text: clip(rec.line),
          });
      } catch {
        this.issue(lr.file, rec.src, {
          line: lr.line,
          code: 'meta.not-json',
          message: 'not JSON',
          text: clip(rec.line),
        });
      }
      return;
    }
    const handler = info.handler;
    if (!handler) {
      if (!this.warnedUnknown.has(kind)) {
        this.warnedUnknown.add(kind);
        this.issue(lr.file, rec.src, {
          line: lr.line,
          code: 'source.unknown',
          message: `unknown source kind "${kind}"; its records are ignored`,
        });
      }
      return;
    }
    // A stream (conntrack -E) frames each run of its tool, but its lines are events with their own time.
    if (rec.k && !handler.snapshot && !handler.doc) return;
    if (rec.k === 'begin') {
      this.close(rec.src);
      this.setOpen(rec.src, { handler, ctx, lines: [], lineNos: [], file: lr.file });
      if (handler.snapshot)
        this.sink({ ...base(ctx), kind: 'snapshot-begin', what: handler.snapshot });
      return;
    }
    if (rec.k === 'end') {
      this.close(rec.src);
      return;
    }
    const o = this.open.get(rec.src);
    if (handler.row) {
      // Rows of an open snapshot carry the snapshot's time, streamed rows their own.
      const parse = o ? (o.row ??= handler.row(o.ctx)) : handler.row(ctx);
      const out = parse(rec.line);
      if (out.kind === 'row') this.emit(out.value);
      else if (out.kind === 'issue')
        this.issue(lr.file, rec.src, {
          line: lr.line,
          code: out.code,
          message: out.message,
          text: clip(rec.line),
        });
      return;
    }
    if (o?.over) o.over.count++;
    else if (o && o.lines.length >= snapshotLineLimit(sourceKind(rec.src), this.maxSnapshotLines)) {
      o.over = { count: o.lines.length + 1, firstLine: o.lineNos[0] ?? lr.line };
      o.lines.length = 0;
      o.lineNos.length = 0;
    } else if (o) {
      o.lines.push(rec.line);
      o.lineNos.push(lr.line);
    } else {
      // A document line outside a snapshot: treat the line as a document of its own.
      this.runDoc(handler, ctx, [rec.line], [lr.line], lr.file);
    }
  }

  private newSrcInfo(src: string): SrcInfo {
    const k = sourceKind(src);
    const info: SrcInfo = {
      kind: k,
      scope: sourceScope(src),
      handler: HANDLERS[k],
      stats: this.stats(src),
      probe: k.startsWith('bpftrace:'),
      open: undefined,
      reader: undefined,
    };
    this.srcInfo.set(src, info);
    return info;
  }

  /** Opens (or, with undefined, closes) the snapshot of a source: the map keeps the order, the SrcInfo a shortcut. */
  private setOpen(src: string, o: OpenSnapshot | undefined): void {
    if (o === undefined) this.open.delete(src);
    else this.open.set(src, o);
    const info = this.srcInfo.get(src) ?? this.newSrcInfo(src);
    info.open = o;
  }

  private runDoc(
    handler: Handler,
    ctx: Ctx,
    lines: string[],
    lineNos: number[],
    file: string,
  ): void {
    if (!handler.doc) return;
    const r = handler.doc(ctx)(lines.join('\n'));
    for (const i of r.issues)
      this.issue(file, ctx.src, {
        ...i,
        line: lineNos[i.line - 1] ?? lineNos[lineNos.length - 1] ?? i.line,
      });
    this.emit(r.value);
  }

  private close(src: string): void {
    const o = this.open.get(src);
    if (!o) return;
    this.setOpen(src, undefined);
    if (o.over)
      this.issue(o.file, src, {
        line: o.over.firstLine,
        code: 'snapshot.too-large',
        message: `${sourceKind(src)} snapshot of ${o.over.count} lines is over kdiag's limit of ${snapshotLineLimit(sourceKind(src), this.maxSnapshotLines)} lines for one snapshot: not read`,
      });
    else if (o.handler.doc) this.runDoc(o.handler, o.ctx, o.lines, o.lineNos, o.file);
    if (o.handler.snapshot)
      this.sink({ ...base(o.ctx), kind: 'snapshot-end', what: o.handler.snapshot });
  }

  private pushKubeProxy(lr: LocatedRecord, ctx: Ctx, kind: string): void {
    const { rec } = lr;
    if (rec.k === 'begin') {
      this.setOpen(rec.src, { handler: {}, ctx, lines: [], lineNos: [], file: lr.file });
      return;
    }
    const o = this.open.get(rec.src);
    if (rec.k !== 'end') {
      if (o) {
        o.lines.push(rec.line);
        o.lineNos.push(lr.line);
      } else {
        this.setOpen(rec.src, {
          handler: {},
          ctx,
          lines: [rec.line],
          lineNos: [lr.line],
          file: lr.file,
        });
      }
      return;
    }
    this.finishKubeProxy(rec.src, kind);
  }

  private finishKubeProxy(src: string, kind: string): void {
    const o = this.open.get(src);
    if (!o) return;
    this.setOpen(src, undefined);
    const text = o.lines.join('\n');
    const r = kind === 'kube-proxy:args' ? parseKubeProxyArgs(text) : parseKubeProxyConfig(text);
    for (const i of r.issues)
      this.issue(o.file, src, { ...i, line: o.lineNos[i.line - 1] ?? i.line });
    if (kind === 'kube-proxy:args') this.kubeArgs = r as ReturnType<typeof parseKubeProxyArgs>;
    else this.kubeConfig = r as ParseResult<KubeProxySettings>;
    const settings = resolveKubeProxy(this.kubeArgs, this.kubeConfig);
    this.sink({ ...base(o.ctx), kind: 'kube-proxy', settings });
  }

  private pushProbe(
    info: SrcInfo,
    t: number,
    src: string,
    line: string,
    k: RecordKind | undefined,
    file: string,
    lineNo: number,
  ): void {
    let reader = info.reader;
    if (reader === undefined) reader = info.reader = createProbeRecordReader(src) ?? null;
    if (reader === null) {
      if (!this.warnedUnknown.has(src)) {
        this.warnedUnknown.add(src);
        this.issue(file, src, {
          line: lineNo,
          code: 'probe.unknown',
          message: `no probe named by source "${src}"; its records are ignored`,
        });
      }
      return;
    }
    if (k === 'err') this.stderrLine(info.stats, line);
    const out = reader.readLine(line, k);
    if (out.kind === 'row') {
      // literal shapes, as base() builds them: a spread per probe event was on V8's slow path (bench/)
      const event = out.value;
      if (event.kind === 'probe-status' && event.status === 'lost')
        info.stats.lost += event.count ?? 1;
      const scope = info.scope;
      if (scope === undefined)
        this.sink(
          k
            ? { t, src, kind: 'probe', event }
            : { t, src, raw: line, kind: 'probe', event, reparse: reader.source() },
        );
      else
        this.sink(
          k
            ? { t, src, scope, kind: 'probe', event }
            : { t, src, scope, raw: line, kind: 'probe', event, reparse: reader.source() },
        );
    } else if (out.kind === 'issue')
      this.issue(file, src, {
        line: lineNo,
        code: out.code,
        message: out.message,
        text: clip(line),
      });
  }

  private ownerLines: { ctx: Ctx; items: unknown[] } | undefined;

  private pushOwners(lr: LocatedRecord, ctx: Ctx): void {
    const { rec } = lr;
    if (rec.k === 'begin') {
      this.ownerLines = { ctx, items: [] };
      return;
    }
    if (rec.k === 'end') return this.flushOwners();
    if (rec.k === 'err') return;
    try {
      const v = JSON.parse(rec.line) as unknown;
      if (typeof v !== 'object' || v === null) throw new Error('not an object');
      (this.ownerLines ??= { ctx, items: [] }).items.push(v);
    } catch {
      this.issue(lr.file, rec.src, {
        line: lr.line,
        code: 'owners.not-json',
        message: 'not a JSON object',
        text: clip(rec.line),
      });
    }
  }

  /** Owner lines become `owner` metas, and each non-host netns a `netns-label` (inode → scope). */
  private flushOwners(): void {
    const o = this.ownerLines;
    this.ownerLines = undefined;
    if (!o) return;
    const pods = new Map<string, { namespace?: string; name?: string }>();
    for (const it of o.items as {
      type?: string;
      uid?: string;
      namespace?: string;
      name?: string;
    }[]) {
      if (it.type === 'pod' && typeof it.uid === 'string') pods.set(it.uid, it);
    }
    for (const it of o.items) {
      this.sink({ ...base(o.ctx), kind: 'meta', key: 'owner', value: it });
      const n = it as {
        type?: string;
        ino?: unknown;
        names?: unknown;
        host?: unknown;
        pods?: unknown;
      };
      if (n.type !== 'netns' || typeof n.ino !== 'number' || n.host === true) continue;
      const names = Array.isArray(n.names)
        ? n.names.filter((x): x is string => typeof x === 'string')
        : [];
      const podUid = Array.isArray(n.pods) && typeof n.pods[0] === 'string' ? n.pods[0] : undefined;
      const scope = netnsLabel({
        ino: n.ino,
        names,
        pod: podUid === undefined ? undefined : { uid: podUid, ...pods.get(podUid) },
      });
      this.sink({
        ...base(o.ctx),
        kind: 'meta',
        key: 'netns-label',
        value: { inode: n.ino, scope },
      });
    }
  }

  /** Closes snapshots left open (a recording cut short) so what was read still counts. */
  finish(): void {
    this.flushOwners();
    for (const src of [...this.open.keys()]) {
      const kind = sourceKind(src);
      if (kind === 'kube-proxy:config' || kind === 'kube-proxy:args')
        this.finishKubeProxy(src, kind);
      else this.close(src);
    }
  }
}
