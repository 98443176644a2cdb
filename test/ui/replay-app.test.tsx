// The whole app on a real lab recording: ReplaySession (records → pipeline → model → analysis) into <App>.
import { afterEach, describe, expect, it } from 'vitest';
import type { ReplaySession } from '../../src/services/replay-session.js';
import { App } from '../../src/ui/app.js';
import { KEY, renderTui } from '../helpers/render-tui.js';
import { expectedFlow, seekToAtRisk } from '../helpers/replay-recording.js';

describe('the TUI on the conntrack-expiry lab recording', () => {
  let session: ReplaySession | undefined;
  afterEach(() => session?.close());

  it('shows the at-risk flow, then its finding with evidence, then the fix', async () => {
    const flow = expectedFlow();
    const client = flow.split(' ')[1]!.split('>')[0]!;
    ({ session } = await seekToAtRisk(flow));
    const t = renderTui(<App store={session} columns={100} rows={32} throttleMs={0} />, {
      columns: 100,
      rows: 32,
    });
    try {
      const list = await t.waitForFrame((f) => f.includes('Flows at risk') && f.includes(client));
      const row = list.split('\n').find((l) => l.includes(client))!;
      expect(row).toMatch(/ct \d+s/);
      t.stdin.write(KEY.enter);
      const detail = await t.waitForFrame((f) => f.includes('forgets first'));
      expect(detail).toMatch(/conntrack\s+5s/);
      t.stdin.write(KEY.enter);
      const finding = await t.waitForFrame((f) => f.includes('Evidence chain'));
      expect(finding).toMatch(/FM-1/);
      // The flow is at risk from its first idle second (issue 19): the timeout it races is the one
      // conntrack set on its entry, read before the sysctl reading arrives.
      expect(finding).toMatch(/the timeout conntrack set on the entry \(\[UPDATE\] … 5/);
      t.stdin.write('G');
      await t.waitForFrame((f) => /▸\s+1\. socket/.test(f));
      t.stdin.write(KEY.enter);
      const fix = await t.waitForFrame(
        (f) => f.includes('Suggestion') && f.includes('SO_KEEPALIVE'),
      );
      expect(fix).toMatch(/app-keepalive/);
    } finally {
      t.unmount();
    }
  }, 30_000);
});
