// kube-proxy's intended conntrack/IPVS values versus what the kernel has now (§4.3), incl. the
// 1.22–1.28 "only raise" policy that leaves the kernel's 432000 s ESTABLISHED timeout in place.
import type { Evidence } from '../../model/diagnosis.js';
import { isRaiseOnlyKubeProxy } from '../path/context.js';
import { CT_TCP_TIMEOUTS, CT_UDP, CT_UDP_STREAM } from '../../model/kernel-defaults.js';
import type { SuggestNeed } from '../needs.js';
import type { Draft, Rule } from '../rule.js';
import { evidence, fmtSec, makeDraft } from '../rule.js';

interface Managed {
  readonly key: string;
  readonly field: string;
  readonly fm: string;
  readonly intended: number;
  readonly kernelDefault: number;
}

export const kubeProxyDrift: Rule = {
  code: 'kube-proxy.drift',
  fm: 'FM-1',
  run(ctx) {
    const kp = ctx.table.kubeProxy;
    if (!kp) return [];
    const c = kp.value.conntrack;
    const ver = ctx.path.kubeProxyVersion;
    const managed: Managed[] = [
      {
        key: CT_TCP_TIMEOUTS.ESTABLISHED?.sysctl ?? '',
        field: 'conntrack.tcpEstablishedTimeout',
        fm: 'FM-1',
        intended: c.tcpEstablishedTimeout,
        kernelDefault: 432000,
      },
      {
        key: CT_TCP_TIMEOUTS.CLOSE_WAIT?.sysctl ?? '',
        field: 'conntrack.tcpCloseWaitTimeout',
        fm: 'FM-4',
        intended: c.tcpCloseWaitTimeout,
        kernelDefault: 60,
      },
      {
        key: CT_UDP.sysctl,
        field: 'conntrack.udpTimeout',
        fm: 'FM-9',
        intended: c.udpTimeout,
        kernelDefault: 30,
      },
      {
        key: CT_UDP_STREAM.sysctl,
        field: 'conntrack.udpStreamTimeout',
        fm: 'FM-9',
        intended: c.udpStreamTimeout,
        kernelDefault: 120,
      },
      {
        key: 'net.netfilter.nf_conntrack_tcp_be_liberal',
        field: 'conntrack.tcpBeLiberal',
        fm: 'FM-5',
        intended: c.tcpBeLiberal ? 1 : 0,
        kernelDefault: 0,
      },
    ];
    const out: Draft[] = [];
    const kpEv = evidence(
      kp.t,
      kp.src,
      kp.raw ??
        `kube-proxy ${kp.value.origin}${kp.value.configPath ? ` ${kp.value.configPath}` : ''}`,
    );
    for (const m of managed) {
      if (!(m.intended > 0)) continue; // 0 = kube-proxy leaves the kernel value alone (never writes be_liberal=0)
      const cur = ctx.table.sysctl(m.key);
      const n = cur ? Number(cur.value) : NaN;
      if (!cur || !Number.isFinite(n) || n === m.intended) continue;
      const evs: Evidence[] = [
        evidence(cur.t, cur.src, `${m.key} = ${cur.value}`),
        { ...kpEv, note: `${m.field} = ${m.intended}` },
      ];
      const raiseOnly =
        n > m.intended && n === m.kernelDefault && (isRaiseOnlyKubeProxy(ver) || ver === undefined);
      let cause: string;
      let severity: 'info' | 'warning' = 'warning';
      if (m.key.endsWith('be_liberal')) {
        cause = `kube-proxy is configured with tcpBeLiberal: true but the kernel has ${m.key} = ${cur.value}: kube-proxy only writes it at start (1.29+), so it was reset since or kube-proxy predates 1.29.`;
      } else if (raiseOnly) {
        severity = 'info';
        cause = `kube-proxy intends ${m.field} = ${fmtSec(m.intended)} but the kernel keeps its default ${fmtSec(n)}: kube-proxy ${ver ?? '1.22–1.28'} only raises this sysctl (set only if the current value is lower), so idle flows live ${fmtSec(n)} in conntrack and the table holds them longer.`;
      } else if (n < m.intended) {
        cause = `kube-proxy intends ${m.field} = ${fmtSec(m.intended)} but the kernel has ${fmtSec(n)}: something lowered it after kube-proxy started (kube-proxy writes it only at start), so idle flows are forgotten sooner than configured.`;
      } else {
        severity = 'info';
        cause = `kube-proxy intends ${m.field} = ${fmtSec(m.intended)} but the kernel has ${fmtSec(n)}: something raised it after kube-proxy started, and the next kube-proxy restart will lower it again.`;
      }
      const needs: SuggestNeed[] =
        n < m.intended || m.key.endsWith('be_liberal')
          ? [{ kind: 'kube-proxy-sysctl', key: m.key, value: m.intended }]
          : [];
      out.push(
        makeDraft({
          rule: 'kube-proxy.drift',
          fm: m.fm,
          subject: m.key,
          severity,
          confidence: 'certain',
          title: `Kernel ${m.key.replace('net.netfilter.', '')} differs from kube-proxy's ${m.field}`,
          cause,
          flows: [],
          evidence: evs,
          needs,
          t: Math.max(cur.t, kp.t),
        }),
      );
    }
    // IPVS timeouts: kube-proxy sets them at start when > 0 (ipvsadm --set), in IPVS mode.
    const it = ctx.table.ipvsTimeouts;
    if (kp.value.mode === 'ipvs' && it) {
      const pairs: [string, number, number, 'ipvs-tcp' | 'ipvs-tcpfin' | undefined, string][] = [
        ['ipvs.tcpTimeout', kp.value.ipvs.tcpTimeout, it.value.tcp, 'ipvs-tcp', 'FM-2'],
        ['ipvs.tcpFinTimeout', kp.value.ipvs.tcpFinTimeout, it.value.tcpfin, 'ipvs-tcpfin', 'FM-3'],
        ['ipvs.udpTimeout', kp.value.ipvs.udpTimeout, it.value.udp, undefined, 'FM-9'],
      ];
      for (const [field, intended, cur, need, fm] of pairs) {
        if (!(intended > 0) || intended === cur) continue;
        const evs = [
          evidence(
            it.t,
            it.src,
            it.raw ??
              `Timeout (tcp tcpfin udp): ${it.value.tcp} ${it.value.tcpfin} ${it.value.udp}`,
          ),
          { ...kpEv, note: `${field} = ${intended}s` },
        ];
        out.push(
          makeDraft({
            rule: 'kube-proxy.drift',
            fm,
            subject: field,
            severity: cur < intended ? 'warning' : 'info',
            confidence: 'certain',
            title: `IPVS ${field.replace('ipvs.', '')} differs from kube-proxy's ${field}`,
            cause: `kube-proxy intends ${field} = ${fmtSec(intended)} but IPVS has ${fmtSec(cur)}: kube-proxy sets it only at start and failures are only logged.`,
            flows: [],
            evidence: evs,
            needs: need && cur < intended ? [{ kind: need, aboveSec: intended - 1 }] : [],
            t: Math.max(it.t, kp.t),
          }),
        );
      }
    }
    return out;
  },
};
