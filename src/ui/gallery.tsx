// Every view rendered with sample data, for a human to review colours, widths and empty states (`kdiag ui-gallery`).
import { renderToString } from 'ink';
import type { ReactElement } from 'react';
import { App } from './app.js';
import { sampleSnapshot } from './gallery-data.js';
import {
  eventRate,
  indexFlows,
  normaliseSnapshot,
  selectFeedOrder,
  selectFindings,
  selectFlowOrder,
  suggestionsFor,
} from './state/selectors.js';
import type { SessionStore } from '../model/session.js';
import { AppliedView } from './views/applied-view.js';
import { ConfirmDialog } from './views/confirm-dialog.js';
import { findingDetail, flowDetail, suggestionDetail } from './views/detail-lines.js';
import { DetailView } from './views/detail-view.js';
import { FeedView } from './views/feed-view.js';
import { FindingsView } from './views/findings-view.js';
import { FlowsView } from './views/flows-view.js';
import { HelpOverlay } from './views/help-overlay.js';
import { StatusLine } from './views/status-line.js';

/** Renders each view (and the whole app) at `columns`, each under a title line; returns the text to print. */
export function renderGallery(columns = 100): string {
  const snap = normaliseSnapshot(sampleSnapshot());
  const d = snap.diagnosis;
  const index = indexFlows(d);
  const order = selectFlowOrder(index, 'time-to-break', '');
  const findings = selectFindings(d.findings, '');
  const byId = new Map(d.findings.map((f) => [f.id, f]));
  const finding = d.findings[0];
  const suggestion = d.suggestions[0];
  const store: SessionStore = {
    getSnapshot: () => snap,
    subscribe: () => () => {},
    dispatch: () => {},
  };
  const w = columns;
  const views: [string, ReactElement][] = [
    ['App', <App store={store} columns={w} rows={30} throttleMs={0} />],
    [
      'FlowsView',
      <FlowsView
        flows={index.flows}
        order={order}
        ttb={index.ttb}
        atRisk={index.atRisk}
        selected={0}
        scroll={0}
        sort="time-to-break"
        filter=""
        focused
        width={w}
        height={9}
      />,
    ],
    [
      'FlowsView (empty, filtered)',
      <FlowsView
        flows={[]}
        order={new Uint32Array()}
        ttb={new Float64Array()}
        atRisk={0}
        selected={0}
        scroll={0}
        sort="idle"
        filter="zzz"
        focused={false}
        width={w}
        height={5}
      />,
    ],
    [
      'FeedView',
      <FeedView
        feed={snap.feed}
        order={selectFeedOrder(snap.feed, '')}
        findingsById={byId}
        selected={0}
        scroll={0}
        focused
        filter=""
        width={w}
        height={6}
      />,
    ],
    [
      'FindingsView',
      <FindingsView
        findings={findings}
        selected={0}
        scroll={0}
        focused
        filter=""
        width={w}
        height={5}
      />,
    ],
    [
      'AppliedView',
      <AppliedView applied={snap.applied} selected={0} scroll={0} focused width={w} height={4} />,
    ],
    [
      'Flow detail',
      <DetailView
        model={flowDetail(index.flows[0], index.ttb[0]!, d.findings, w - 4)}
        selected={0}
        width={w}
        height={16}
      />,
    ],
    [
      'Finding detail',
      <DetailView
        model={findingDetail(finding, suggestionsFor(finding?.suggestions, d.suggestions), w - 4)}
        selected={2}
        width={w}
        height={16}
      />,
    ],
    [
      'Suggestion detail',
      <DetailView
        model={suggestionDetail(suggestion, snap.applied, w - 4)}
        selected={0}
        width={w}
        height={18}
      />,
    ],
    [
      'ConfirmDialog (planning)',
      <ConfirmDialog
        title={`Apply ${suggestion?.id}?`}
        subtitle={suggestion?.title ?? ''}
        heading="Planning the change…"
        lines={[]}
        warnings={[]}
        confirmable={false}
        width={w}
        height={10}
      />,
    ],
    ['HelpOverlay', <HelpOverlay width={w} height={20} />],
    [
      'StatusLine',
      <StatusLine
        snapshot={snap}
        eventRate={eventRate(snap)}
        message="Copied"
        filterDraft={null}
        width={w}
      />,
    ],
    [
      'StatusLine (replay, paused)',
      <StatusLine
        snapshot={{
          ...snap,
          mode: 'replay',
          replay: { start: 0, end: 130_000, at: 41_000, playing: false, speed: 2 },
        }}
        eventRate={0}
        message={null}
        filterDraft={null}
        width={w}
      />,
    ],
    [
      'StatusLine (typing a filter)',
      <StatusLine
        snapshot={snap}
        eventRate={0}
        message={null}
        filterDraft="checkout/worker"
        width={w}
      />,
    ],
  ];
  return views
    .map(
      ([title, el]) =>
        `── ${title} ${'─'.repeat(Math.max(0, w - title.length - 4))}\n${renderToString(el, { columns: w })}`,
    )
    .join('\n\n');
}
