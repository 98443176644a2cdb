import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Decoder } from '../../src/engine/decoder.js';
import { Engine } from '../../src/engine/engine.js';
import type { RawRecord } from '../../src/engine/raw-record.js';
import type { Observation } from '../../src/model/observation.js';

const CT = readFileSync(
  new URL('../../fixtures/tools/conntrack/list-extended-id.txt', import.meta.url),
  'utf8',
)
  .trimEnd()
  .split('\n');
const RST_CONTEXT = JSON.stringify(
  JSON.parse(
    readFileSync(
      new URL('../../fixtures/tools/bpftrace/trace_tcp_reset.context.json', import.meta.url),
      'utf8',
    ),
  ),
);
const RST_LINES = readFileSync(
  new URL('../../fixtures/tools/bpftrace/trace_tcp_reset.ndjson', import.meta.url),
  'utf8',
)
  .trimEnd()
  .split('\n');

function decode(recs: readonly RawRecord[], finish = true): { out: Observation[]; d: Decoder } {
  const out: Observation[] = [];
  const d = new Decoder((o) => out.push(o));
  recs.forEach((rec, i) => d.push({ rec, file: 'test.ndjson', line: i + 1 }));
  if (finish) d.finish();
  return { out, d };
}

const snapshot = (t: number, src: string, lines: readonly string[]): RawRecord[] => [
  { t, src, line: 'conntrack -L -o extended,id', k: 'begin' },
  ...lines.map((line) => ({ t: t + 5, src, line })),
  { t: t + 9, src, line: 'exit 0', k: 'end' },
];

describe('Decoder', () => {
  it('frames a snapshot: begin, its rows at the snapshot time with scope, end', () => {
    const { out, d } = decode(snapshot(1000, 'conntrack:list@kdiag-a', CT));
    expect(out[0]).toMatchObject({
      kind: 'snapshot-begin',
      what: 'conntrack',
      t: 1000,
      scope: 'kdiag-a',
    });
    expect(out[out.length - 1]).toMatchObject({ kind: 'snapshot-end', what: 'conntrack', t: 1000 });
    const rows = out.filter((o) => o.kind === 'conntrack-entry');
    expect(rows.length).toBeGreaterThan(0);
    // every row carries the begin record's time, not its own
    expect(
      rows.every(
        (o) => o.t === 1000 && o.scope === 'kdiag-a' && o.src === 'conntrack:list@kdiag-a',
      ),
    ).toBe(true);
    expect(rows[0]).toMatchObject({
      entry: { proto: 'tcp', state: 'ESTABLISHED', orig: { src: '10.0.0.1', dport: 80 } },
    });
    expect(d.records).toBe(CT.length + 2);
    expect(d.perSource.get('conntrack:list@kdiag-a')?.records).toBe(CT.length + 2);
  });

  it('closes a snapshot cut short when finished, and only then', () => {
    const recs = snapshot(1000, 'conntrack:list', CT.slice(0, 1)).slice(0, -1);
    expect(decode(recs, false).out.map((o) => o.kind)).toEqual([
      'snapshot-begin',
      'conntrack-entry',
    ]);
    expect(decode(recs).out.map((o) => o.kind)).toEqual([
      'snapshot-begin',
      'conntrack-entry',
      'snapshot-end',
    ]);
  });

  it('parses a document source once its snapshot ends', () => {
    const recs: RawRecord[] = [
      { t: 5, src: 'sysctl:all', line: 'sysctl -a', k: 'begin' },
      { t: 5, src: 'sysctl:all', line: 'net.ipv4.tcp_keepalive_time = 7200' },
      {
        t: 5,
        src: 'sysctl:all',
        line: 'net.netfilter.nf_conntrack_tcp_timeout_established = 432000',
      },
    ];
    const open = decode(recs, false);
    expect(open.out).toEqual([]);
    open.d.push({ rec: { t: 6, src: 'sysctl:all', line: 'exit 0', k: 'end' }, file: 'f', line: 4 });
    expect(open.out).toEqual([
      {
        t: 5,
        src: 'sysctl:all',
        kind: 'sysctls',
        values: {
          'net.ipv4.tcp_keepalive_time': '7200',
          'net.netfilter.nf_conntrack_tcp_timeout_established': '432000',
        },
      },
    ]);
  });

  it('reports an unknown source kind once, with its file and line, and ignores its records', () => {
    const { out, d } = decode([
      { t: 1, src: 'nosuch:tool@ns', line: 'a' },
      { t: 2, src: 'nosuch:tool', line: 'b' },
    ]);
    expect(out).toEqual([]);
    expect(d.issueCount).toBe(1);
    expect(d.issues[0]).toMatchObject({
      code: 'source.unknown',
      file: 'test.ndjson',
      line: 1,
      src: 'nosuch:tool@ns',
    });
  });

  it('turns a bad row into an issue at its file and line, and keeps the good rows', () => {
    const { out, d } = decode(
      snapshot(1000, 'conntrack:list', [CT[0]!, 'this is not conntrack', CT[0]!]),
    );
    expect(out.filter((o) => o.kind === 'conntrack-entry')).toHaveLength(2);
    expect(d.issueCount).toBe(1);
    expect(d.issues[0]).toMatchObject({
      file: 'test.ndjson',
      line: 3,
      src: 'conntrack:list',
      text: 'this is not conntrack',
    });
    expect(d.issues[0]!.code).toMatch(/^conntrack\./);
    expect(d.perSource.get('conntrack:list')?.issues).toBe(1);
  });

  it('counts lost events from stderr lines and emits a lost-events meta', () => {
    const line = 'WARNING: We have hit ENOBUFS! We are losing events.';
    const { out, d } = decode([{ t: 7, src: 'conntrack:events', line, k: 'err' }]);
    expect(out).toEqual([
      { t: 7, src: 'conntrack:events', raw: line, kind: 'meta', key: 'lost-events', value: line },
    ]);
    expect(d.perSource.get('conntrack:events')).toMatchObject({ lost: 1, stderr: [line] });
  });

  it('reads probe records: context from begin, events from output lines, unknown probes reported', () => {
    const src = 'bpftrace:trace_tcp_reset@kdiag-a';
    const recs: RawRecord[] = [
      { t: 10, src, line: RST_CONTEXT, k: 'begin' },
      ...RST_LINES.map((line, i) => ({ t: 11 + i, src, line })),
    ];
    const { out, d } = decode(recs);
    expect(d.issueCount).toBe(0);
    const probes = out.filter(
      (o): o is Extract<Observation, { kind: 'probe' }> => o.kind === 'probe',
    );
    expect(probes[0]).toMatchObject({
      t: 11,
      src,
      scope: 'kdiag-a',
      event: { kind: 'probe-status', status: 'attached' },
    });
    const reset = probes.find((o) => o.event.kind === 'reset');
    expect(reset).toMatchObject({
      scope: 'kdiag-a',
      event: {
        kind: 'reset',
        tuple: { saddr: '10.0.0.2', sport: 48572, daddr: '10.0.0.2', dport: 9 },
      },
    });
    // the line is kept and parses back to the same event
    expect(reset!.raw).toBeDefined();
    expect(reset!.reparse!.reparse(reset!.raw!)).toEqual(reset!.event);

    const bad = decode([{ t: 1, src: 'bpftrace:no_such_probe', line: '{}' }]);
    expect(bad.out).toEqual([]);
    expect(bad.d.issues[0]).toMatchObject({ code: 'probe.unknown', src: 'bpftrace:no_such_probe' });
  });

  it('pushRecord gives what push gives', () => {
    const recs = [...snapshot(1000, 'conntrack:list', CT), { t: 2000, src: 'nosuch:x', line: 'y' }];
    const viaPush = decode(recs);
    const out: Observation[] = [];
    const d = new Decoder((o) => out.push(o));
    recs.forEach((r, i) => d.pushRecord(r.t, r.src, r.line, r.k, 'test.ndjson', i + 1));
    d.finish();
    expect(out).toEqual(viaPush.out);
    expect(d.issues).toEqual(viaPush.d.issues);
  });
});

describe('Engine', () => {
  it('diagnoses the table its records built, with suggestions for its findings', () => {
    const seen: string[] = [];
    const e = new Engine({ onObservation: (o) => seen.push(o.kind) });
    snapshot(1000, 'conntrack:list', CT).forEach((rec, i) =>
      e.push({ rec, file: 'f', line: i + 1 }),
    );
    e.finish();
    expect(seen[0]).toBe('snapshot-begin');
    expect(e.table.size).toBeGreaterThan(0);
    const d = e.diagnose(5000);
    expect(d.at).toBe(5000);
    expect(d.flows.length).toBeGreaterThan(0);
    for (const f of d.findings)
      for (const id of f.suggestions) expect(d.suggestions.some((s) => s.id === id)).toBe(true);
  });
});

describe('rulesets of nftables mode', () => {
  const NFT = readFileSync(
    new URL('../../fixtures/pastes/nft-kube-proxy.txt', import.meta.url),
    'utf8',
  )
    .trimEnd()
    .split('\n');
  const IPT6 = readFileSync(
    new URL('../../fixtures/pastes/ip6tables-save.txt', import.meta.url),
    'utf8',
  )
    .trimEnd()
    .split('\n');
  const doc = (src: string, lines: readonly string[]): RawRecord[] => [
    { t: 10, src, line: src, k: 'begin' },
    ...lines.map((line) => ({ t: 10, src, line })),
    { t: 11, src, line: 'exit 0', k: 'end' },
  ];

  it('feeds nft list ruleset and ip6tables-save to the model as one ruleset with both their facts', async () => {
    const { buildPathContext } = await import('../../src/analysis/path/context.js');
    const e = new Engine();
    [...doc('ip6tables:save', IPT6), ...doc('nft:ruleset', NFT)].forEach((rec, i) =>
      e.push({ rec, file: 'f', line: i + 1 }),
    );
    e.finish();
    expect(e.decoder.issues).toEqual([]);
    const ipt = e.table.iptables()!.value;
    expect(ipt.kubeProxyNftables).toBe(true);
    expect(ipt.invalidDropRules.map((r) => r.table)).toEqual(['filter', 'ip kube-proxy']);
    expect(ipt.services.find((s) => s.name === 'mysql')?.endpoints).toEqual([
      { addr: '10.244.12.8', port: 3306 },
    ]);
    expect(buildPathContext(e.table, {}).mode).toBe('nftables');
  });
});

describe('Decoder snapshot limit', () => {
  const SS = [
    'State  Recv-Q Send-Q Local Address:Port  Peer Address:Port Process',
    'ESTAB  0      0      10.0.0.1:40000      10.96.0.10:80     timer:(keepalive,28sec,0) ino:1 sk:1',
    'ESTAB  0      0      10.0.0.1:40001      10.96.0.10:80     timer:(keepalive,28sec,0) ino:2 sk:2',
    'ESTAB  0      0      10.0.0.1:40002      10.96.0.10:80     timer:(keepalive,28sec,0) ino:3 sk:3',
  ];
  const run = (max: number) => {
    const out: Observation[] = [];
    const d = new Decoder((o) => out.push(o), 1000, max);
    const recs: RawRecord[] = [
      { t: 1000, src: 'ss:sockets', line: 'ss -tinoe', k: 'begin' },
      ...SS.map((line) => ({ t: 1000, src: 'ss:sockets', line })),
      { t: 1000, src: 'ss:sockets', line: 'exit 0', k: 'end' },
    ];
    recs.forEach((rec, i) => d.push({ rec, file: 'ss.txt', line: i }));
    d.finish();
    return { sockets: out.filter((o) => o.kind === 'socket').length, d };
  };

  it('parses a document snapshot at the limit', () => {
    const { sockets, d } = run(SS.length);
    expect(sockets).toBe(3);
    expect(d.issues).toEqual([]);
  });

  it('refuses a document snapshot over the limit with one issue naming the count and the limit', () => {
    const { sockets, d } = run(SS.length - 1);
    expect(sockets).toBe(0);
    expect(d.issues).toHaveLength(1);
    expect(d.issues[0]).toMatchObject({ code: 'snapshot.too-large', file: 'ss.txt', line: 1 });
    expect(d.issues[0]!.message).toBe(
      "ss:sockets snapshot of 4 lines is over kdiag's limit of 3 lines for one snapshot: not read",
    );
  });
});
