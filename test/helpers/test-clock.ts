/** A clock the test moves by hand (Clock seam): `now` is what the test says; sleeps wait for real. */
import type { Clock } from '../../src/clock';

export class TestClock implements Clock {
  constructor(private t: number) {}
  now = (): number => this.t;
  sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, Math.min(Math.max(0, ms), 50)));
  random = (): number => 0.5;
  /** Moves time forward. */
  advance(ms: number): void {
    this.t += ms;
  }
  set(ms: number): void {
    this.t = ms;
  }
}

export const MINUTE = 60_000;
