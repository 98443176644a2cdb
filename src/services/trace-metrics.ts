// `kdiag trace --metrics`: the exporter over a live session, served over HTTP until the trace stops.
import type { ListenAddress } from '../metrics/listen-address.js';
import { createDiagnosisExporter } from '../metrics/registry.js';
import type { LiveSession, SessionChange } from './live-session.js';
import { startMetricsServer } from './metrics-server.js';

export interface TraceMetrics {
  readonly url: string;
  /** Follows the session's changes (drops/resets by cause, flows newly at risk). */
  readonly onChange: (c: SessionChange) => void;
  /** The session the scrapes read, once it runs. */
  attach(session: LiveSession): void;
  close(): Promise<void>;
}

/** Binds the address first, so a port in use fails before any probe starts. */
export async function startTraceMetrics(addr: ListenAddress): Promise<TraceMetrics> {
  let session: LiveSession | undefined;
  const exporter = createDiagnosisExporter(() =>
    session === undefined
      ? undefined
      : {
          diagnosis: session.getSnapshot().diagnosis,
          settings: session.engine.table,
          sources: session.sourceHealth(),
          parseIssues: session.engine.decoder.issueCount,
        },
  );
  const server = await startMetricsServer(addr, exporter);
  return {
    url: server.url,
    onChange: (c) => exporter.onChange(c),
    attach(s) {
      session = s;
    },
    close: () => server.close(),
  };
}
