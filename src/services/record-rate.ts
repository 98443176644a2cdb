// A source's records per second over the last few seconds, as the live view shows it and the replay
// shows it again: the times of its latest records (bounded), counted back from a moment.

const KEEP = 2000;
const WINDOW_MS = 5000;

export class RecordRate {
  private readonly times: number[] = [];

  note(t: number): void {
    this.times.push(t);
    if (this.times.length > KEEP) this.times.splice(0, this.times.length - KEEP);
  }

  /** Records per second over the WINDOW_MS up to `now`. */
  perSec(now: number): number {
    let n = 0;
    for (const t of this.times) if (t >= now - WINDOW_MS) n++;
    return n / (WINDOW_MS / 1000);
  }
}
