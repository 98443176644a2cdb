// Runs today's parser of each format over every variant under fixtures/pastes/ and compares what it
// yields with the variant's expected.json (what a correct reader of a real paste must yield). The
// variants the current parsers get wrong are listed in KNOWN_FAILURES: they run as `it.fails`, so
// the list cannot go stale (a variant that starts passing fails the suite until it is removed).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { ConntrackEntry, ConntrackEvent } from '../../src/model/conntrack.js';
import type { Tuple } from '../../src/model/endpoint.js';
import { parseConntrackList } from '../../src/parse/conntrack-entry.js';
import { parseConntrackEvents } from '../../src/parse/conntrack-events.js';
import { parseConntrackStats } from '../../src/parse/conntrack-stats.js';
import { parseIptablesSave } from '../../src/parse/iptables-save.js';
import { parseIpvsConns } from '../../src/parse/ipvsadm-conns.js';
import { parseIpvsServices } from '../../src/parse/ipvsadm-services.js';
import { parseIpvsStats } from '../../src/parse/ipvsadm-stats.js';
import { parseIpvsTimeout } from '../../src/parse/ipvsadm-timeout.js';
import { parseNftRuleset } from '../../src/parse/nft-ruleset.js';
import type { ParseIssue } from '../../src/parse/result.js';
import { parseSs } from '../../src/parse/ss.js';
import { parseSysctl } from '../../src/parse/sysctl.js';

const ROOT = fileURLToPath(new URL('../../fixtures/pastes/', import.meta.url));

type Row = Record<string, unknown>;

interface Expected {
  readonly format: string;
  readonly entries: readonly Row[];
  readonly issues: readonly { readonly line: number; readonly code: string }[];
  readonly ignored: readonly { readonly line: number; readonly why: string }[];
  readonly summary?: Row;
  readonly tables?: unknown;
  readonly invalidDrop?: boolean;
}

/** What a parser made of a variant, in the shape of expected.json. */
interface Got {
  readonly entries: readonly Row[];
  readonly issues: readonly { readonly line: number; readonly code: string }[];
  readonly extra?: Row;
}

/**
 * Variants today's parsers get wrong (issue 20), with the reason seen. A later phase fixes the
 * parsers and removes names from this list.
 */
const KNOWN_FAILURES: Readonly<Record<string, string>> = {};

function tupleText(t: Tuple): string {
  return t.sport === undefined ? `${t.src}>${t.dst}` : `${t.src}:${t.sport}>${t.dst}:${t.dport}`;
}

function entryRow(e: ConntrackEntry): Row {
  return {
    proto: e.proto,
    timeout: e.timeout,
    state: e.state,
    orig: tupleText(e.orig),
    reply: tupleText(e.reply),
    assured: e.assured,
    unreplied: e.unreplied,
    offload: e.offload,
    hwOffload: e.hwOffload,
    zone: e.zone,
    mark: e.mark,
    id: e.id,
    deltaTime: e.deltaTime,
    secctx: e.secctx,
    labels: e.labels,
    start: e.start,
    stop: e.stop,
    origPackets: e.origCounters?.packets,
    replyBytes: e.replyCounters?.bytes,
  };
}

function eventRow(ev: ConntrackEvent): Row {
  return {
    ...entryRow(ev.entry),
    type: ev.type,
    ts: ev.ts ?? null,
    userspacePortid: ev.userspace?.portid,
  };
}

function issuesOf(issues: readonly ParseIssue[]): Got['issues'] {
  return issues.filter((i) => i.severity !== 'info').map((i) => ({ line: i.line, code: i.code }));
}

const ep = (e: { addr: string; port: number }): string => `${e.addr}:${e.port}`;

/** Today's parser of each format, its result put in the shape of expected.json. */
const READERS: Readonly<Record<string, (text: string, exp: Expected) => Got | undefined>> = {
  'conntrack-L': (text) => {
    const r = parseConntrackList(text);
    return { entries: r.value.map(entryRow), issues: issuesOf(r.issues) };
  },
  nf_conntrack: (text) => {
    const r = parseConntrackList(text);
    return { entries: r.value.map(entryRow), issues: issuesOf(r.issues) };
  },
  'conntrack-E': (text) => {
    const r = parseConntrackEvents(text);
    return { entries: r.value.map(eventRow), issues: issuesOf(r.issues) };
  },
  'conntrack-S': (text, exp) => {
    const r = parseConntrackStats(text);
    if (exp.summary !== undefined) {
      const first = r.value[0];
      const wanted = Object.keys((exp.summary['counters'] ?? {}) as Row);
      const counters = Object.fromEntries(wanted.map((k) => [k, first?.counters[k]]));
      // the older summary's rows are the format itself: only the summary is compared
      return {
        entries: exp.entries,
        issues: issuesOf(r.issues),
        extra: { summary: { entries: first?.entries, counters } },
      };
    }
    return {
      entries: r.value.map((s) => ({ cpu: s.cpu, counters: s.counters })),
      issues: issuesOf(r.issues),
    };
  },
  ss: (text) => {
    const r = parseSs(text);
    return {
      entries: r.value.map((s) => ({
        state: s.state,
        local: ep(s.local),
        peer: ep(s.peer),
        timer: s.timer?.name,
        timerMs: s.timer?.remainingMs,
      })),
      issues: issuesOf(r.issues),
    };
  },
  'ipvsadm-Ln': (text) => {
    const r = parseIpvsServices(text);
    const rows: Row[] = [];
    for (const s of r.value) {
      rows.push({
        service: `${s.proto} ${s.addr}:${s.port}`,
        scheduler: s.scheduler,
        persistent: s.persistent,
        realServers: s.realServers.length,
      });
      for (const rs of s.realServers)
        rows.push({
          real: `${rs.addr}:${rs.port}`,
          weight: rs.weight,
          active: rs.activeConn,
          inact: rs.inactConn,
        });
    }
    return { entries: rows, issues: issuesOf(r.issues) };
  },
  'ipvsadm-Lnc': (text) => {
    const r = parseIpvsConns(text);
    return {
      entries: r.value.map((c) => ({
        proto: c.proto,
        state: c.state,
        expiresSec: c.expiresSec,
        client: ep(c.client),
        virtual: ep(c.virtual),
        dest: ep(c.dest),
        template: c.template,
      })),
      issues: issuesOf(r.issues),
    };
  },
  'ipvsadm-timeout': (text) => {
    const r = parseIpvsTimeout(text);
    return { entries: r.value === null ? [] : [{ ...r.value }], issues: issuesOf(r.issues) };
  },
  'ipvsadm-stats': (text) => {
    const r = parseIpvsStats(text);
    return {
      entries: r.value.map((s) => ({
        addr: `${s.addr}:${s.port}`,
        conns: s.conns,
        inPkts: s.inPkts,
        inBytes: s.inBytes,
        outBytes: s.outBytes,
      })),
      issues: issuesOf(r.issues),
    };
  },
  sysctl: (text, exp) => {
    const r = parseSysctl(text);
    const rows: Row[] = Object.entries(r.value).map(([key, value]) => ({ key, value }));
    for (const i of r.issues) {
      const m = /^unreadable key (\S+)/.exec(i.message);
      if (i.severity === 'info' && m) rows.push({ unreadable: m[1] });
    }
    // a key map and its info notes keep no line order: put the rows in the expectation's order
    // (a row it does not name goes last, so a missing or extra row still fails)
    const name = (x: Row): unknown => x['key'] ?? x['unreadable'];
    const order = (x: Row): number => {
      const i = exp.entries.findIndex((w) => name(w) === name(x));
      return i < 0 ? Number.MAX_SAFE_INTEGER : i;
    };
    return { entries: rows.sort((a, b) => order(a) - order(b)), issues: issuesOf(r.issues) };
  },
  'ip6tables-save': (text) => {
    const r = parseIptablesSave(text);
    const tables: Row = {};
    for (const [table, chains] of Object.entries(r.value.chains)) {
      tables[table] = {
        chains: chains.length,
        rules: r.value.rules.filter((x) => x.table === table).length,
      };
    }
    return {
      entries: [],
      issues: issuesOf(r.issues),
      extra: { tables, invalidDrop: r.value.invalidDropRules.length > 0 },
    };
  },
  nft: (text) => {
    const r = parseNftRuleset(text);
    return {
      entries: [],
      issues: issuesOf(r.issues),
      extra: {
        tables: r.value.tables.map((t) => ({
          family: t.family,
          name: t.name,
          chains: t.chains,
          maps: t.maps,
        })),
        invalidDrop: r.value.invalidDropRules.length > 0,
      },
    };
  },
};

/** Keeps of each got row only the keys its expected row names (line/at/note are for the paste reader). */
function project(got: readonly Row[], want: readonly Row[]): Row[] {
  return got.map((g, i) => pick(g, want[i] ?? {}));
}

function pick(g: Row, w: Row): Row {
  const out: Row = {};
  for (const k of Object.keys(w)) {
    if (k === 'line' || k === 'at' || k === 'note') continue;
    const gv = g[k];
    const wv = w[k];
    const nested = typeof wv === 'object' && wv !== null && typeof gv === 'object' && gv !== null;
    out[k] = nested ? pick(gv as Row, wv as Row) : gv;
  }
  return out;
}

function strip(want: readonly Row[]): Row[] {
  return want.map((w) =>
    Object.fromEntries(
      Object.entries(w).filter(([k]) => k !== 'line' && k !== 'at' && k !== 'note'),
    ),
  );
}

/** The check itself: entries, issue lines with their format prefix, and document-level facts. */
function check(name: string): void {
  const text = readFileSync(join(ROOT, `${name}.txt`), 'utf8');
  const exp = JSON.parse(readFileSync(join(ROOT, `${name}.expected.json`), 'utf8')) as Expected;
  const reader = READERS[exp.format];
  expect(reader, `no reader for ${exp.format}`).toBeDefined();
  const got = reader!(text, exp);
  expect(got, `no parser for ${exp.format}`).toBeDefined();
  expect(project(got!.entries, exp.entries)).toEqual(strip(exp.entries));
  const prefix = (c: string): string => c.slice(0, c.indexOf('.') + 1);
  expect(got!.issues.map((i) => ({ line: i.line, code: prefix(i.code) }))).toEqual(
    exp.issues.map((i) => ({ line: i.line, code: prefix(i.code) })),
  );
  if (exp.summary !== undefined) expect(got!.extra?.['summary']).toEqual(exp.summary);
  if (exp.tables !== undefined) expect(got!.extra?.['tables']).toEqual(exp.tables);
  if (exp.invalidDrop !== undefined) expect(got!.extra?.['invalidDrop']).toBe(exp.invalidDrop);
}

const VARIANTS = readdirSync(ROOT)
  .filter((f) => f.endsWith('.expected.json'))
  .map((f) => f.slice(0, -'.expected.json'.length))
  .sort();

describe('paste corpus against the current parsers', () => {
  it('has a text for every expectation and knows every listed failure', () => {
    expect(VARIANTS.length).toBeGreaterThanOrEqual(20);
    for (const v of VARIANTS) expect(readdirSync(ROOT)).toContain(`${v}.txt`);
    for (const k of Object.keys(KNOWN_FAILURES)) expect(VARIANTS).toContain(k);
  });
  for (const name of VARIANTS) {
    if (name in KNOWN_FAILURES)
      it.fails(`${name} (known gap: ${KNOWN_FAILURES[name]})`, () => check(name));
    else it(name, () => check(name));
  }
});
