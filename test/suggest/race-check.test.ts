// Point 9 of issue 19: every suggestion that changes a timer is tried on the race of the flows it
// targets first. Each case below printed a change that does not work before the check existed.
import { describe, expect, it } from 'vitest';
import { renderFindings, renderSuggestions } from '../../src/cli/output/report-text.js';
import { diagnose } from '../../src/engine/diagnose.js';
import { unfixedFindings } from '../../src/suggest/suggest.js';
import type { Observation } from '../../src/model/observation.js';
import { T0, ct, ctSnapshot, obs, sock, ssSnapshot, tableOf } from '../helpers/builders.js';

const EST = 'net.netfilter.nf_conntrack_tcp_timeout_established';
const ORIG = '10.0.0.1:5000>10.96.0.20:5432';
const REPLY = '10.0.0.7:5432>10.0.0.1:5000';
const FLOW = `tcp ${ORIG}`;

/** One live flow in the host netns: conntrack entry with `left` s on its timer, the client socket. */
function live(o: {
  sysctls: Record<string, string>;
  left: number;
  idleMs: number;
  keepaliveMs?: number;
}): Observation[] {
  return [
    obs.sysctls(T0, o.sysctls),
    ...ctSnapshot(T0, [ct(ORIG, REPLY, { timeout: o.left })]),
    ...ssSnapshot(T0, [
      sock('10.0.0.1:5000', '10.96.0.20:5432', {
        ...(o.keepaliveMs !== undefined
          ? { timer: { name: 'keepalive', remainingMs: o.keepaliveMs, count: 0 } }
          : {}),
        lastsndMs: o.idleMs,
        lastrcvMs: o.idleMs,
        lastackMs: o.idleMs,
      }),
    ]),
  ];
}

/**
 * The host's keepalive time (300 s) never reached netns app (7200 s), and the only flow in app has no
 * SO_KEEPALIVE, which a keepalive sysctl needs.
 */
function keepaliveNotInNetns(): Observation[] {
  return [
    obs.sysctls(T0, { [EST]: '600', 'net.ipv4.tcp_keepalive_time': '300' }),
    obs.sysctls(T0, { 'net.ipv4.tcp_keepalive_time': '7200' }, 'app'),
    ...ctSnapshot(T0, [ct(ORIG, REPLY, { timeout: 590 })]),
    ...ssSnapshot(
      T0,
      [
        sock('10.0.0.1:5000', '10.96.0.20:5432', {
          lastsndMs: 10_000,
          lastrcvMs: 10_000,
          lastackMs: 10_000,
        }),
      ],
      'app',
    ),
  ];
}

const ids = (list: Observation[]) => diagnose(tableOf(list)).suggestions.map((s) => s.id);

describe('suggestions checked against the timer race', () => {
  it('never give a keepalive interval equal to the timeout it races', () => {
    // A 5 s timeout: the friendly plan was idle 4 s, interval 5 s, whose answered probes come every
    // max(4, 5) = 5 s, at the very moment the entry runs out.
    const d = diagnose(tableOf(live({ sysctls: { [EST]: '5' }, left: 4, idleMs: 1000 })));
    const app = d.suggestions.find((s) => s.id === 'app-keepalive');
    expect(app?.title).toMatch(/idle 4 s, interval [12] s/);
    expect(app?.checked).toMatchObject({ targets: 1, saves: [FLOW], atRisk: [] });
  });

  it('do not lower the keepalive time when the interval is what races the timeout', () => {
    // keepidle 60 s < 600 s, but answered probes come every keepintvl 700 s: the race breaks at 650 s.
    const list = live({
      sysctls: {
        [EST]: '600',
        'net.ipv4.tcp_keepalive_time': '60',
        'net.ipv4.tcp_keepalive_intvl': '700',
        'net.ipv4.tcp_keepalive_probes': '9',
      },
      left: 590,
      idleMs: 10_000,
      keepaliveMs: 50_000,
    });
    const d = diagnose(tableOf(list));
    expect(d.suggestions.map((s) => s.id)).not.toContain('node-keepalive-time');
    const intvl = d.suggestions.find((s) => s.id === 'node-keepalive-intvl');
    expect(intvl?.change).toEqual({
      kind: 'sysctl',
      key: 'net.ipv4.tcp_keepalive_intvl',
      value: '30',
    });
    expect(intvl?.checked?.saves).toEqual([FLOW]);
  });

  it('give no keepalive sysctl for sockets without SO_KEEPALIVE: the application must set it', () => {
    // The host's keepalive time (300 s) never reached netns app (7200 s): the budget finding asks for
    // it there. The only flow in app has no SO_KEEPALIVE, which the sysctl needs.
    const list = keepaliveNotInNetns();
    const d = diagnose(tableOf(list));
    expect(d.findings.map((f) => f.id)).toContain('node.timeout-budget:keepalive-not-in-netns@app');
    expect(d.suggestions.map((s) => s.id)).not.toContain('pod-keepalive-time');
    expect(d.suggestions.find((s) => s.id === 'app-keepalive')?.checked?.saves).toEqual([FLOW]);
  });

  it('never raise a timeout to the value already in force', () => {
    // The entry expired under 600 s; the sysctl was raised to 86400 s afterwards. "Raise to 1 d" would
    // change nothing.
    const list: Observation[] = [
      obs.sysctls(T0, { [EST]: '600' }),
      obs.entry(T0, ct(ORIG, REPLY, { timeout: 600 })),
      obs.event(
        T0 + 600_000,
        { type: 'DESTROY', entry: ct(ORIG, REPLY, { timeout: null }) },
        '[1795407600.000000]\t[DESTROY] tcp      6 ESTABLISHED src=10.0.0.1 dst=10.96.0.20 sport=5000 dport=5432 src=10.0.0.7 dst=10.0.0.1 sport=5432 dport=5000 [ASSURED]',
      ),
      obs.sysctls(T0 + 700_000, { [EST]: '86400' }),
    ];
    const d = diagnose(tableOf(list));
    expect(d.findings.map((f) => f.rule)).toContain('conntrack.established-expired');
    expect(ids(list)).not.toContain('node-conntrack-established');
  });

  it('do not present a timeout raise as saving flows whose entries keep the old deadline', () => {
    // Keepalive after 600 s idle; the entry holds 250 s. A raised sysctl reaches the entry only at
    // its next packet, which the keepalive sends 550 s from now: too late.
    const list = live({
      sysctls: {
        [EST]: '300',
        'net.ipv4.tcp_keepalive_time': '600',
        'net.ipv4.tcp_keepalive_intvl': '75',
        'net.ipv4.tcp_keepalive_probes': '9',
      },
      left: 250,
      idleMs: 50_000,
      keepaliveMs: 550_000,
    });
    const d = diagnose(tableOf(list));
    const raise = d.suggestions.find((s) => s.id === 'node-conntrack-established');
    expect(raise?.checked).toMatchObject({ targets: 1, saves: [], savesLater: 1 });
    expect(raise?.checked?.atRisk[0]?.reason).toContain('next packet');
    const text = renderSuggestions(d, 200).join('\n');
    expect(text).toContain('Saves none of the 1 flow it targets now (timer race).');
    expect(text).toContain('1 flow stay at risk (1 safe only after their next packet)');
  });
});

describe('a finding the race leaves with no fix', () => {
  it('names the refused change and the suggestion that saves its flows instead', () => {
    // Same input as the SO_KEEPALIVE case above: the budget finding's pod sysctl is refused, and
    // before this its finding printed no fix line at all, as if nothing were needed.
    const list = keepaliveNotInNetns();
    const d = diagnose(tableOf(list));
    const f = d.findings.find((x) => x.id === 'node.timeout-budget:keepalive-not-in-netns@app');
    expect(f?.suggestions).toEqual([]);
    expect(f?.noFix).toMatch(
      /^its own change does not help \(pod-keepalive-time saves none of the 1 flow it targets \(its sockets have no SO_KEEPALIVE/,
    );
    expect(f?.noFix).toMatch(/; app-keepalive saves its flows$/);
    expect(renderFindings(d, 200).join('\n')).toContain('no fix: its own change does not help');
    for (const g of d.findings) if (g.suggestions.length > 0) expect(g.noFix).toBeUndefined();
  });

  it('says no change saves the flows when no kept suggestion does', () => {
    const out = unfixedFindings(
      [
        {
          id: 'a',
          fixes: ['F'],
          reason: 'saves none of the 2 flows it targets (x)',
          flows: ['f1'],
        },
        { id: 'b', fixes: ['F', 'G'], reason: 'is no raise', flows: [] },
      ],
      [],
      new Map([['G', ['c']]]),
    );
    expect(out.get('F')).toBe(
      'no change kdiag can make saves these flows: a saves none of the 2 flows it targets (x); b is no raise',
    );
    expect(out.has('G')).toBe(false);
  });
});
