// The scrape against a real HTTP server on loopback serving a kube-proxy fixture.
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpGet, kubeProxyMetricsSources } from '../../src/sources/kube-proxy-metrics-source.js';

const TEXT = readFileSync(
  new URL('../../fixtures/tools/kube-proxy-metrics/ipvs.txt', import.meta.url),
  'utf8',
);
let server: Server;
let port = 0;

beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url === '/metrics') res.end(TEXT);
    else if (req.url === '/proxyMode') res.end('ipvs');
    else res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => {
  if (server.listening) server.close();
});

describe('kube-proxy metrics sources', () => {
  it('scrapes /metrics and /proxyMode on the configured address', async () => {
    const kpm = await kubeProxyMetricsSources({
      origin: 'process',
      pid: 1,
      argv: ['kube-proxy', `--metrics-bind-address=0.0.0.0:${port}`],
    });
    expect(kpm.url).toBe(`http://127.0.0.1:${port}/metrics`);
    expect(kpm.sources.map((s) => s.id)).toEqual(['kube-proxy:metrics', 'kube-proxy:proxymode']);
    expect(await httpGet(kpm.url!)).toEqual({ stdout: TEXT, stderr: '', exitCode: 0 });
  });
  it('fails like curl: HTTP errors and refused connections are stderr with an exit code', async () => {
    expect(await httpGet(`http://127.0.0.1:${port}/nope`)).toMatchObject({
      exitCode: 22,
      stderr: expect.stringContaining('HTTP 404'),
    });
    // A port that had a listener and has none now (never connected to: no pooled socket).
    const gone = createServer();
    await new Promise<void>((r) => gone.listen(0, '127.0.0.1', r));
    const goneUrl = `http://127.0.0.1:${(gone.address() as AddressInfo).port}/metrics`;
    await new Promise<void>((r) => gone.close(() => r()));
    const r = await httpGet(goneUrl, 2000);
    expect(r.exitCode).toBe(7);
    expect(r.stderr).toMatch(/ECONNREFUSED/);
  });
  it('says why there is nothing to scrape', async () => {
    expect((await kubeProxyMetricsSources({ origin: 'none' })).note).toMatch(
      /no kube-proxy process/,
    );
    const off = await kubeProxyMetricsSources({
      origin: 'process',
      pid: 1,
      argv: ['kube-proxy', '--metrics-bind-address='],
    });
    expect(off.note).toMatch(/off \(metricsBindAddress is empty\)/);
  });
});
