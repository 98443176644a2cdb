// <App>: reads the session store (throttled), keeps UI state, lays out the panes and passes plain data to the views.
import { memo, useEffect, useMemo, useReducer, useState } from 'react';
import { Box, Text, useApp, useInput, useStdout } from 'ink';
import type { Finding, FlowView } from '../model/diagnosis.js';
import type { SessionCommand, SessionStore } from '../model/session.js';
import { osc52 } from './clipboard.js';
import { useKeybindings, type KeyContext } from './input/use-keybindings.js';
import {
  eventRate,
  normaliseSnapshot,
  selectFeedOrder,
  selectFindings,
  suggestionsFor,
} from './state/selectors.js';
import { useFlowOrder } from './state/use-flow-order.js';
import {
  initialUiState,
  keepVisible,
  uiReducer,
  type Detail,
  type DialogPlan,
  type Pane,
  type UiState,
} from './state/ui-state.js';
import { useThrottledSnapshot } from './state/use-throttled-snapshot.js';
import { AppliedView } from './views/applied-view.js';
import { ConfirmDialog } from './views/confirm-dialog.js';
import {
  findingDetail,
  flowDetail,
  suggestionDetail,
  type DetailModel,
} from './views/detail-lines.js';
import { DetailView } from './views/detail-view.js';
import { ErrorBoundary } from './views/error-boundary.js';
import { FeedView } from './views/feed-view.js';
import { FindingsView } from './views/findings-view.js';
import { FlowsView } from './views/flows-view.js';
import { HelpOverlay } from './views/help-overlay.js';
import { computeLayout, pagesFor } from './views/layout.js';
import { StatusLine } from './views/status-line.js';

export interface AppProps {
  readonly store: SessionStore;
  /** Coalescing window for store notifications (ms); 0 renders on every notification. */
  readonly throttleMs?: number;
  /** Fixed terminal size (tests, gallery); otherwise stdout's size, followed on 'resize'. */
  readonly columns?: number;
  readonly rows?: number;
  readonly initialUi?: Partial<UiState>;
  /** Flow count above which sorting is time-sliced (tests lower it). */
  readonly syncFlowLimit?: number;
  /** Called with the raw escape sequence to copy text; defaults to writing it to stdout. */
  readonly writeRaw?: (data: string) => void;
}

const MESSAGE_MS = 4000;

// Panes re-render only when their props change: a feed event leaves the 100,000-flow pane alone,
// a key press the panes it does not move.
const FlowsPane = memo(FlowsView);
const FeedPane = memo(FeedView);
const FindingsPane = memo(FindingsView);
const AppliedPane = memo(AppliedView);

function useTerminalSize(
  fixedCols?: number,
  fixedRows?: number,
): { columns: number; rows: number } {
  const { stdout } = useStdout();
  const read = () => ({
    columns: fixedCols ?? (stdout?.columns || 80),
    rows: fixedRows ?? (stdout?.rows || 24),
  });
  const [size, setSize] = useState(read);
  useEffect(() => {
    if (!stdout || (fixedCols && fixedRows)) return undefined;
    const onResize = () => setSize(read());
    stdout.on('resize', onResize);
    return () => {
      stdout.off('resize', onResize);
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [stdout, fixedCols, fixedRows]);
  return size;
}

function findFlow(flows: readonly FlowView[], id: string): number {
  for (let i = 0; i < flows.length; i++) if (flows[i]?.id === id) return i;
  return -1;
}

/** The whole TUI. */
export function App({
  store,
  throttleMs = 200,
  columns,
  rows,
  initialUi,
  syncFlowLimit,
  writeRaw,
}: AppProps) {
  const raw = useThrottledSnapshot(store, throttleMs);
  const snap = useMemo(() => normaliseSnapshot(raw), [raw]);
  const [ui, dispatchUi] = useReducer(uiReducer, initialUi, (o) => initialUiState(o ?? {}));
  const size = useTerminalSize(columns, rows);
  const { exit } = useApp();
  const { stdout } = useStdout();
  const d = snap.diagnosis;

  // Derived data, recomputed only when the diagnosis, feed, sort or filter change (not on every frame).
  const { index, order: flowOrder, pending } = useFlowOrder(d, ui.sort, ui.filter, syncFlowLimit);
  const layout = computeLayout(size.columns, size.rows, {
    flowRows: flowOrder.length,
    detailOpen: ui.details.length > 0,
  });
  const pages = pagesFor(layout);
  const feedOrder = useMemo(() => selectFeedOrder(snap.feed, ui.filter), [snap.feed, ui.filter]);
  const findings = useMemo(() => selectFindings(d.findings, ui.filter), [d.findings, ui.filter]);
  const findingsById = useMemo(
    () => new Map<string, Finding>(d.findings.filter(Boolean).map((f) => [f.id, f])),
    [d.findings],
  );
  const rate = eventRate(snap);

  const counts: Record<Pane, number> = {
    flows: flowOrder.length,
    feed: feedOrder.length,
    findings: findings.length,
    applied: snap.applied.length,
  };
  const view = (p: Pane) => keepVisible(ui.selected[p], ui.scroll[p], counts[p], pages[p]);
  const sel = {
    flows: view('flows'),
    feed: view('feed'),
    findings: view('findings'),
    applied: view('applied'),
  };
  const panes: Pane[] =
    layout.kind === 'tiny' ? ['flows'] : ['flows', 'feed', 'findings', 'applied'];
  const focus: Pane = panes.includes(ui.focus) ? ui.focus : 'flows';

  const top: Detail | undefined = ui.details[ui.details.length - 1];
  const detailWidth = Math.max(
    10,
    (layout.kind === 'wide' ? layout.detail.width : layout.body.width) - 4,
  );
  const detail: DetailModel | null = useMemo(() => {
    if (!top) return null;
    if (top.kind === 'flow') {
      const i = findFlow(index.flows, top.flowId);
      const related = d.findings.filter(
        (f) => f && Array.isArray(f.flows) && f.flows.includes(top.flowId),
      );
      return flowDetail(index.flows[i], i >= 0 ? index.ttb[i]! : Number.NaN, related, detailWidth);
    }
    if (top.kind === 'finding') {
      const f = findingsById.get(top.findingId);
      return findingDetail(f, suggestionsFor(f?.suggestions, d.suggestions), detailWidth);
    }
    return suggestionDetail(
      d.suggestions.find((s) => s?.id === top.suggestionId),
      snap.applied,
      detailWidth,
    );
  }, [top, index, d, findingsById, snap.applied, detailWidth]);

  const openFromPane = ((): Detail | string | null => {
    const i = sel[focus].selected;
    if (counts[focus] === 0) return null;
    if (focus === 'flows') {
      const f = index.flows[flowOrder[i]!];
      return f ? { kind: 'flow', flowId: f.id, selected: 0 } : null;
    }
    if (focus === 'feed') {
      const item = snap.feed[feedOrder[i]!];
      if (!item?.finding) return 'No finding explains this event yet';
      return findingsById.has(item.finding)
        ? { kind: 'finding', findingId: item.finding, selected: 0 }
        : `Finding ${item.finding} is no longer reported`;
    }
    if (focus === 'findings') {
      const f = findings[i];
      return f ? { kind: 'finding', findingId: f.id, selected: 0 } : null;
    }
    return 'r reverts the selected change';
  })();

  const ctx: KeyContext = {
    ui: { ...ui, focus },
    panes,
    counts,
    pages,
    openFromPane,
    detail,
    revertTarget: snap.applied[sel.applied.selected],
    mode: snap.mode,
    paused: snap.paused,
    replay: snap.replay,
  };
  useKeybindings(ctx, {
    dispatchUi,
    command: (c: SessionCommand) => {
      try {
        store.dispatch(c);
      } catch (error) {
        dispatchUi({
          type: 'set-message',
          text: `Can't ${c.type}: ${error instanceof Error ? error.message : String(error)}`,
        });
      }
    },
    copy: (text) => (writeRaw ?? ((s: string) => stdout?.write(s)))(osc52(text)),
    quit: () => exit(),
  });

  // An apply dialog asks the session for the plan (namespace, identity, old → new); y waits for it.
  const planFor =
    ui.dialog?.kind === 'apply' && ui.dialog.plan === undefined ? ui.dialog.suggestionId : null;
  useEffect(() => {
    if (planFor === null) return;
    const done = (plan: DialogPlan) =>
      dispatchUi({ type: 'dialog-plan', suggestionId: planFor, plan });
    if (!store.planApply) {
      done({
        status: 'failed',
        message: "this session can't change anything (a replay, or no apply here)",
      });
      return;
    }
    store.planApply(planFor).then(
      (p) => done({ status: 'ready', lines: p.lines, warnings: p.warnings }),
      (error: unknown) =>
        done({ status: 'failed', message: error instanceof Error ? error.message : String(error) }),
    );
  }, [planFor, store]);

  useEffect(() => {
    if (ui.message === null) return undefined;
    const t = setTimeout(() => dispatchUi({ type: 'clear-message' }), MESSAGE_MS);
    return () => clearTimeout(t);
  }, [ui.message]);

  const trail = ui.details
    .map((x) => (x.kind === 'flow' ? 'Flow' : x.kind === 'finding' ? 'Finding' : 'Suggestion'))
    .join(' › ');

  const overlay = (() => {
    const { width, height } = layout.body;
    if (ui.dialog) {
      if (ui.dialog.kind === 'apply') {
        const id = ui.dialog.suggestionId;
        const s = d.suggestions.find((x) => x?.id === id);
        const plan = ui.dialog.plan;
        if (plan?.status === 'ready')
          return (
            <ConfirmDialog
              title={`Apply ${id}?`}
              subtitle={s?.title ?? ''}
              heading="kdiag will change:"
              lines={plan.lines}
              warnings={plan.warnings}
              width={width}
              height={height}
            />
          );
        const why = plan === undefined ? 'Planning the change…' : `Can't apply: ${plan.message}`;
        return (
          <ConfirmDialog
            title={`Apply ${id}?`}
            subtitle={s?.title ?? ''}
            heading={why}
            lines={[]}
            warnings={[]}
            confirmable={false}
            width={width}
            height={height}
          />
        );
      }
      const jid = ui.dialog.journalId;
      const a = snap.applied.find((x) => x?.journalId === jid);
      return (
        <ConfirmDialog
          title={`Revert ${a?.suggestion ?? jid}?`}
          subtitle="Restores the value recorded in the journal before the change."
          heading="This runs:"
          shell
          lines={[`kdiag revert ${jid}`, `restores: ${a?.summary ?? '–'}`]}
          warnings={[]}
          width={width}
          height={height}
        />
      );
    }
    if (ui.help) return <HelpOverlay width={width} height={height} />;
    if (detail && top && layout.kind !== 'wide')
      return (
        <DetailView
          model={detail}
          selected={top.selected}
          trail={trail}
          width={width}
          height={height}
        />
      );
    return null;
  })();

  const flowsPane = (
    <ErrorBoundary label="flows pane" resetKey={d}>
      <FlowsPane
        flows={index.flows}
        order={flowOrder}
        ttb={index.ttb}
        atRisk={index.atRisk}
        selected={sel.flows.selected}
        scroll={sel.flows.scroll}
        sort={ui.sort}
        filter={ui.filter}
        pending={pending}
        focused={focus === 'flows' && !top}
        width={layout.flows.width}
        height={layout.flows.height}
      />
    </ErrorBoundary>
  );
  const tabTitle = (active: Pane) =>
    (['feed', 'findings', 'applied'] as const)
      .map((p) => (p === active ? `[${TAB_NAME[p]}]` : TAB_NAME[p]))
      .join(' ');
  const feedPane = (rect: { width: number; height: number }, title?: string) => (
    <ErrorBoundary label="feed pane" resetKey={snap.feed}>
      <FeedPane
        feed={snap.feed}
        order={feedOrder}
        findingsById={findingsById}
        selected={sel.feed.selected}
        scroll={sel.feed.scroll}
        focused={focus === 'feed' && !top}
        filter={ui.filter}
        {...rect}
        {...(title ? { title } : {})}
      />
    </ErrorBoundary>
  );
  const findingsPane = (rect: { width: number; height: number }, title?: string) => (
    <ErrorBoundary label="findings pane" resetKey={d}>
      <FindingsPane
        findings={findings}
        selected={sel.findings.selected}
        scroll={sel.findings.scroll}
        focused={focus === 'findings' && !top}
        filter={ui.filter}
        {...rect}
        {...(title ? { title } : {})}
      />
    </ErrorBoundary>
  );
  const appliedPane = (rect: { width: number; height: number }, title?: string) => (
    <ErrorBoundary label="applied pane" resetKey={snap.applied}>
      <AppliedPane
        applied={snap.applied}
        selected={sel.applied.selected}
        scroll={sel.applied.scroll}
        focused={focus === 'applied' && !top}
        {...rect}
        {...(title ? { title } : {})}
      />
    </ErrorBoundary>
  );

  let body;
  if (overlay)
    body = (
      <ErrorBoundary label="overlay" resetKey={ui}>
        {overlay}
      </ErrorBoundary>
    );
  else if (layout.kind === 'tiny') body = flowsPane;
  else if (layout.kind === 'narrow') {
    const active: Pane = focus === 'flows' ? 'feed' : focus;
    const title = tabTitle(active);
    body = (
      <>
        {flowsPane}
        {active === 'feed'
          ? feedPane(layout.bottom, title)
          : active === 'findings'
            ? findingsPane(layout.bottom, title)
            : appliedPane(layout.bottom, title)}
      </>
    );
  } else {
    body = (
      <>
        {flowsPane}
        <Box flexDirection="row">
          {feedPane(layout.bottom)}
          <Box flexDirection="column">
            {detail && top ? (
              <ErrorBoundary label="detail" resetKey={detail}>
                <DetailView
                  model={detail}
                  selected={top.selected}
                  trail={trail}
                  {...layout.detail}
                />
              </ErrorBoundary>
            ) : (
              <>
                {findingsPane(layout.findings)}
                {appliedPane(layout.applied)}
              </>
            )}
          </Box>
        </Box>
      </>
    );
  }

  return (
    <Box flexDirection="column" width={layout.columns} height={layout.rows}>
      <Box flexDirection="column" height={layout.body.height}>
        {body}
      </Box>
      <ErrorBoundary label="status line" resetKey={snap}>
        <StatusLine
          snapshot={snap}
          eventRate={rate}
          message={ui.message}
          filterDraft={ui.filterDraft}
          width={layout.status.width}
        />
      </ErrorBoundary>
    </Box>
  );
}

const TAB_NAME: Record<'feed' | 'findings' | 'applied', string> = {
  feed: 'Drops & resets',
  findings: 'Findings',
  applied: 'Applied',
};

function QuitOnKey() {
  const { exit } = useApp();
  useInput((input) => {
    if (input === 'q') exit();
  });
  return null;
}

/** Wraps <App> so that an error anywhere shows one line (and q still quits) instead of a stack. */
export function SafeApp(props: AppProps) {
  return (
    <ErrorBoundary
      label="kdiag UI"
      fallback={(line) => (
        <Box flexDirection="column">
          <Text color="red" wrap="truncate">
            {`${line} · q quits`}
          </Text>
          <QuitOnKey />
        </Box>
      )}
    >
      <App {...props} />
    </ErrorBoundary>
  );
}
