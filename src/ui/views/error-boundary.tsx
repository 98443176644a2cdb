// Catches a render error in one part of the TUI and shows one line instead of a stack.
import { Component, type ReactNode } from 'react';
import { Text } from 'ink';

export interface ErrorBoundaryProps {
  /** What failed, for the one-line message ("flows pane"). */
  readonly label: string;
  readonly children?: ReactNode;
  /** Changing this value clears a caught error (a new snapshot may render fine). */
  readonly resetKey?: unknown;
  /** Renders the one-line message differently (the root adds a quit key). */
  readonly fallback?: (line: string) => ReactNode;
}

interface ErrorBoundaryState {
  readonly error: string | null;
  readonly resetKey: unknown;
}

/** One-line fallback for a view that threw. */
export class ErrorBoundary extends Component<ErrorBoundaryProps, ErrorBoundaryState> {
  override state: ErrorBoundaryState = { error: null, resetKey: this.props.resetKey };

  static getDerivedStateFromError(error: unknown): Partial<ErrorBoundaryState> {
    const msg = error instanceof Error ? error.message : String(error);
    return { error: msg.split('\n')[0]?.slice(0, 160) || 'unknown error' };
  }

  static getDerivedStateFromProps(
    props: ErrorBoundaryProps,
    state: ErrorBoundaryState,
  ): Partial<ErrorBoundaryState> | null {
    if (props.resetKey !== state.resetKey) return { resetKey: props.resetKey, error: null };
    return null;
  }

  override render() {
    if (this.state.error !== null) {
      const line = `✗ ${this.props.label} can't render: ${this.state.error}`;
      if (this.props.fallback) return this.props.fallback(line);
      return (
        <Text color="red" wrap="truncate">
          {line}
        </Text>
      );
    }
    return this.props.children ?? null;
  }
}
