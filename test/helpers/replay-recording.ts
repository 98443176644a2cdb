// Finds, in a recorded lab session, the moment the client's flow was at risk (for the UI tests).
import { readFileSync } from 'node:fs';
import { loadReplaySession } from '../../src/services/replay-load.js';
import type { ReplaySession } from '../../src/services/replay-session.js';

export const SESSION_DIR = new URL('../../fixtures/sessions/conntrack-expiry/', import.meta.url)
  .pathname;
export const RECORDING = `${SESSION_DIR}recording.ndjson`;

export function expectedFlow(): string {
  return (JSON.parse(readFileSync(`${SESSION_DIR}expected.json`, 'utf8')) as { flow: string }).flow;
}

/** Loads the recording and seeks, second by second, to the first moment `flow` is predicted to break. */
export async function seekToAtRisk(
  flow: string,
): Promise<{ session: ReplaySession; offsetSec: number }> {
  const session = await loadReplaySession(RECORDING, {});
  for (let off = 0; session.start + off * 1000 <= session.end; off++) {
    session.dispatch({ type: 'seek', t: session.start + off * 1000 });
    if (session.getSnapshot().diagnosis.predictions.some((p) => p.flow === flow))
      return { session, offsetSec: off };
  }
  session.close();
  throw new Error(`${flow} is never predicted at risk in ${RECORDING}`);
}
