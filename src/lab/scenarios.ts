// The lab's scenarios: each sets the kernel knobs it needs, drives real traffic through the
// node namespace and reports what the application saw, the flow's tuples and the conntrack events.
// One file per scenario under scenarios/; this file runs one of them end to end.
import { UsageError } from '../errors.js';
import { CtEventCapture, parseCtEventLine, type CtEvent } from './ct-events.js';
import { labUp, type Lab, type OnStep } from './lab.js';
import { Ctx } from './scenarios/context.js';
import { beAddr, VIP } from './scenarios/helpers.js';
import { SCENARIOS } from './scenarios/index.js';
import type { ScenarioResult } from './scenarios/types.js';
import { ADDR, NS, backendOf } from './topology.js';
import { Traffic } from './traffic.js';

export { SCENARIOS } from './scenarios/index.js';
export { EXPIRY_IDLE_S, EXPIRY_TIMEOUT_S } from './scenarios/helpers.js';
export type { AppOutcome, FlowTuple, ScenarioResult } from './scenarios/types.js';

export interface RunScenarioOptions {
  /** A lab that is up; without one, a lab is brought up and removed again (unless `keep`). */
  readonly lab?: Lab;
  readonly keep?: boolean;
  readonly onStep?: OnStep;
  /** Called after setup (knobs set, backends listening, conntrack capture running), before traffic. */
  readonly onReady?: (lab: Lab) => void | Promise<void>;
}

/** Scenario ids with their FM id and one-line description. */
export function listScenarios(): Array<{ id: string; fm: string; title: string }> {
  return SCENARIOS.map(({ id, fm, title }) => ({ id, fm, title }));
}

/** Runs one scenario end to end and returns what the kernel and the applications really did. */
export async function runScenario(
  name: string,
  opts: RunScenarioOptions = {},
): Promise<ScenarioResult> {
  const def = SCENARIOS.find((s) => s.id === name);
  if (!def)
    throw new UsageError(
      `unknown scenario: ${name}`,
      `one of: ${SCENARIOS.map((s) => s.id).join(', ')}`,
    );
  const start = Date.now();
  const ownLab = opts.lab === undefined;
  const lab = opts.lab ?? (await labUp(opts.onStep ? { onStep: opts.onStep } : {}));
  let traffic: Traffic | undefined;
  let ctx: Ctx | undefined;
  try {
    const dropInvalid = def.dropInvalid ?? (await lab.dropInvalid());
    await lab.reset({ dropInvalid });
    const settings: ScenarioResult['settings'] = {};
    for (const [netns, values] of Object.entries(def.settings)) {
      const sysctls = Object.fromEntries(
        Object.entries(values).filter(([k]) => k.startsWith('net.')),
      );
      await lab.sysctl(netns, sysctls);
      settings[netns] = { ...values };
    }
    settings[NS.node] = { ...(settings[NS.node] ?? {}), 'KUBE-FORWARD INVALID DROP': dropInvalid };
    const knobs = Object.entries(settings)
      .flatMap(([netns, v]) =>
        Object.entries(v).map(
          ([k, val]) =>
            `${k.replace(/^net\.(netfilter|ipv4)\.(nf_conntrack_)?/, '')}=${val} (${netns.slice(10)})`,
        ),
      )
      .join(', ');
    opts.onStep?.({
      t: Date.now(),
      name: 'settings',
      message: `Scenario settings applied: ${knobs}`,
    });

    traffic = await Traffic.open();
    ctx = new Ctx(lab, traffic, opts.onStep);
    ctx.servers = {
      be1: await traffic.start('be1', NS.be1, 'server', ['--port', String(ADDR.backendPort)]),
      be2: await traffic.start('be2', NS.be2, 'server', ['--port', String(ADDR.backendPort)]),
    };
    ctx.client = await traffic.start('client', NS.client, 'client');
    ctx.step(
      'traffic',
      `Traffic agents started: backends on ${ADDR.be1}:${ADDR.backendPort} and ${ADDR.be2}:${ADDR.backendPort}, client in ${NS.client}`,
    );
    ctx.ct = await CtEventCapture.start(NS.node, def.ctFilter ?? []);
    ctx.step('capture', `Conntrack events capture started in ${NS.node}`);
    const before = await lab.conntrackStats();
    await opts.onReady?.(lab);
    const ready = ctx.mark('ready');

    const r = await def.run(ctx);
    const after = await lab.conntrackStats();
    const lines = await ctx.ct.stop();
    const flow = r.flow;
    const events = lines.map(parseCtEventLine).filter((e): e is CtEvent => e !== undefined);
    const afterBe =
      r.backendAfter ??
      beAddr(
        backendOf(
          events
            .filter(
              (e) => flow && e.orig?.sport === flow.tuple.sport && e.type === 'NEW' && e.unreplied,
            )
            .pop()?.reply?.src,
        ),
        flow?.tuple.src.includes(':'),
      );
    for (const k of ['invalid', 'drop', 'early_drop', 'insert_failed'] as const) {
      const d = (after[k] ?? 0) - (before[k] ?? 0);
      if (d !== 0) ctx.notes.push(`conntrack -S ${k} +${d}`);
    }
    const matched =
      r.outcome.client === def.expected.client &&
      (def.expected.server === undefined || r.outcome.server === def.expected.server);
    const result: ScenarioResult = {
      scenario: def.id,
      fm: def.fm,
      title: def.title,
      clientTuple: flow?.tuple,
      vip: VIP,
      backendBefore: beAddr(flow?.backend, flow?.tuple.src.includes(':')),
      backendAfter: afterBe,
      outcome: r.outcome,
      expected: def.expected,
      matched,
      summary: '',
      settings,
      timestamps: {
        ...(ctx.ts as object),
        start,
        ready,
        end: Date.now(),
      } as ScenarioResult['timestamps'],
      idleMs: r.idleMs,
      conntrackEvents: lines,
      conntrackStats: { before, after },
      notes: ctx.notes,
    };
    return { ...result, summary: summarize(result) };
  } finally {
    if (ctx?.ct) await ctx.ct.stop().catch(() => undefined);
    await traffic?.close().catch(() => undefined);
    if (ownLab && !opts.keep) await lab.down();
  }
}

/** One line: scenario, FM id, what the client (and server) saw, the backend change. */
export function summarize(r: ScenarioResult): string {
  const who = `client ${r.outcome.client}${r.outcome.server ? `, backend ${r.outcome.server}` : ''}`;
  const be =
    r.backendAfter && r.backendAfter !== r.backendBefore
      ? `; ${r.backendBefore} → ${r.backendAfter}`
      : r.backendBefore
        ? `; backend ${r.backendBefore}`
        : '';
  return `${r.scenario} (${r.fm}): ${who}${be}${r.matched ? '' : ` (expected client ${r.expected.client})`}`;
}
