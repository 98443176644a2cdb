// Opens the TUI on a recording or bundle.
import type { AnalyzeOptions } from '../../analysis/analyze.js';
import { loadReplaySession } from '../../services/replay-load.js';

/** `kdiag replay FILE --ui` / `kdiag ui --replay FILE`; `atSec` positions it (negative: from the end). */
export async function runReplayUi(
  input: string,
  analysis: AnalyzeOptions,
  atSec?: number,
): Promise<void> {
  const session = await loadReplaySession(input, analysis);
  if (atSec !== undefined)
    session.dispatch({
      type: 'seek',
      t: atSec >= 0 ? session.start + atSec * 1000 : session.end + atSec * 1000,
    });
  try {
    const { renderApp } = await import('../../ui/render-app.js');
    await renderApp(session, {});
  } finally {
    session.close();
  }
}
