// View snapshots at 80 and 120 columns for empty, normal and overflowing data (ANSI stripped, TZ=UTC).
process.env.TZ = 'UTC';
import { stripVTControlCharacters } from 'node:util';
import type { ReactElement } from 'react';
import { renderToString } from 'ink';
import { describe, expect, it } from 'vitest';
import type { Diagnosis } from '../../src/model/diagnosis.js';
import type { SessionSnapshot } from '../../src/model/session.js';
import { App } from '../../src/ui/app.js';
import { renderGallery } from '../../src/ui/gallery.js';
import {
  eventRate,
  indexFlows,
  normaliseSnapshot,
  selectFeedOrder,
  selectFindings,
  selectFlowOrder,
  suggestionsFor,
} from '../../src/ui/state/selectors.js';
import { findingDetail, flowDetail, suggestionDetail } from '../../src/ui/views/detail-lines.js';
import { DetailView } from '../../src/ui/views/detail-view.js';
import { FeedView } from '../../src/ui/views/feed-view.js';
import { FindingsView } from '../../src/ui/views/findings-view.js';
import { FlowsView } from '../../src/ui/views/flows-view.js';
import { HelpOverlay } from '../../src/ui/views/help-overlay.js';
import { StatusLine } from '../../src/ui/views/status-line.js';
import { createFakeStore } from '../helpers/fake-store.js';
import { emptySnapshot, manyFlows, testSnapshot, TEST_DIAGNOSIS } from '../helpers/ui-test-data.js';

const text = (el: ReactElement, columns: number) =>
  stripVTControlCharacters(renderToString(el, { columns }));

function overflowing(): SessionSnapshot {
  const base = testSnapshot();
  const flows = manyFlows(300);
  const d: Diagnosis = { ...TEST_DIAGNOSIS, flows };
  return {
    ...base,
    diagnosis: d,
    feed: Array.from({ length: 200 }, (_, i) => ({
      t: Date.UTC(2025, 0, 15, 10, 0, i % 60),
      kind: 'drop' as const,
      text: `drop ${'x'.repeat(150)} ${i}`,
      src: 'bpftrace:drops',
      finding: TEST_DIAGNOSIS.findings[0]!.id,
    })),
    missing: [
      'root',
      'bpftrace >= 0.20',
      'BTF',
      'nf_conntrack',
      'ipvsadm',
      'a capability with a very long name that cannot fit',
    ],
    sources: Array.from({ length: 12 }, (_, i) => ({
      id: `source-number-${i}`,
      state: 'running' as const,
      records: 10 ** i,
      rate: 12_345.6,
      lost: i,
    })),
    recording: { path: '/var/tmp/x.ndjson', records: 123_456_789 },
  };
}

const STATES: Record<string, () => SessionSnapshot> = {
  empty: emptySnapshot,
  normal: testSnapshot,
  overflowing: overflowing,
};

function panes(snapshot: SessionSnapshot, width: number): string {
  const s = normaliseSnapshot(snapshot);
  const d = s.diagnosis;
  const index = indexFlows(d);
  const byId = new Map(d.findings.filter(Boolean).map((f) => [f.id, f]));
  const f = d.findings[0];
  return [
    text(
      <FlowsView
        flows={index.flows}
        order={selectFlowOrder(index, 'time-to-break', '')}
        ttb={index.ttb}
        atRisk={index.atRisk}
        selected={1}
        scroll={0}
        sort="time-to-break"
        filter=""
        focused
        width={width}
        height={10}
      />,
      width,
    ),
    text(
      <FeedView
        feed={s.feed}
        order={selectFeedOrder(s.feed, '')}
        findingsById={byId}
        selected={0}
        scroll={0}
        focused={false}
        filter=""
        width={width}
        height={7}
      />,
      width,
    ),
    text(
      <FindingsView
        findings={selectFindings(d.findings, '')}
        selected={0}
        scroll={0}
        focused={false}
        filter=""
        width={width}
        height={6}
      />,
      width,
    ),
    text(
      <DetailView
        model={findingDetail(f, suggestionsFor(f?.suggestions, d.suggestions), width - 4)}
        selected={0}
        width={width}
        height={14}
      />,
      width,
    ),
    text(
      <DetailView
        model={suggestionDetail(d.suggestions[0], s.applied, width - 4)}
        selected={0}
        width={width}
        height={16}
      />,
      width,
    ),
    text(
      <DetailView
        model={flowDetail(index.flows[0], index.ttb[0] ?? Number.NaN, d.findings, width - 4)}
        selected={0}
        width={width}
        height={18}
      />,
      width,
    ),
    text(
      <StatusLine
        snapshot={s}
        eventRate={eventRate(s)}
        message={null}
        filterDraft={null}
        width={width}
      />,
      width,
    ),
  ].join('\n');
}

describe('views', () => {
  for (const width of [80, 120]) {
    it.each(Object.keys(STATES))(`render the %s state at ${width} columns`, async (state) => {
      const out = panes(STATES[state]!(), width);
      for (const line of out.split('\n')) expect(line.length).toBeLessThanOrEqual(width);
      await expect(out).toMatchFileSnapshot(`__snapshots__/views.${state}.${width}.txt`);
    });

    it.each(Object.keys(STATES))(
      `render the whole app in the %s state at ${width}x24`,
      async (state) => {
        const store = createFakeStore(STATES[state]!());
        const out = text(<App store={store} columns={width} rows={24} throttleMs={0} />, width);
        const lines = out.split('\n');
        expect(lines.length).toBeLessThanOrEqual(23);
        for (const line of lines) expect(line.length).toBeLessThanOrEqual(width);
        await expect(out).toMatchFileSnapshot(`__snapshots__/app.${state}.${width}.txt`);
      },
    );
  }

  it('renders the help overlay with every key', async () => {
    const out = text(<HelpOverlay width={80} height={22} />, 80);
    for (const k of [
      'Tab',
      'Enter',
      'Esc',
      '/',
      's',
      'p  Space',
      'c',
      'a',
      'r',
      '+  -',
      '[  ]',
      'q',
    ])
      expect(out).toContain(k);
    await expect(out).toMatchFileSnapshot('__snapshots__/help.80.txt');
  });

  it('shows the replay position, recording and filter being typed in the status line', () => {
    const s = normaliseSnapshot({
      ...testSnapshot(),
      mode: 'replay',
      replay: { start: 0, end: 130_000, at: 41_000, playing: true, speed: 2 },
      recording: { path: 'x', records: 1500 },
    });
    const line = text(
      <StatusLine snapshot={s} eventRate={0} message="Copied" filterDraft={null} width={120} />,
      120,
    );
    expect(line).toContain('▶ REPLAY 00:41/02:10 ×2');
    expect(line).toContain('REC 1.5k');
    expect(line).toContain('Copied');
    expect(
      text(
        <StatusLine snapshot={s} eventRate={0} message={null} filterDraft="api" width={80} />,
        80,
      ),
    ).toContain('/ api');
    expect(
      text(
        <StatusLine
          snapshot={normaliseSnapshot({ ...testSnapshot(), paused: true })}
          eventRate={0}
          message={null}
          filterDraft={null}
          width={80}
        />,
        80,
      ),
    ).toContain('PAUSED');
  });

  it('renders garbage as blanks and dashes, never throwing', () => {
    const garbage = {
      mode: 'live',
      diagnosis: {
        at: Number.NaN,
        flows: [
          null,
          { id: 'x' },
          {
            id: 'y',
            client: { addr: 5 },
            layers: [null, { layer: 'conntrack', leftSec: Number.NaN }],
            idleSec: Number.POSITIVE_INFINITY,
            firstToForget: 'conntrack',
            owner: { pod: {} },
          },
        ],
        findings: [
          { id: 'f', evidence: [null, { t: 'x' }], suggestions: ['nope'], flows: 'y' },
          null,
        ],
        predictions: [{ flow: 'y', breaksInSec: Number.NaN }],
        suggestions: [{ id: 'nope', commands: [null, { label: 1 }], warnings: null }],
      },
      feed: [null, { kind: 'weird', t: Number.NaN }],
      sources: [null, { id: 'a', state: 'exploded', rate: Number.NaN, lost: Number.NaN }],
      missing: [],
      paused: false,
      applied: [null],
      issues: Number.NaN,
    } as unknown as SessionSnapshot;
    for (const width of [80, 120]) {
      const out = text(
        <App store={createFakeStore(garbage)} columns={width} rows={24} throttleMs={0} />,
        width,
      );
      expect(out).not.toMatch(/can't render|NaN|undefined|null/);
      expect(panes(garbage, width)).not.toMatch(/NaN|undefined|\bnull\b/);
    }
  });

  it('shows one line instead of a stack when a view throws', () => {
    const store = {
      getSnapshot: () => testSnapshot(),
      subscribe: () => () => {},
      dispatch: () => {},
    };
    const broken = {
      ...store,
      getSnapshot: () => ({
        ...testSnapshot(),
        sources: [
          {
            get id(): string {
              throw new Error('boom\nstack line');
            },
            state: 'running',
            rate: 1,
            lost: 0,
            records: 0,
          },
        ],
      }),
    };
    const snap = broken.getSnapshot();
    const stable = { ...broken, getSnapshot: () => snap };
    const out = text(<App store={stable as never} columns={80} rows={24} throttleMs={0} />, 80);
    expect(out).toContain("✗ status line can't render: boom");
    expect(out).not.toContain('stack line');
    expect(out).toContain('Flows at risk');
  });

  it('renders the gallery at 100 columns', () => {
    const out = stripVTControlCharacters(renderGallery(100));
    for (const title of [
      'FlowsView',
      'FeedView',
      'Finding detail',
      'Suggestion detail',
      'ConfirmDialog',
      'HelpOverlay',
      'StatusLine',
    ])
      expect(out).toContain(`── ${title}`);
    expect(out).toContain('ipvsadm --set 7200 120 300');
  });
});

describe('status line while probes attach', () => {
  it('says the bpftrace program is attaching, and its rate once it runs', () => {
    const base = emptySnapshot();
    const at = (state: 'starting' | 'running') =>
      text(
        <StatusLine
          snapshot={{
            ...base,
            sources: [
              { id: 'bpftrace', state, records: 4, rate: 2, lost: 0 },
              { id: 'ss:sockets', state: 'starting', records: 0, rate: 0, lost: 0 },
            ],
          }}
          eventRate={0}
          message={null}
          filterDraft={null}
          width={120}
        />,
        120,
      );
    expect(at('starting')).toContain('… bpftrace attaching…');
    expect(at('starting')).toContain('… ss:sockets starting');
    expect(at('running')).not.toContain('attaching');
  });
});

describe('finding detail without a fix', () => {
  it('says why no change is offered when the race refused every one', () => {
    const f = {
      id: 'x',
      rule: 'node.timeout-budget',
      fm: 'FM-2',
      severity: 'warning',
      confidence: 'likely',
      title: 't',
      cause: 'c',
      flows: [],
      evidence: [],
      suggestions: [],
      noFix: 'no change kdiag can make saves these flows: a is no raise',
      t: 0,
    } as const;
    const text = findingDetail(f, [], 80)
      .lines.map((l) => l.text)
      .join('\n');
    expect(text).toContain('No suggestion for this finding.');
    expect(text).toContain('  no change kdiag can make saves these flows: a is no raise');
  });
});
