// FM-12: the keepalive that should refresh every timer on the path is off, or fires too late.
import type { Evidence } from '../../model/diagnosis.js';
import type { PathTimeouts } from '../path/path-timeouts.js';
import type { Draft, Rule, RuleContext } from '../rule.js';
import { riskPaths } from './expiry-helpers.js';

const IN_FLIGHT = new Set(['unacknowledged', 'retransmits', 'zero-window']);
import {
  LAYER_NAME,
  byUrgency,
  dedupeEvidence,
  flowIds,
  fmtSec,
  groupBy,
  latestT,
  makeDraft,
} from '../rule.js';

function findings(ctx: RuleContext, off: boolean): Draft[] {
  const rule = off ? 'socket.keepalive-off' : 'socket.keepalive-too-long';
  // Keepalive does not fire while data is in flight: a flow on the unacknowledged clamp is FM-7's.
  const hits = riskPaths(ctx).filter(
    (p) =>
      p.keepalive.state === (off ? 'off' : 'on') &&
      !(p.first?.clamp && IN_FLIGHT.has(p.first.clamp)) &&
      // A proxy's timer counts application data: no keepalive setting can hold it.
      p.first?.noKeepaliveRefresh !== true,
  );
  const groups = groupBy(hits, (p) => {
    const s = off
      ? p.keepalive.sockets.find((x) => x.state === 'off')
      : p.keepalive.sockets.find((x) => x.state === 'on');
    return `${s?.side ?? '?'}@${s?.scope ?? 'host'}`;
  });
  const out: Draft[] = [];
  for (const [subject, g] of groups) {
    g.sort(byUrgency);
    const p = g[0] as PathTimeouts;
    const first = p.first;
    if (!first || first.timeoutSec === null) continue;
    const sock = off
      ? p.keepalive.sockets.find((x) => x.state === 'off')
      : p.keepalive.sockets.find((x) => x.state === 'on');
    if (!sock) continue;
    const evs: Evidence[] = [
      ...g.slice(0, 3).flatMap((x) => x.keepalive.sockets.flatMap((s) => s.evidence)),
      ...first.evidence,
    ];
    const who =
      g.length === 1
        ? `The ${sock.side} socket of this flow`
        : `${g.length} ${sock.side} sockets${sock.scope ? ` in netns ${sock.scope}` : ' in the host netns'}`;
    const layer = `${LAYER_NAME[first.layer]} forgets ${g.length === 1 ? 'it' : 'them'} after ${fmtSec(first.timeoutSec)} idle`;
    const idle =
      p.idleSec !== null
        ? `; ${g.length === 1 ? (p.expired ? 'it was' : 'it has been') : p.expired ? 'the idlest was' : 'the idlest has been'} idle ${fmtSec(p.idleSec)}${p.expired ? ' when it expired' : ''}`
        : '';
    let cause: string;
    if (off) {
      // The trap: the netns keepalive sysctl only applies to sockets with SO_KEEPALIVE.
      const trap =
        sock.netnsIdleSec !== undefined && sock.netnsEvidence
          ? `; net.ipv4.tcp_keepalive_time = ${sock.netnsIdleSec} in ${sock.scope ? `netns ${sock.scope}` : 'the host netns'} does not apply because it only affects sockets with SO_KEEPALIVE`
          : '';
      if (sock.netnsEvidence)
        evs.push({ ...sock.netnsEvidence, note: 'applies only to sockets with SO_KEEPALIVE' });
      cause = `${who} never enabled SO_KEEPALIVE, so nothing refreshes ${g.length === 1 ? 'it' : 'them'} while idle: ${layer}${idle}${trap}.`;
    } else {
      cause = `${who} ${g.length === 1 ? 'sends' : 'send'} keepalive only after ${fmtSec(sock.idleSec ?? 0)} idle (${sock.source}), but ${layer}${idle}.`;
    }
    const bothSeen = p.keepalive.sockets.length === 2;
    const ev = dedupeEvidence(evs);
    out.push(
      makeDraft({
        rule,
        fm: 'FM-12',
        subject,
        severity: g.some((x) => (x.first?.leftSec ?? Infinity) <= 0.2 * (x.first?.timeoutSec ?? 0))
          ? 'critical'
          : 'warning',
        confidence: off ? (bothSeen ? 'certain' : 'likely') : 'certain',
        title: off
          ? 'Keepalive is off on long-lived sockets'
          : 'Keepalive fires later than the path forgets the flow',
        cause,
        flows: flowIds(g),
        evidence: ev,
        needs: [{ kind: 'keepalive', paths: g }],
        t: latestT(ev, ctx.now),
      }),
    );
  }
  return out;
}

export const socketKeepaliveOff: Rule = {
  code: 'socket.keepalive-off',
  fm: 'FM-12',
  run: (ctx) => findings(ctx, true),
};
export const socketKeepaliveTooLong: Rule = {
  code: 'socket.keepalive-too-long',
  fm: 'FM-12',
  run: (ctx) => findings(ctx, false),
};
