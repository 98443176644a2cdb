// FM-1/FM-5 side by side in kube-proxy's two netfilter modes, on the real kernel: the conntrack
// entry of an idle Service connection expires with nf_conntrack_tcp_loose=0, then the backend
// writes. Its segment is INVALID (no entry, not a SYN) and is not un-NAT'ed:
//   iptables mode  KUBE-FORWARD's `--ctstate INVALID -j DROP` drops it: the backend retransmits
//                  into a black hole until it gives up (ETIMEDOUT), the client hears nothing;
//   nftables mode  no rule drops it (kubernetes #122663): it reaches the client from the backend's
//                  address, the client's stack has no socket for that and answers RST, and the
//                  backend's connection dies with ECONNRESET.
import { run } from '../../host/exec.js';
import type { ProxyLab } from '../nft-lab.js';
import { ADDR } from '../topology.js';
import { Traffic } from '../traffic.js';
import { codeOutcome, sleep } from './helpers.js';
import type { AppOutcome } from './types.js';

export const NFT_EXPIRY_TIMEOUT_S = 3;
export const NFT_EXPIRY_IDLE_S = 5;

export interface ExpiryPushResult {
  readonly mode: ProxyLab['mode'];
  /** What the backend's application saw after its write. */
  readonly server: AppOutcome | 'no-error';
  /** The client received the backend's push. */
  readonly clientGotPush: boolean;
  /** `conntrack -S invalid` of the node, summed over CPUs, before and after. */
  readonly invalid: { readonly before: number; readonly after: number };
  readonly steps: string[];
}

/** `conntrack -S invalid` of a netns, summed over CPUs. */
export async function conntrackInvalid(netns: string): Promise<number> {
  const out = (await run(['conntrack', '-S'], { netns })).stdout;
  let n = 0;
  for (const m of out.matchAll(/\binvalid=(\d{1,20})/g)) n += Number(m[1]);
  return n;
}

/** The node's knobs for the scenario: a short ESTABLISHED timeout and no mid-stream pickup. */
export async function setExpiryKnobs(lab: ProxyLab): Promise<void> {
  await run(
    [
      'sysctl',
      '-q',
      '-w',
      `net.netfilter.nf_conntrack_tcp_timeout_established=${NFT_EXPIRY_TIMEOUT_S}`,
      'net.netfilter.nf_conntrack_tcp_loose=0',
      'net.netfilter.nf_conntrack_tcp_be_liberal=0',
    ],
    { netns: lab.ns.node },
  );
  // A few retransmissions, not 15 minutes of them, before a black-holed sender gives up.
  for (const n of [lab.ns.client, lab.ns.be1, lab.ns.be2])
    await run(['sysctl', '-q', '-w', 'net.ipv4.tcp_retries2=2'], { netns: n });
}

/** Runs the expiry-then-push scenario once on a built lab (knobs set by setExpiryKnobs). */
export async function runExpiryPush(lab: ProxyLab): Promise<ExpiryPushResult> {
  const steps: string[] = [];
  const traffic = await Traffic.open();
  try {
    const port = ['--port', String(ADDR.backendPort)];
    const servers = {
      be1: await traffic.start('be1', lab.ns.be1, 'server', port),
      be2: await traffic.start('be2', lab.ns.be2, 'server', port),
    };
    const client = await traffic.start('client', lab.ns.client, 'client');
    const before = await conntrackInvalid(lab.ns.node);
    client.send({ cmd: 'connect', host: ADDR.vip, port: ADDR.vipPort });
    const c = await client.waitFor((e) => e.ev === 'connected' || e.ev === 'error', 5000);
    if (c?.ev !== 'connected' || c.conn === undefined)
      throw new Error(`client could not connect to the VIP: ${c?.code ?? 'timeout'}`);
    const remote = `${ADDR.client}:${c.local?.split(':')[1] ?? ''}`;
    const accepted = await Promise.all(
      (['be1', 'be2'] as const).map(async (be) => ({
        be,
        e: await servers[be].waitFor((e) => e.ev === 'accept' && e.remote === remote, 3000),
      })),
    );
    const hit = accepted.find((a) => a.e?.conn !== undefined);
    if (!hit?.e?.conn) throw new Error('no backend accepted the connection');
    const server = servers[hit.be];
    const sconn = hit.e.conn;
    steps.push(`Client connected: ${remote} → ${ADDR.vip}:${ADDR.vipPort}, DNAT'd to ${hit.be}`);
    await sleep(NFT_EXPIRY_IDLE_S * 1000);
    steps.push(
      `Idle ended after ${NFT_EXPIRY_IDLE_S} s (ESTABLISHED timeout ${NFT_EXPIRY_TIMEOUT_S} s)`,
    );
    const cFrom = client.events.length;
    const sFrom = server.events.length;
    server.send({ cmd: 'write', conn: sconn, data: 'push-after-idle' });
    const err = await server.waitFor((e) => e.conn === sconn && e.ev === 'error', 15000, sFrom);
    const clientGotPush = client.events
      .slice(cFrom)
      .some((e) => e.ev === 'data' && (e.text ?? '').includes('push-after-idle'));
    steps.push(err ? `Backend saw ${err.code ?? 'an error'}` : 'Backend saw no error');
    const after = await conntrackInvalid(lab.ns.node);
    return {
      mode: lab.mode,
      server: err ? codeOutcome(err.code) : 'no-error',
      clientGotPush,
      invalid: { before, after },
      steps,
    };
  } finally {
    await traffic.close().catch(() => undefined);
  }
}
