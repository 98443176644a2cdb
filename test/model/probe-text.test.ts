import { describe, expect, it } from 'vitest';
import type { ProbeEvent } from '../../src/model/probe-event.js';
import { probeEventText, probeWhere } from '../../src/model/probe-text.js';

const tuple = { proto: 'tcp', saddr: '10.0.0.2', sport: 8080, daddr: '10.0.0.1', dport: 42766 };

describe('probeEventText', () => {
  it('says each kind of probe event in one line', () => {
    const cases: [ProbeEvent, string][] = [
      [
        { kind: 'drop', reason: 'NO_SOCKET', location: 'tcp_v4_rcv', netns: 0, tuple },
        'DROP NO_SOCKET 10.0.0.2:8080 > 10.0.0.1:42766 at tcp_v4_rcv',
      ],
      [
        {
          kind: 'reset',
          direction: 'sent',
          mode: 'passive',
          reason: 'NO_SOCKET',
          state: 'UNKNOWN',
          netns: 0,
          tuple,
        },
        'RST sent passive 10.0.0.2:8080 > 10.0.0.1:42766 NO_SOCKET state UNKNOWN',
      ],
      [
        { kind: 'retransmit', state: 'ESTABLISHED', count: 3, netns: 0, tuple },
        'RETRANS 10.0.0.2:8080 > 10.0.0.1:42766 ×3 ESTABLISHED',
      ],
      [
        {
          kind: 'state',
          oldState: 'SYN_SENT',
          newState: 'ESTABLISHED',
          keepalive: { enabled: true, idleSec: 60, intervalSec: 10, probes: 3 },
          netns: 0,
          tuple,
        },
        'STATE SYN_SENT > ESTABLISHED 10.0.0.2:8080 > 10.0.0.1:42766 keepalive on idle 60',
      ],
      [
        {
          kind: 'state',
          oldState: 'ESTABLISHED',
          newState: 'ESTABLISHED',
          trigger: 'setsockopt',
          option: 'SO_KEEPALIVE',
          pid: 42,
          keepalive: { enabled: true, idleSec: 0, intervalSec: 0, probes: 0 },
          netns: 0,
          tuple,
        },
        'KEEPALIVE 10.0.0.2:8080 > 10.0.0.1:42766 on idle sysctl (SO_KEEPALIVE) pid 42',
      ],
      [
        {
          kind: 'activity',
          lastNs: 1,
          packets: 1,
          netns: 0,
          tuple: { ...tuple, saddr: 'fd00::2', daddr: 'fd00::1' },
        },
        'ACTIVITY [fd00::2]:8080 > [fd00::1]:42766 1 packet',
      ],
      [
        { kind: 'probe-status', status: 'lost', count: 5, message: 'Lost 5 events' },
        'Lost 5 events',
      ],
    ];
    for (const [e, text] of cases) expect(probeEventText(e)).toBe(text);
  });

  it('names the namespace it happened in, by name when one is known', () => {
    const e: ProbeEvent = {
      kind: 'drop',
      reason: 'NO_SOCKET',
      location: 'tcp_v4_rcv',
      netns: 4026532522,
      tuple,
    };
    expect(probeWhere(e)).toBe('netns 4026532522');
    expect(probeWhere(e, 'kdiag-lab-be2')).toBe('in kdiag-lab-be2 (netns 4026532522)');
    expect(probeWhere({ ...e, netns: 0 })).toBe('');
    expect(probeEventText(e, probeWhere(e, 'be2'))).toBe(
      'DROP NO_SOCKET 10.0.0.2:8080 > 10.0.0.1:42766 at tcp_v4_rcv in be2 (netns 4026532522)',
    );
  });
});
