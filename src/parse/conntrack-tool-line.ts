// Lines conntrack(8) writes to stderr that end up among the rows of a capture: its summary and its
// (or libnetfilter_conntrack's) error messages. Shared by the entry, event and stats parsers.
import { quote } from './byte-lexer.js';
import { SKIP, lineIssue, type LineOutcome } from './result.js';

const TOOL_MESSAGE = 'conntrack.tool-message';

const SUMMARY =
  /^conntrack v[0-9.]{1,20} \(conntrack-tools\): [0-9]{1,20} flow (?:entries|events|expectations) have been (?:shown|deleted|updated|created)\.$/;

/**
 * What to do with a line conntrack(8) wrote to stderr and that ended up among the rows: the
 * `N flow entries have been shown.` summary is skipped; other messages from the tool are issues.
 * Returns undefined for a line that is not a tool message.
 */
export function conntrackToolLine(line: string): LineOutcome<never> | undefined {
  if (line.startsWith('conntrack v')) {
    if (line.length < 200 && SUMMARY.test(line)) return SKIP;
    return lineIssue(TOOL_MESSAGE, `conntrack says: ${quote(line, 0, line.length)}`);
  }
  if (line.startsWith('nfct_')) {
    // e.g. `nfct_labelmap_new: No such file or directory` with -o labels and no connlabel.conf
    return lineIssue(TOOL_MESSAGE, `libnetfilter_conntrack says: ${quote(line, 0, line.length)}`);
  }
  return undefined;
}
