import { describe, expect, it } from 'vitest';
import { PendingStore, startingSnapshot } from '../../src/services/pending-store.js';
import { createFakeStore } from '../helpers/fake-store.js';
import { testSnapshot } from '../helpers/ui-test-data.js';

describe('PendingStore', () => {
  it('shows the probes attaching and the event stream starting, no flow and no finding', () => {
    const s = new PendingStore(startingSnapshot({ probes: true, record: '/tmp/r.ndjson' }));
    const snap = s.getSnapshot();
    expect(snap.sources.map((h) => `${h.id} ${h.state}`)).toEqual([
      'bpftrace starting',
      'conntrack:events starting',
    ]);
    expect(snap.diagnosis.findings).toEqual([]);
    expect(snap.diagnosis.flows).toEqual([]);
    expect(snap.recording).toEqual({ path: '/tmp/r.ndjson', records: 0 });
    expect(s.getSnapshot()).toBe(snap);
    expect(startingSnapshot({ probes: false }).sources.map((h) => h.id)).toEqual([
      'conntrack:events',
    ]);
  });

  it('hands its readers, listeners and a pause asked for meanwhile over to the session', async () => {
    const s = new PendingStore(startingSnapshot({ probes: true }));
    let heard = 0;
    const off = s.subscribe(() => heard++);
    s.dispatch({ type: 'apply', suggestion: 'x' });
    s.dispatch({ type: 'pause' });
    expect(s.getSnapshot().paused).toBe(true);
    expect(heard).toBe(1);
    await expect(s.planApply('x')).rejects.toThrow(/still starting/);

    const session = createFakeStore(testSnapshot());
    s.attach(session);
    expect(session.commands).toEqual([{ type: 'pause' }]);
    expect(heard).toBe(2);
    expect(s.getSnapshot()).toBe(session.getSnapshot());
    s.dispatch({ type: 'resume' });
    expect(session.commands).toEqual([{ type: 'pause' }, { type: 'resume' }]);
    expect(session.listenerCount()).toBe(1);
    off();
    expect(session.listenerCount()).toBe(0);
  });
});
