// `kdiag trace --metrics` against the real thing: a lab scenario traced with the exporter on, a real
// Prometheus on loopback scraping it every second, then its HTTP API asked for the flow that was at
// risk and the reset counted under its cause; promtool checks the exposition and the alert rules.
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labSkipReason } from '../helpers/lab-guard.js';
import { traceScenario, tracedLab } from '../helpers/trace-harness.js';

const exec = promisify(execFile);

function prometheusSkipReason(): string | undefined {
  const lab = labSkipReason('root', 'netns', 'iptables', 'conntrack', 'bpftrace', 'tracefs');
  if (lab) return lab;
  for (const tool of ['prometheus', 'promtool']) {
    if (spawnSync(tool, ['--version'], { stdio: 'ignore' }).status === 0) continue;
    const why = `${tool} not installed (apt-get install prometheus)`;
    if (process.env.KDIAG_REQUIRE_LAB === '1')
      throw new Error(`KDIAG_REQUIRE_LAB=1 but the metrics lab cannot run: ${why}`);
    process.stderr.write(`[lab tests skipped: ${why}]\n`);
    return why;
  }
  return undefined;
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function query(
  base: string,
  q: string,
): Promise<{ metric: Record<string, string>; value: [number, string] }[]> {
  const res = await fetch(`${base}/api/v1/query?query=${encodeURIComponent(q)}`);
  const body = (await res.json()) as {
    status: string;
    data: { result: { metric: Record<string, string>; value: [number, string] }[] };
  };
  expect(body.status, q).toBe('success');
  return body.data.result;
}

const reason = prometheusSkipReason();

describe.skipIf(reason)('kdiag trace --metrics scraped by a real Prometheus', () => {
  const env = tracedLab('kdiag-metrics-');
  let prom: ChildProcess | undefined;
  let promExit: Promise<void> | undefined;
  let dir = '';
  let kdiagPort = 0;
  let promBase = '';

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kdiag-metrics-prom-'));
    kdiagPort = await freePort();
    const promPort = await freePort();
    promBase = `http://127.0.0.1:${promPort}`;
    const config = join(dir, 'prometheus.yml');
    await writeFile(
      config,
      [
        'global:',
        '  scrape_interval: 1s',
        '  evaluation_interval: 1s',
        'scrape_configs:',
        '  - job_name: kdiag',
        '    static_configs:',
        `      - targets: ['127.0.0.1:${kdiagPort}']`,
        '',
      ].join('\n'),
    );
    prom = spawn(
      'prometheus',
      [
        `--config.file=${config}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${promPort}`,
        '--log.level=warn',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    promExit = new Promise((r) => prom!.on('exit', () => r()));
    for (let i = 0; i < 60; i++) {
      const ok = await fetch(`${promBase}/-/ready`).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) return;
      await sleep(500);
    }
    throw new Error('prometheus not ready after 30 s');
  }, 60_000);

  afterAll(async () => {
    if (prom && prom.exitCode === null && prom.signalCode === null) {
      prom.kill('SIGTERM');
      await Promise.race([promExit, sleep(15_000)]);
      if (prom.exitCode === null && prom.signalCode === null) prom.kill('SIGKILL');
    }
    if (dir) await rm(dir, { recursive: true, force: true });
  }, 30_000);

  it('serves the at-risk flow and the reset by cause, and promtool accepts both files', async () => {
    const url = `http://127.0.0.1:${kdiagPort}/metrics`;
    let exposition = '';
    let polling = true;
    const poller = (async () => {
      while (polling) {
        const body = await fetch(url).then(
          (r) => (r.ok ? r.text() : ''),
          () => '',
        );
        if (body.includes('kdiag_flows_at_risk')) exposition = body;
        await sleep(1000);
      }
    })();
    // Trace runs on until its exposition counts the reset under the finding that explains it, then
    // 4 s more so that Prometheus (scraping every second) has the counter before kdiag stops.
    const counted =
      /^kdiag_packet_events_total\{[^}]*rule="conntrack\.established-expired"[^}]*\} [1-9]/m;
    const traced = await traceScenario(
      env.lab(),
      'conntrack-expiry',
      join(dir, 'trace.ndjson'),
      ['--metrics', `127.0.0.1:${kdiagPort}`],
      4_000,
      () => counted.test(exposition),
    );
    polling = false;
    await poller;
    expect(traced.result.matched, traced.result.summary).toBe(true);
    expect(traced.stderr).toContain(`Serving metrics on ${url}`);

    const atRisk = await query(
      promBase,
      'max_over_time(sum(kdiag_flows_at_risk{job="kdiag"})[10m:1s])',
    );
    expect(Number(atRisk[0]?.value[1] ?? 0)).toBeGreaterThan(0);
    const byCause = await query(
      promBase,
      'max_over_time(kdiag_packet_events_total{job="kdiag",rule="conntrack.established-expired"}[10m])',
    );
    const countedLines = exposition
      .split('\n')
      .filter((l) => l.startsWith('kdiag_packet_events_total'))
      .join('\n');
    expect(
      byCause.map((r) => r.metric.fm),
      `kdiag's last exposition:\n${countedLines}`,
    ).toContain('FM-1');
    expect(Math.max(...byCause.map((r) => Number(r.value[1])))).toBeGreaterThanOrEqual(1);

    // kdiag stopped with the trace: nothing listens on its port any more.
    expect(
      await fetch(url).then(
        () => 'open',
        () => 'closed',
      ),
    ).toBe('closed');

    const check = spawnSync('promtool', ['check', 'metrics'], {
      input: exposition,
      encoding: 'utf8',
    });
    expect(check.status, `${check.stdout}${check.stderr}`).toBe(0);
    const rules = await exec('promtool', [
      'check',
      'rules',
      new URL('../../deploy/prometheus-rules.yaml', import.meta.url).pathname,
    ]);
    expect(rules.stdout).toMatch(/SUCCESS/);
  }, 300_000);
});
