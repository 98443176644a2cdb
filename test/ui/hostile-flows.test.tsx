// Flows reach the TUI raw (a 100,000-flow snapshot is not walked per frame) and are made printable
// where they are drawn: the flows pane's rows, the flow detail, the filter. Every string of every
// flow here carries terminal escapes; none may reach the terminal, and the text around them must.
import { afterEach, describe, expect, it } from 'vitest';
import type { FlowView } from '../../src/model/diagnosis.js';
import { App } from '../../src/ui/app.js';
import { printableSnapshot } from '../../src/ui/state/printable-snapshot.js';
import { createFakeStore } from '../helpers/fake-store.js';
import { KEY, renderTui } from '../helpers/render-tui.js';
import { manyFlows, testSnapshot, TEST_DIAGNOSIS } from '../helpers/ui-test-data.js';

// A colour, a 256-colour the UI never uses, a clipboard write and a title change.
const EVIL =
  '\u001b[31m\u001b[38;5;199mEVIL\u001b]52;c;ZWNobyBwd25lZA==\u0007\u001b]0;title\u001b\\';
// ink colours with CSI itself; what input smuggled in would be OSC, BEL or this 256-colour.
const SMUGGLED = /\u001b\]|\u0007|\u001b\[38;5;199m/;

/** `v` with EVIL appended to every string in it, keys left alone. */
function poison<T>(v: T): T {
  if (typeof v === 'string') return `${v}${EVIL}` as T;
  if (Array.isArray(v)) return v.map(poison) as T;
  if (v !== null && typeof v === 'object')
    return Object.fromEntries(Object.entries(v).map(([k, e]) => [k, poison(e)])) as T;
  return v;
}

/** Poisons the free-text fields but keeps the layer names, so rows still have times to show. */
function hostileFlow(f: FlowView): FlowView {
  const p = poison(f);
  return {
    ...p,
    layers: f.layers.map((l, i) => ({ ...l, source: p.layers[i]!.source })),
    ...(f.firstToForget ? { firstToForget: f.firstToForget } : {}),
  };
}

let cleanup: (() => void) | undefined;
afterEach(() => {
  cleanup?.();
  cleanup = undefined;
});

function start(flows: readonly FlowView[], syncFlowLimit?: number) {
  const snap = testSnapshot({
    diagnosis: { ...poison(TEST_DIAGNOSIS), flows: flows.map(hostileFlow) },
    feed: poison(testSnapshot().feed),
  });
  const t = renderTui(
    <App
      store={createFakeStore(snap)}
      columns={140}
      rows={40}
      throttleMs={0}
      {...(syncFlowLimit === undefined ? {} : { syncFlowLimit })}
    />,
    { columns: 140, rows: 40 },
  );
  cleanup = t.unmount;
  return t;
}

describe('hostile flows in the TUI', () => {
  it('leaves flows raw in the snapshot copy but cleans everything else', () => {
    const snap = testSnapshot({ diagnosis: poison(TEST_DIAGNOSIS), feed: poison([]) });
    const p = printableSnapshot(snap);
    expect(p.diagnosis.flows).toBe(snap.diagnosis.flows);
    expect(JSON.stringify({ ...p, diagnosis: { ...p.diagnosis, flows: [] } })).not.toMatch(
      /\\u001b|\\u0007/,
    );
    const clean = testSnapshot();
    expect(printableSnapshot(clean)).toBe(clean);
  });

  for (const [name, limit] of [
    ['a small table', undefined],
    ['a time-sliced large table', 2],
  ] as const) {
    it(`draws rows, the flow detail and a filter of ${name} without one escape`, async () => {
      const t = start(manyFlows(30), limit);
      // Owner column (wide terminal) and the flow column show the cleaned input text.
      await t.waitForFrame(
        (f) =>
          f.includes('→ 198.51.100.10EVIL:5432 →') && f.includes('a-very-long-namespace-nameE'),
        10_000,
      );
      await t.press(KEY.enter);
      const detail = await t.waitForFrame(
        (f) => f.includes('keepalive off (ss -tinoeEVIL)'),
        10_000,
      );
      expect(detail).toContain('service db/postgresEVIL');
      expect(detail).toContain('seen by conntrackEVIL, ssEVIL, ipvsEVIL');
      expect(detail).toContain('ss timerEVIL');
      // Esc and the next key pressed together would read as Alt+key: wait for each Esc's frame.
      await t.press(KEY.esc);
      await t.waitForFrame((f) => f.includes('Findings  2'), 10_000);
      await t.press('/', 'e', 'v', 'i', 'l', KEY.enter);
      // The filter matches the text as shown: "evil" is in every cleaned flow.
      await t.waitForFrame((f) => f.includes('filter “evil”') && f.includes('1–'), 10_000);
      // …and not the escape debris the person never sees.
      await t.press(KEY.esc);
      await t.waitForFrame((f) => !f.includes('filter “'), 10_000);
      await t.press('/', '3', '1', 'm', KEY.enter);
      await t.waitForFrame((f) => f.includes('No flow matches “31m”'), 10_000);
      expect(t.stdout.writes.join('')).not.toMatch(SMUGGLED);
    }, 30_000);
  }
});
