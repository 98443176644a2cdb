// The HTTP side of `kdiag trace --metrics`: GET /metrics serves the exporter's exposition; nothing
// else is served. Stopped with the trace (close() ends open keep-alive connections too).
import { createServer, type Server } from 'node:http';
import { EnvironmentError } from '../errors.js';
import type { ListenAddress } from '../metrics/listen-address.js';
import type { DiagnosisExporter } from '../metrics/registry.js';

export interface MetricsServer {
  /** `http://HOST:PORT/metrics` as bound (the port is the real one when 0 was asked). */
  readonly url: string;
  close(): Promise<void>;
}

/** Listens on `addr`; rejects with a one-line EnvironmentError when the address cannot be bound. */
export async function startMetricsServer(
  addr: ListenAddress,
  exporter: DiagnosisExporter,
): Promise<MetricsServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD' }).end();
      return;
    }
    if (path !== '/metrics') {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('kdiag serves /metrics only\n');
      return;
    }
    exporter.scrape().then(
      (body) => {
        res.writeHead(200, { 'Content-Type': exporter.contentType });
        res.end(req.method === 'HEAD' ? undefined : body);
      },
      (err: unknown) => {
        res.writeHead(500, { 'Content-Type': 'text/plain' });
        res.end(`kdiag: metrics failed: ${(err as Error).message}\n`);
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        new EnvironmentError(
          'KDIAG_ENVIRONMENT',
          `can't serve metrics on ${addr.host}:${addr.port}: ${err.code ?? err.message}`,
          err.code === 'EADDRINUSE'
            ? 'choose another port'
            : 'check the address is one of this host',
        ),
      ),
    );
    server.listen(addr.port, addr.host, () => resolve());
  });
  const bound = server.address();
  const port = typeof bound === 'object' && bound !== null ? bound.port : addr.port;
  const host = addr.host.includes(':') ? `[${addr.host}]` : addr.host;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${host}:${port}/metrics`,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
