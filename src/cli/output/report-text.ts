// The plain-text report of an analysis (replay, check): fits 80 columns, wraps rather than cuts.
import { printable } from '../../model/printable.js';
import type { Diagnosis, Finding, FlowView, Suggestion } from '../../model/diagnosis.js';
import type { AnalysisResult } from '../../services/analyze-input.js';
import type { CaptureSummary } from '../../engine/summary.js';
import { fmtDuration, fmtTime, padEnd, wrap } from './text-layout.js';
import { renderInputs } from './report-inputs.js';
import { atRiskTotal } from './report-json.js';

const SEV: Record<string, string> = { critical: 'CRITICAL', warning: 'WARNING', info: 'INFO' };

function counts(rec: Record<string, number>, max = 4): string {
  const parts = Object.entries(rec)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([k, v]) => `${k} ${v}`);
  return parts.length > max ? `${parts.slice(0, max).join(', ')}, …` : parts.join(', ');
}

function section(out: string[], title: string): void {
  out.push('', title);
}

function row(out: string[], label: string, text: string, width: number): void {
  out.push(
    ...wrap(text, width, 14, 14).map((l, i) =>
      i === 0 ? `  ${padEnd(label, 11)} ${l.slice(14)}` : l,
    ),
  );
}

/**
 * Per-scope values as rows, one per distinct text: a node with many pods has as many network
 * namespaces, most with the same values. The host comes first, then the others by name.
 */
export function byScope<V>(
  values: Readonly<Record<string, V>>,
  text: (v: V) => string,
): [string, string][] {
  const groups = new Map<string, string[]>();
  const names = Object.keys(values).sort((a, b) =>
    a === 'host' ? -1 : b === 'host' ? 1 : a.localeCompare(b),
  );
  for (const sc of names) {
    const t = text(values[sc]!);
    const g = groups.get(t);
    if (g) g.push(sc);
    else groups.set(t, [sc]);
  }
  return [...groups].map(([t, scopes]) => [
    scopes.length <= 3
      ? scopes.join(', ')
      : `${scopes.slice(0, 2).join(', ')} and ${scopes.length - 2} more`,
    t,
  ]);
}

/** Describes the tables and timeouts a capture holds. */
export function renderSummary(s: CaptureSummary, width = 80): string[] {
  const out: string[] = [];
  section(out, 'Tables');
  const ct = s.conntrack;
  row(
    out,
    'conntrack',
    ct.entries || ct.snapshots
      ? `${ct.entries} entries${Object.keys(ct.byState).length ? ` (${counts(ct.byState)})` : ''}, ${ct.nat} NAT'ed, ${ct.unreplied} unreplied`
      : '–',
    width,
  );
  const ev = s.conntrackEvents;
  if (ev.NEW + ev.UPDATE + ev.DESTROY > 0)
    row(
      out,
      'ct events',
      `NEW ${ev.NEW}, UPDATE ${ev.UPDATE}, DESTROY ${ev.DESTROY} (${ev.expired} expired, ${ev.userspace} by userspace)`,
      width,
    );
  if (s.conntrackStats) {
    const st = s.conntrackStats;
    row(
      out,
      'ct stats',
      ['invalid', 'drop', 'early_drop', 'insert_failed', 'error']
        .filter((k) => st[k] !== undefined)
        .map((k) => `${k} ${st[k]}`)
        .join(', ') || '–',
      width,
    );
  }
  row(
    out,
    'ipvs',
    s.ipvs.services || s.ipvs.conns
      ? `${s.ipvs.services} services, ${s.ipvs.realServers} real servers, ${s.ipvs.conns} connections`
      : '–',
    width,
  );
  row(
    out,
    'sockets',
    s.sockets.sockets
      ? `${s.sockets.sockets} TCP sockets in ${s.sockets.scopes.length} namespace(s), ${s.sockets.keepaliveTimers} with a keepalive timer`
      : '–',
    width,
  );
  if (s.iptables)
    row(
      out,
      'iptables',
      `${s.iptables.rules} rules, ${s.iptables.services} Service ports, INVALID drop rule: ${s.iptables.invalidDropRules > 0 ? 'yes' : 'no'}${s.iptables.kubeProxyNftables ? ' (kube-proxy nftables table)' : s.iptables.kubeProxyChains ? '' : ' (no KUBE-* chains)'}`,
      width,
    );
  const probes = Object.keys(s.probes).length ? counts(s.probes, 6) : '';
  if (probes) row(out, 'probes', probes, width);

  section(out, 'Timeouts (idle seconds before a layer forgets a flow)');
  if (Object.keys(s.timeouts.conntrack).length === 0)
    row(out, 'conntrack', 'no sysctls in the capture (kernel defaults assumed)', width);
  const ctValues = byScope(s.timeouts.conntrack, (c) => {
    const parts = [
      'established',
      'close_wait',
      'fin_wait',
      'time_wait',
      'unacknowledged',
      'udp',
      'udp_stream',
    ]
      .filter((k) => c[k] !== undefined)
      .map((k) => `${k} ${c[k]}`);
    if (c.loose !== undefined) parts.push(`loose ${c.loose}`);
    if (c.be_liberal !== undefined) parts.push(`be_liberal ${c.be_liberal}`);
    if (c.max !== undefined) parts.push(`max ${c.max}`);
    return parts.join(', ') || '–';
  });
  for (const [scopes, text] of ctValues) row(out, 'conntrack', `${scopes}: ${text}`, width);
  const kaValues = byScope(
    s.timeouts.keepalive,
    (k) => `time ${k.time ?? '?'}, intvl ${k.intvl ?? '?'}, probes ${k.probes ?? '?'}`,
  );
  for (const [scopes, text] of kaValues)
    row(out, 'keepalive', `${scopes}: ${text} (only for sockets with SO_KEEPALIVE)`, width);
  if (s.timeouts.ipvs)
    row(
      out,
      'ipvs',
      `tcp ${s.timeouts.ipvs.tcp}, tcpfin ${s.timeouts.ipvs.tcpfin}, udp ${s.timeouts.ipvs.udp}`,
      width,
    );
  const kp = s.timeouts.kubeProxy;
  if (kp) {
    const ipvs =
      kp.mode === 'ipvs'
        ? `, ipvs tcp ${kp.ipvsTcpTimeout || 'kernel'} tcpfin ${kp.ipvsTcpFinTimeout || 'kernel'}`
        : '';
    row(
      out,
      'kube-proxy',
      `${kp.mode} mode; intends established ${kp.tcpEstablishedTimeout || 'kernel'}, close_wait ${kp.tcpCloseWaitTimeout || 'kernel'}${ipvs}${kp.ignoredFlags.length ? `; ignored flags: ${kp.ignoredFlags.join(' ')}` : ''}`,
      width,
    );
  }
  return out;
}

function flowLine(f: FlowView | undefined, id: string): string {
  if (!f) return id;
  const backend = f.backend ? ` -> ${f.backend.addr}:${f.backend.port}` : '';
  const owner = f.owner?.pod
    ? ` [${f.owner.pod.namespace}/${f.owner.pod.name}]`
    : f.owner?.process
      ? ` [${f.owner.process.comm}]`
      : '';
  return `${f.proto} ${f.client.addr}:${f.client.port} > ${f.target.addr}:${f.target.port}${backend}${owner}`;
}

/** Findings with their evidence chains. */
export function renderFindings(
  d: Diagnosis,
  width = 80,
  timeKnown = true,
  origin = 0,
  partial = false,
): string[] {
  const out: string[] = [];
  const flows = new Map(d.flows.map((f) => [f.id, f]));
  section(
    out,
    d.findings.length
      ? `Findings (${d.findings.length})`
      : partial
        ? 'Findings: none in what was read'
        : 'Findings: none',
  );
  for (const f of d.findings as Finding[]) {
    out.push('');
    out.push(
      ...wrap(
        `${SEV[f.severity] ?? f.severity} ${f.fm} ${f.title} (${f.rule}, ${f.confidence})`,
        width,
        4,
        2,
      ),
    );
    for (const id of f.flows.slice(0, 5))
      out.push(...wrap(flowLine(flows.get(id), id), width, 6, 4));
    if (f.flows.length > 5) out.push(`    … and ${f.flows.length - 5} more flows`);
    out.push(...wrap(f.cause, width, 4, 4));
    if (f.evidence.length) out.push('    evidence:');
    for (const e of f.evidence.slice(0, 8)) {
      out.push(
        ...wrap(
          `${fmtTime(e.t, timeKnown, origin)} ${e.src}: ${e.text}${e.note ? ` — ${e.note}` : ''}`,
          width,
          8,
          6,
        ),
      );
    }
    if (f.evidence.length > 8)
      out.push(`      … ${f.evidence.length - 8} more records (--json shows all)`);
    if (f.suggestions.length)
      out.push(...wrap(`fix: ${f.suggestions.join(', ')} (see Suggestions)`, width, 6, 4));
    else if (f.noFix) out.push(...wrap(`no fix: ${f.noFix}`, width, 6, 4));
  }
  return out;
}

/**
 * Flows that will break next: one line each while they fit, else grouped by who connects where
 * (owner pod/netns or client address → Service VIP:port, with its backends), keepalive and the
 * timeout they race: "312 flows from pod X to 10.96.0.20:5432, no keepalive, forgotten after 600 s
 * idle". `--json` keeps every flow.
 */
export function renderPredictions(d: Diagnosis, width = 80, limit = 10): string[] {
  const out: string[] = [];
  if (d.predictions.length === 0) return out;
  const flows = new Map(d.flows.map((f) => [f.id, f]));
  const total = atRiskTotal(d);
  section(out, `At risk, next to break (${total})`);
  const cut =
    total > d.predictions.length
      ? [
          `  … ${total - d.predictions.length} more not shown: kdiag keeps the ${d.predictions.length} most urgent`,
        ]
      : [];
  if (d.predictions.length > limit)
    return [...out, ...renderPredictionGroups(d, flows, width, limit), ...cut];
  for (const p of d.predictions) {
    const when = p.breaksInSec <= 0 ? 'now' : `in ${fmtDuration(p.breaksInSec)}`;
    out.push(
      ...wrap(
        `${padEnd(when, 9)} ${padEnd(p.layer, 9)} ${flowLine(flows.get(p.flow), p.flow)}`,
        width,
        22,
        2,
      ),
    );
    out.push(...wrap(p.cause, width, 22, 22));
  }
  return [...out, ...cut];
}

interface PredictionGroup {
  from: string;
  to: string;
  keepalive: string;
  layer: string;
  timeoutSec: number;
  count: number;
  soonestSec: number;
  backends: Set<string>;
}

function renderPredictionGroups(
  d: Diagnosis,
  flows: ReadonlyMap<string, FlowView>,
  width: number,
  limit: number,
): string[] {
  const groups = new Map<string, PredictionGroup>();
  for (const p of d.predictions) {
    const f = flows.get(p.flow);
    // A flow id is `proto client:port>target:port`: the client address and target stand in for a flow
    // the report did not list.
    const [proto = '', tuple = ''] = p.flow.split(' ');
    const [client = '', target = ''] = tuple.split('>');
    const from = f?.owner?.pod
      ? `pod ${f.owner.pod.namespace}/${f.owner.pod.name}`
      : f?.owner?.netns
        ? `netns ${f.owner.netns}`
        : f?.owner?.process
          ? `process ${f.owner.process.comm}`
          : client.slice(0, client.lastIndexOf(':'));
    const to = `${proto} ${f ? `${f.target.addr}:${f.target.port}` : target}`;
    const keepalive = !f?.keepalive
      ? 'keepalive unknown'
      : f.keepalive.enabled
        ? `keepalive at ${f.keepalive.idleSec} s`
        : 'no keepalive';
    const key = `${from}|${to}|${keepalive}|${p.layer}|${p.timeoutSec}`;
    let g = groups.get(key);
    if (!g) {
      g = {
        from,
        to,
        keepalive,
        layer: p.layer,
        timeoutSec: p.timeoutSec,
        count: 0,
        soonestSec: p.breaksInSec,
        backends: new Set(),
      };
      groups.set(key, g);
    }
    g.count++;
    g.soonestSec = Math.min(g.soonestSec, p.breaksInSec);
    if (f?.backend) g.backends.add(`${f.backend.addr}:${f.backend.port}`);
  }
  const list = [...groups.values()].sort(
    (a, b) => a.soonestSec - b.soonestSec || b.count - a.count,
  );
  const out: string[] = [];
  for (const g of list.slice(0, limit)) {
    const when = g.soonestSec <= 0 ? 'now' : `in ${fmtDuration(g.soonestSec)}`;
    const n = g.count === 1 ? '1 flow' : `${g.count} flows`;
    out.push(
      ...wrap(
        `${n} from ${g.from} to ${g.to}, ${g.keepalive}, forgotten by ${g.layer} after ${g.timeoutSec} s idle; the first ${when}`,
        width,
        4,
        2,
      ),
    );
    if (g.backends.size > 0) {
      const b = [...g.backends].sort();
      out.push(
        ...wrap(
          `backends: ${b.slice(0, 4).join(', ')}${b.length > 4 ? `, … ${b.length - 4} more` : ''}`,
          width,
          6,
          4,
        ),
      );
    }
  }
  if (list.length > limit)
    out.push(`  … ${list.length - limit} more groups (--json shows every flow)`);
  return out;
}

/** Flow labels named in text per list; --json lists every flow id. */
const CHECKED_IN_TEXT = 3;

/** What the timer race said of a suggestion: the flows it saves, and those left at risk with why. */
export function checkedLines(s: Pick<Suggestion, 'checked'>): string[] {
  const c = s.checked;
  if (!c) return [];
  const flows = (n: number) => (n === 1 ? '1 flow' : `${n} flows`);
  const names = (ids: readonly string[]) =>
    ids.slice(0, CHECKED_IN_TEXT).join(', ') +
    (ids.length > CHECKED_IN_TEXT ? ` and ${ids.length - CHECKED_IN_TEXT} more` : '');
  const out: string[] = [];
  out.push(
    c.saves.length === 0
      ? `Saves none of the ${flows(c.targets)} it targets now (timer race).`
      : `Saves ${c.saves.length === c.targets ? `all ${flows(c.targets)}` : `${c.saves.length} of ${flows(c.targets)}`} it targets (timer race): ${names(c.saves)}.`,
  );
  if (c.atRisk.length > 0) {
    const first = c.atRisk.slice(0, CHECKED_IN_TEXT);
    out.push(
      `${flows(c.atRisk.length)} stay at risk${c.savesLater > 0 ? ` (${c.savesLater} safe only after their next packet)` : ''}: ` +
        first.map((x) => `${x.flow}: ${x.reason}`).join('; ') +
        (c.atRisk.length > CHECKED_IN_TEXT
          ? `; and ${c.atRisk.length - CHECKED_IN_TEXT} more`
          : '') +
        '.',
    );
  }
  return out;
}

/** Suggestions, smallest blast radius first, with the exact commands. */
export function renderSuggestions(d: Diagnosis, width = 80): string[] {
  const out: string[] = [];
  if (d.suggestions.length === 0) return out;
  section(out, 'Suggestions (smallest blast radius first)');
  for (const s of d.suggestions as Suggestion[]) {
    out.push('');
    out.push(
      ...wrap(
        `[${s.id}] ${s.title} (scope: ${s.scope}${s.change ? '; kdiag apply can do this' : ''})`,
        width,
        4,
        2,
      ),
    );
    out.push(...wrap(s.rationale, width, 4, 4));
    for (const l of checkedLines(s)) out.push(...wrap(l, width, 4, 4));
    for (const c of s.commands) {
      out.push(...wrap(`${c.label}:`, width, 6, 4));
      // Keep each line's own indentation: YAML patches depend on it.
      for (const l of c.text.split('\n')) {
        const lead = l.length - l.trimStart().length;
        out.push(...wrap(l.trimStart(), width, 8 + lead, 6 + lead));
      }
    }
    for (const w of s.warnings) out.push(...wrap(`warning: ${w}`, width, 6, 4));
  }
  return out;
}

/** The whole report of `kdiag replay` / `kdiag check`. */
export function renderAnalysis(r: AnalysisResult, opts: { width?: number; title: string }): string {
  const width = opts.width ?? 80;
  const out: string[] = [];
  out.push(...wrap(opts.title, width));
  const h = r.input.header;
  const timeKnown = r.input.kind !== 'bundle' || Boolean(r.input.bundle?.timeKnown);
  const origin = r.summary.first ?? 0;
  if (h) {
    out.push(
      ...wrap(
        `Recorded ${h.recordedAt} on ${h.host.hostname} (kernel ${h.host.kernel}) by kdiag ${h.kdiag}`,
        width,
      ),
    );
    const tools = Object.entries(h.tools).map(([k, v]) => `${k} ${v}`);
    if (tools.length) out.push(...wrap(`Tools: ${tools.join(', ')}`, width));
    if (h.probes.length)
      out.push(...wrap(`Probes: ${h.probes.map((p) => p.id).join(', ')}`, width));
  } else if (r.input.live) {
    const l = r.input.live;
    out.push(
      ...wrap(
        `Host ${l.hostname} (kernel ${l.kernel})${l.netns ? `, netfilter read in netns ${l.netns}` : ''}`,
        width,
      ),
    );
    for (const n of l.notes) out.push(...wrap(`note: ${n}`, width, 6, 0));
  } else if (r.input.bundle) {
    const host = r.input.bundle.host;
    if (host?.hostname || host?.kernel)
      out.push(
        ...wrap(`Collected on ${host.hostname ?? '?'} (kernel ${host.kernel ?? '?'})`, width),
      );
    out.push(...wrap(`Files: ${r.input.bundle.files.map((f) => f.name).join(', ')}`, width));
  }
  const nsrc = Object.keys(r.sources).length;
  out.push(
    `Records: ${r.records} from ${nsrc} source${nsrc === 1 ? '' : 's'}, ${r.issueCount} parse issue${r.issueCount === 1 ? '' : 's'}`,
  );
  const lossy = Object.entries(r.sources).filter(([, st]) => st.lost > 0);
  if (lossy.length > 0) {
    const total = lossy.reduce((n, [, st]) => n + st.lost, 0);
    const per = lossy.map(([id, st]) => `${id} ${st.lost}`).join(', ');
    out.push(
      ...wrap(
        `warning: ${total} event${total === 1 ? ' was' : 's were'} lost while recording (${per}): what they showed is missing from this analysis`,
        width,
        9,
        0,
      ),
    );
  }
  for (const n of r.notices) out.push(...wrap(`note: ${n}`, width, 6, 0));
  if (r.issueCount > 0) {
    for (const i of r.issues.slice(0, 5))
      out.push(...wrap(`issue: ${i.file}:${i.line}: ${i.message} [${i.code}]`, width, 6, 0));
    if (r.issueCount > 5) out.push(`  … ${r.issueCount - 5} more issues (--json lists them)`);
  }
  out.push(...renderInputs(r, width));
  out.push(...renderSummary(r.summary, width));
  out.push(...renderFindings(r.diagnosis, width, timeKnown, origin, r.missing.length > 0));
  out.push(...renderPredictions(r.diagnosis, width));
  out.push(...renderSuggestions(r.diagnosis, width));
  // The one exit of the text report: every input string in it is made printable here.
  return printable(`${out.join('\n')}\n`);
}
