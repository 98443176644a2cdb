// `ipvsadm -Ln --timeout`: the IPVS idle timeouts in seconds.
import type { IpvsTimeouts } from '../model/ipvs.js';
import { promptOf, withoutLeadingNoise, withoutTrailingNote } from './paste-noise.js';
import { clip, type ParseIssue, type ParseResult } from './result.js';
import { parseCount } from './ipvsadm-services.js';

const PREFIX = 'Timeout (tcp tcpfin udp):';

/** Parses the `Timeout (tcp tcpfin udp): 900 120 300` line; null (with an issue) when absent. */
export function parseIpvsTimeout(text: string): ParseResult<IpvsTimeouts | null> {
  const issues: ParseIssue[] = [];
  let value: IpvsTimeouts | null = null;
  const lines = text.split('\n');
  for (let n = 0; n < lines.length; n++) {
    const raw = lines[n]!.replace(/\r$/, '');
    if (raw.trim() === '' || promptOf(raw) !== undefined) continue;
    const lead = withoutLeadingNoise(raw) ?? raw;
    const line = withoutTrailingNote(lead) ?? lead;
    const at = (code: string, message: string): void => {
      issues.push({ line: n + 1, code, message, text: clip(line) });
    };
    if (!line.startsWith(PREFIX) || line.length > 200) {
      at('ipvsadm.bad-row', 'not a "Timeout (tcp tcpfin udp):" line');
      continue;
    }
    const nums = line
      .slice(PREFIX.length)
      .trim()
      .split(/\s+/)
      .map((t) => parseCount(t, 0x7fffffff));
    const [tcp, tcpfin, udp] = nums;
    if (nums.length !== 3 || tcp === undefined || tcpfin === undefined || udp === undefined) {
      at('ipvsadm.bad-timeout', 'expected three whole-second values');
      continue;
    }
    if (value !== null) at('ipvsadm.duplicate-timeout', 'second timeout line; the last one wins');
    value = { tcp, tcpfin, udp };
  }
  if (value === null && issues.length === 0) {
    issues.push({
      line: 1,
      code: 'ipvsadm.no-timeout',
      message: 'no "Timeout (tcp tcpfin udp):" line',
    });
  }
  return { value, issues };
}
