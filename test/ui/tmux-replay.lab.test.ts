// A scripted terminal run: `kdiag replay <lab recording> --ui` under tmux, driven with send-keys and
// read with capture-pane, as a person would use it.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { labSkipReason } from '../helpers/lab-guard.js';
import { expectedFlow, RECORDING, seekToAtRisk } from '../helpers/replay-recording.js';

const exec = promisify(execFile);
const reason = labSkipReason('tmux');
const KDIAG = new URL('../../bin/kdiag.js', import.meta.url).pathname;
// A private tmux server, so a user's own sessions are never touched.
const SOCKET = `kdiag-test-${process.pid}`;

async function tmux(...args: string[]): Promise<string> {
  return (await exec('tmux', ['-L', SOCKET, ...args])).stdout;
}

async function screenUntil(
  predicate: (s: string) => boolean,
  what: string,
  timeoutMs = 15_000,
): Promise<string> {
  const until = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < until) {
    last = await tmux('capture-pane', '-t', 'kdiag', '-p');
    if (predicate(last)) return last;
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new Error(`screen never showed ${what}; last screen:\n${last}`);
}

describe.skipIf(reason)('kdiag replay --ui in a real terminal (tmux)', () => {
  afterAll(async () => {
    await tmux('kill-server').catch(() => undefined);
  });

  it('shows the at-risk flow, opens its finding and its suggestion', async () => {
    const flow = expectedFlow();
    const client = flow.split(' ')[1]!.split('>')[0]!;
    const { session, offsetSec } = await seekToAtRisk(flow);
    session.close();
    await tmux(
      'new-session',
      '-d',
      '-s',
      'kdiag',
      '-x',
      '100',
      '-y',
      '32',
      `${process.execPath} ${KDIAG} replay ${RECORDING} --ui --at ${offsetSec}s; sleep 5`,
    );

    const list = await screenUntil(
      (s) => s.includes('Flows at risk') && s.includes(client),
      'the flows pane',
    );
    const row = list.split('\n').find((l) => l.includes(client))!;
    expect(row, list).toMatch(/ct \d+s/);
    expect(list).toMatch(/REPLAY/);

    await tmux('send-keys', '-t', 'kdiag', 'Enter');
    const detail = await screenUntil((s) => s.includes('forgets first'), 'the flow detail');
    expect(detail).toMatch(/keepalive off/);

    await tmux('send-keys', '-t', 'kdiag', 'Enter');
    const finding = await screenUntil((s) => s.includes('Evidence chain'), 'the finding');
    expect(finding).toMatch(/FM-1/);
    expect(finding).toMatch(/conntrack/);

    await tmux('send-keys', '-t', 'kdiag', 'G');
    await screenUntil((s) => /▸\s+1\. socket/.test(s), 'the suggestion selected');
    await tmux('send-keys', '-t', 'kdiag', 'Enter');
    const fix = await screenUntil(
      (s) => s.includes('Suggestion') && s.includes('SO_KEEPALIVE'),
      'the suggestion',
    );
    expect(fix).toMatch(/TCP_KEEPIDLE/);

    await tmux('send-keys', '-t', 'kdiag', 'q');
    // ink leaves the last frame on screen; kdiag has quit when the pane runs the `sleep` after it.
    const until = Date.now() + 5000;
    let cmd = '';
    while (Date.now() < until && cmd !== 'sleep') {
      cmd = (await tmux('list-panes', '-t', 'kdiag', '-F', '#{pane_current_command}')).trim();
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(cmd).toBe('sleep');
  }, 60_000);
});
