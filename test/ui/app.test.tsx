// Interaction tests: the real <App> in a fake terminal, fed by an in-memory store with hand-made data.
process.env.TZ = 'UTC';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { App } from '../../src/ui/app.js';
import { osc52 } from '../../src/ui/clipboard.js';
import { renderApp } from '../../src/ui/render-app.js';
import { throttledSubscribe } from '../../src/ui/state/use-throttled-snapshot.js';
import { createFakeStore, type FakeStore } from '../helpers/fake-store.js';
import { fakeTty } from '../helpers/fake-tty.js';
import { KEY, renderTui } from '../helpers/render-tui.js';
import { manyFlows, testSnapshot, TEST_DIAGNOSIS } from '../helpers/ui-test-data.js';

let cleanup: (() => void) | undefined;
afterEach(() => {
  cleanup?.();
  cleanup = undefined;
});

function start(store: FakeStore = createFakeStore(testSnapshot()), columns = 80, rows = 24) {
  const t = renderTui(<App store={store} columns={columns} rows={rows} throttleMs={0} />, {
    columns,
    rows,
  });
  cleanup = t.unmount;
  return { ...t, store };
}

const selectedRow = (frame: string) => frame.split('\n').find((l) => l.includes('▸')) ?? '';

describe('App interaction', () => {
  it('moves the selection with arrows and j/k', async () => {
    const t = start();
    await t.waitForFrame((f) => f.includes('Flows at risk'));
    expect(selectedRow(t.lastFrame())).toContain('[2001:db8::5]');
    await t.press(KEY.down);
    await t.waitForFrame((f) => selectedRow(f).includes('192.0.2.11:40001'));
    await t.press('j', 'k', 'k');
    await t.waitForFrame((f) => selectedRow(f).includes('[2001:db8::5]'));
  });

  it('opens a finding with its evidence, then its suggestion with the exact commands', async () => {
    const t = start();
    await t.press(KEY.tab, KEY.tab);
    await t.waitForFrame((f) => f.includes('[Findings]'));
    await t.press(KEY.enter);
    const finding = await t.waitForFrame((f) => f.includes('Evidence chain (3)'));
    expect(finding).toContain('ESTAB 0 0 192.0.2.10:40000 198.51.100.10:5432 timer:(off)');
    expect(finding).toContain('↳ keepalive off');
    // Three evidence entries come first; the fourth entry is the first suggestion.
    await t.press(KEY.down, KEY.down, KEY.down, KEY.enter);
    const suggestion = await t.waitForFrame((f) => f.includes('Commands ('));
    expect(suggestion).toContain('- name: net.ipv4.tcp_keepalive_time');
    expect(suggestion).toContain(
      'kubectl -n shop exec deploy/api -- sysctl net.ipv4.tcp_keepalive_time',
    );
    await t.press(KEY.esc);
    await t.waitForFrame((f) => f.includes('Evidence chain (3)'));
    await t.press(KEY.esc);
    await t.waitForFrame((f) => f.includes('[Findings]'));
  });

  it('opens the finding that explains a feed event', async () => {
    const t = start();
    await t.press(KEY.tab, KEY.down, KEY.enter);
    await t.waitForFrame(
      (f) => f.includes('Cloud NAT forgets idle flows after 350 s') && f.includes('Evidence chain'),
    );
  });

  it('copies the selected command with an OSC 52 sequence and says so', async () => {
    const t = start();
    await t.press(KEY.tab, KEY.tab, KEY.enter, KEY.down, KEY.down, KEY.down, KEY.enter);
    await t.waitForFrame((f) => f.includes('Commands ('));
    await t.press(KEY.down, 'c');
    await t.waitForFrame((f) => f.includes('Copied'));
    expect(t.stdout.writes).toContain(
      osc52('kubectl -n shop exec deploy/api -- sysctl net.ipv4.tcp_keepalive_time'),
    );
  });

  it('applies a suggestion only after y on the plan the session made, showing its namespace and identity', async () => {
    const planned: string[] = [];
    const store = createFakeStore(testSnapshot(), async (id) => {
      planned.push(id);
      return {
        lines: [
          'Change   net.netfilter.nf_conntrack_tcp_timeout_established',
          'Where    netns LAB',
          'Identity 4:4026532301 (dev:inode of the network namespace)',
          'Value    3600 → 86400',
        ],
        warnings: [],
      };
    });
    const t = start(store);
    await t.press(KEY.tab, KEY.tab, KEY.enter);
    await t.waitForFrame((f) => f.includes('Evidence chain'));
    await t.press(KEY.down, KEY.down, KEY.down, KEY.down, 'a');
    const dialog = await t.waitForFrame(
      (f) => f.includes('Apply node-conntrack-established?') && f.includes('Identity 4:4026532301'),
    );
    expect(dialog).toContain('Where    netns LAB');
    expect(dialog).not.toContain('on the host');
    expect(dialog).not.toContain('$ sysctl');
    expect(planned).toEqual(['node-conntrack-established']);
    await t.press('x', KEY.enter, 'n');
    await t.waitForFrame((f) => f.includes('Cancelled'));
    expect(t.store.commands).toEqual([]);
    await t.press('a');
    await t.waitForFrame(
      (f) => f.includes('Apply node-conntrack-established?') && f.includes('Identity'),
    );
    expect(t.store.commands).toEqual([]);
    await t.press('y');
    await t.waitForFrame((f) => f.includes('Apply requested: node-conntrack-established'));
    expect(t.store.commands).toEqual([{ type: 'apply', suggestion: 'node-conntrack-established' }]);
  });

  it('takes no y when the session refuses the plan, or cannot plan at all (a replay)', async () => {
    for (const store of [
      createFakeStore(testSnapshot(), async () =>
        Promise.reject(new Error("netns LAB is the node's own network namespace")),
      ),
      createFakeStore(testSnapshot()),
    ]) {
      const t = start(store);
      await t.press(KEY.tab, KEY.tab, KEY.enter);
      await t.waitForFrame((f) => f.includes('Evidence chain'));
      await t.press(KEY.down, KEY.down, KEY.down, KEY.down, 'a');
      await t.waitForFrame((f) => f.includes("Can't apply:"));
      await t.press('y');
      await t.waitForFrame((f) => f.includes('Esc closes it'));
      expect(store.commands).toEqual([]);
      cleanup?.();
    }
  });

  it('refuses to apply a suggestion that kdiag cannot make live', async () => {
    const t = start();
    await t.press(KEY.tab, KEY.tab, KEY.enter, KEY.down, KEY.down, KEY.down, 'a');
    await t.waitForFrame((f) => f.includes("can't apply pod-keepalive-time live"));
    expect(t.store.commands).toEqual([]);
  });

  it('reverts an applied change after confirmation', async () => {
    const store = createFakeStore(
      testSnapshot({
        applied: [
          {
            journalId: 'j-7',
            suggestion: 'node-conntrack-established',
            summary: 'timeout 600 → 86400',
            reverted: false,
          },
        ],
      }),
    );
    const t = start(store);
    await t.press(KEY.tab, KEY.tab, KEY.tab);
    await t.waitForFrame((f) => f.includes('[Applied]') && f.includes('timeout 600 → 86400'));
    await t.press('r');
    await t.waitForFrame((f) => f.includes('Revert node-conntrack-established?'));
    expect(store.commands).toEqual([]);
    await t.press('y');
    await t.waitForFrame((f) => f.includes('Revert requested: j-7'));
    expect(store.commands).toEqual([{ type: 'revert', journalId: 'j-7' }]);
  });

  it('narrows the lists with a filter; Esc clears it', async () => {
    const t = start();
    await t.press('/', 'api-7d9f-1');
    await t.waitForFrame((f) => f.includes('/ api-7d9f-1'));
    await t.press(KEY.enter);
    const narrowed = await t.waitForFrame((f) => f.includes('1–1 of 1'));
    expect(narrowed).toContain('192.0.2.11:40001');
    expect(narrowed).not.toContain('192.0.2.10:40000 →');
    await t.press(KEY.esc);
    await t.waitForFrame((f) => f.includes('1–4 of 4'));
  });

  it('shows an empty state for a filter that matches nothing', async () => {
    const t = start();
    await t.press('/', 'zzz', KEY.enter);
    await t.waitForFrame((f) => f.includes('No flow matches “zzz”'));
  });

  it('cycles the sort with s', async () => {
    const t = start();
    await t.press('s');
    await t.waitForFrame((f) => f.includes('sort idle'));
    await t.press('s');
    await t.waitForFrame((f) => f.includes('sort flow'));
  });

  it('dispatches pause and resume with p and space', async () => {
    const store = createFakeStore(testSnapshot());
    const t = start(store);
    await t.press('p');
    expect(store.commands).toEqual([{ type: 'pause' }]);
    store.set(testSnapshot({ paused: true }));
    await t.waitForFrame((f) => f.includes('PAUSED'));
    await t.press(' ');
    expect(store.commands).toEqual([{ type: 'pause' }, { type: 'resume' }]);
  });

  it('drives a replay: play/pause, speed and seek within bounds', async () => {
    const store = createFakeStore(
      testSnapshot({
        mode: 'replay',
        replay: { start: 1000, end: 61_000, at: 5000, playing: true, speed: 1 },
      }),
    );
    const t = start(store);
    await t.waitForFrame((f) => f.includes('REPLAY 00:04/01:00'));
    await t.press(' ', '+', '-', ']', '[');
    expect(store.commands).toEqual([
      { type: 'pause' },
      { type: 'speed', speed: 2 },
      { type: 'speed', speed: 0.5 },
      { type: 'seek', t: 15_000 },
      { type: 'seek', t: 1000 },
    ]);
  });

  it('shows the help overlay listing every key; Esc closes it', async () => {
    const t = start(createFakeStore(testSnapshot()), 100, 30);
    await t.press('?');
    const help = await t.waitForFrame((f) => f.includes('Keys'));
    for (const k of [
      'Tab',
      'Enter',
      'Esc',
      'filter',
      'sort',
      'pause',
      'copy',
      'apply',
      'revert',
      'seek',
      'quit',
    ])
      expect(help).toContain(k);
    await t.press(KEY.esc);
    await t.waitForFrame((f) => f.includes('Flows at risk'));
  });

  it('re-renders when the store changes and follows a resize', async () => {
    const store = createFakeStore(testSnapshot());
    const t = renderTui(<App store={store} throttleMs={0} />, { columns: 80, rows: 24 });
    cleanup = t.unmount;
    await t.waitForFrame((f) => f.includes('[Drops & resets]'));
    store.set(
      testSnapshot({ diagnosis: { ...TEST_DIAGNOSIS, flows: TEST_DIAGNOSIS.flows.slice(0, 1) } }),
    );
    await t.waitForFrame((f) => f.includes('1–1 of 1'));
    t.stdout.columns = 120;
    t.stdout.emit('resize');
    // Wide: feed and findings side by side, no tab strip.
    await t.waitForFrame(
      (f) => f.includes('Drops & resets  3 events') && f.includes('Findings  2 (1 critical)'),
    );
  });
});

describe('large diagnoses', () => {
  it('sorts in time slices, showing the previous order until the new one is ready', async () => {
    const big = (n: number) =>
      testSnapshot({ diagnosis: { ...TEST_DIAGNOSIS, flows: manyFlows(n) } });
    const store = createFakeStore(big(300));
    const t = renderTui(
      <App store={store} columns={80} rows={24} throttleMs={0} syncFlowLimit={100} />,
      { columns: 80, rows: 24 },
    );
    cleanup = t.unmount;
    await t.waitForFrame((f) => f.includes('of 300'));
    store.set(big(250));
    await t.waitForFrame((f) => f.includes('of 250') && !f.includes('updating…'));
    expect(t.frames.some((f) => f.includes('of 300') && f.includes('updating…'))).toBe(true);
    await t.press('s');
    await t.waitForFrame((f) => f.includes('sort idle') && !f.includes('updating…'));
  });
});

describe('throttledSubscribe', () => {
  it('coalesces a burst of notifications into one per window', () => {
    vi.useFakeTimers();
    try {
      const store = createFakeStore(testSnapshot());
      const onChange = vi.fn();
      const unsubscribe = throttledSubscribe(store, 200)(onChange);
      // After a quiet period the first burst is delivered on the next tick, as one call.
      for (let i = 0; i < 100; i++) store.set(testSnapshot());
      expect(onChange).not.toHaveBeenCalled();
      vi.advanceTimersByTime(0);
      expect(onChange).toHaveBeenCalledTimes(1);
      // The next burst waits for the rest of the 200 ms window.
      for (let i = 0; i < 100; i++) store.set(testSnapshot());
      vi.advanceTimersByTime(199);
      expect(onChange).toHaveBeenCalledTimes(1);
      vi.advanceTimersByTime(1);
      expect(onChange).toHaveBeenCalledTimes(2);
      unsubscribe();
      expect(store.listenerCount()).toBe(0);
      store.set(testSnapshot());
      vi.advanceTimersByTime(1000);
      expect(onChange).toHaveBeenCalledTimes(2);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('renderApp', () => {
  it('resolves and calls onExit when the user quits with q', async () => {
    const tty = fakeTty();
    const store = createFakeStore(testSnapshot());
    const onExit = vi.fn();
    const done = renderApp(store, {
      stdout: tty.stdout,
      stdin: tty.stdin,
      onExit,
      patchConsole: false,
    });
    // The UI loads asynchronously: a key sent before ink listens to stdin would be lost.
    while (tty.raw.listenerCount('readable') === 0) await new Promise((r) => setTimeout(r, 10));
    tty.type('q');
    await done;
    expect(onExit).toHaveBeenCalledTimes(1);
    expect(store.listenerCount()).toBe(0);
  });
});
