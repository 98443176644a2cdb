// The exporter's cost (`kdiag trace --metrics`): one scrape (diagnosis → samples → exposition text)
// for a node of 100,000 flows, 66,667 of them at risk across 500 Services (the diagnosis lists 500
// flow views, its default --max-flows; every prediction is counted), 200 network namespaces of
// sysctls; and the memory the registry adds. Target: a scrape under 250 ms, so a 1 s
// Prometheus scrape interval costs at most a quarter of a core (set the interval to 15 s or more).
import { performance } from 'node:perf_hooks';
import type { Diagnosis, Prediction } from '../src/model/diagnosis.js';
import type { SettingsView } from '../src/metrics/diagnosis-metrics.js';
import { createDiagnosisExporter } from '../src/metrics/registry.js';
import { fmt, fullGc, mb, median, type FigureResult } from './lib.js';
import { syntheticFlows } from './ui-frame.js';

const FLOWS = 100_000;
const SCRAPES = 20;
/** Flow views a diagnosis lists by default (analyze.ts maxFlows). */
const LISTED = 500;
const TARGET_MS = 250;

function diagnosis(): Diagnosis {
  const all = syntheticFlows(FLOWS).map((f, i) => ({ ...f, service: `shop/svc-${i % 500}` }));
  const predictions: Prediction[] = all
    .filter((f) => f.firstToForget !== undefined)
    .map((f) => ({
      flow: f.id,
      layer: 'path',
      timeoutSec: 350,
      idleSec: f.idleSec ?? 0,
      breaksInSec: Math.max(0, 350 - (f.idleSec ?? 0)),
      breaksAt: 0,
      cause: 'bench',
    }));
  const flows = all.filter((f) => f.firstToForget !== undefined).slice(0, LISTED);
  return { at: Date.now(), findings: [], predictions, suggestions: [], flows };
}

const SCOPES = ['', ...Array.from({ length: 199 }, (_, i) => `pod_ns_p-${i}`)];
const SETTINGS: SettingsView = {
  sysctlScopes: () => [...SCOPES],
  sysctlNum: (key) =>
    key.endsWith('established') ? 86400 : key.includes('keepalive') ? 7200 : 120,
  kubeProxy: undefined,
  ipvsTimeouts: { value: { tcp: 900, tcpfin: 120, udp: 300 } },
};

/** Median scrape time and the registry's memory for a 100,000-flow diagnosis. */
export async function figMetricsExporter(): Promise<FigureResult> {
  const d = diagnosis();
  fullGc();
  const before = process.memoryUsage().rss;
  const exporter = createDiagnosisExporter(() => ({
    diagnosis: d,
    settings: SETTINGS,
    sources: [],
    parseIssues: 0,
  }));
  for (const p of d.predictions)
    exporter.onChange({ type: 'prediction', prediction: p, diagnosis: d, update: false });
  const times: number[] = [];
  let bytes = 0;
  for (let i = 0; i < SCRAPES; i++) {
    const t0 = performance.now();
    bytes = (await exporter.scrape()).length;
    times.push(performance.now() - t0);
  }
  fullGc();
  const after = process.memoryUsage().rss;
  const ms = median(times);
  return {
    figure: 'Metrics exporter scrape, 100,000 flows',
    kdiag: `${fmt(ms)} ms/scrape`,
    baseline: '—',
    ratio: '—',
    target: `< ${TARGET_MS} ms`,
    pass: ms < TARGET_MS,
    how: `${SCRAPES} scrapes of a synthetic diagnosis (${FLOWS} flows, ${d.predictions.length} at risk, ${LISTED} listed, 500 Services, ${SCOPES.length} netns): mapping + prom-client text; median`,
    details: [
      `exposition ${bytes} bytes; scrape ms min ${fmt(Math.min(...times))} max ${fmt(Math.max(...times))}`,
      `RSS with the registry and ${SCRAPES} scrapes: ${after >= before ? '+' : '-'}${mb(Math.abs(after - before))} (after a full GC; the diagnosis itself dominates)`,
    ],
  };
}
