// Opens the TUI on a recording or bundle.
import type { AnalyzeOptions } from '../../analysis/analyze.js';
import { loadReplaySession } from '../../services/replay-load.js';

/**
 * `kdiag replay FILE --ui` / `kdiag ui --replay FILE`; `atSec` positions it (negative: from the
 * end). Returns the exit status: q 1 with findings at the position left, else 0; Ctrl-C 130.
 */
export async function runReplayUi(
  input: string,
  analysis: AnalyzeOptions,
  atSec?: number,
): Promise<number> {
  const session = await loadReplaySession(input, analysis);
  if (atSec !== undefined)
    session.dispatch({
      type: 'seek',
      t: atSec >= 0 ? session.start + atSec * 1000 : session.end + atSec * 1000,
    });
  const { renderApp, exitCodeOf } = await import('../../ui/render-app.js');
  try {
    const how = await renderApp(session, {});
    return exitCodeOf(how, session.getSnapshot().diagnosis.findings.length);
  } finally {
    session.close();
  }
}
