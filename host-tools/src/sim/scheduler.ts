/**
 * The one discrete-event queue every token (and later every kiosk) shares.
 *
 * A binary min-heap over (time, sequence): the sequence number makes ties run
 * in insertion order, which keeps a run deterministic for a seed. Cancelling is
 * lazy (the entry stays in the heap, marked dead) because cancels are frequent
 * (clearTimeout, changeInterval) and removing from the middle of a heap is not
 * worth it; dead entries are skipped when they reach the top.
 */
import type { SimScheduler } from "./types";

/** Parallel arrays instead of one object per event: fewer allocations in a 14-day run. */
export class EventScheduler implements SimScheduler {
  private timeHeap: number[] = [];
  private seqHeap: number[] = [];
  private live = new Map<number, () => void>();
  private nextSeq = 1;
  private current: number;
  private stopped = false;
  /** Latest time a running runUntil/runAll may reach; -Infinity outside a run (no advanceTo then). */
  private limit = -Infinity;
  /** Work run through advanceTo, counted as events. */
  private advanced = 0;

  constructor(startTime = 0) {
    this.current = startTime;
  }

  get now(): number {
    return this.current;
  }

  /** Events waiting to run (cancelled ones excluded). */
  get pending(): number {
    return this.live.size;
  }

  at(time: number, fn: () => void): number {
    if (!Number.isFinite(time)) throw new RangeError(`scheduler: time must be a finite number, got ${time}`);
    // An event in the past would break causality; run it "now" instead, after what is already due now.
    const t = time < this.current ? this.current : time;
    const seq = this.nextSeq++;
    this.live.set(seq, fn);
    this.push(t, seq);
    return seq;
  }

  /** Convenience: run `fn` `seconds` from now. */
  after(seconds: number, fn: () => void): number {
    return this.at(this.current + seconds, fn);
  }

  cancel(id: number): void {
    if (!this.live.delete(id)) return;
    // Far-future cancelled entries would otherwise pile up (a timer re-armed every second, cancelled every time).
    if (this.seqHeap.length > 1024 && this.seqHeap.length > 4 * this.live.size) this.rebuild();
  }

  /** True time of the next live event, or undefined when the queue is empty. */
  peekTime(): number | undefined {
    this.dropDead();
    return this.timeHeap.length > 0 ? this.timeHeap[0] : undefined;
  }

  /**
   * Let the caller run its own next piece of work at `time` without queueing
   * it, when the queue would run it next anyway: nothing else is due up to and
   * including `time` (an event already queued for `time` was queued first, so
   * it runs first), and the current run may reach `time`. On true the clock
   * is at `time` and the work counts as one event; on false, queue it.
   */
  advanceTo(time: number): boolean {
    if (this.stopped || !(time >= this.current && time <= this.limit)) return false;
    this.dropDead();
    if (this.timeHeap.length > 0 && this.timeHeap[0] <= time) return false;
    this.current = time;
    this.advanced++;
    return true;
  }

  private stepped = 0;

  /** Events run so far, however they were run (runUntil, runAll, step, advanceTo). */
  get executed(): number {
    return this.stepped + this.advanced;
  }

  /** Run one event; false when none is left. */
  step(): boolean {
    this.dropDead();
    if (this.timeHeap.length === 0) return false;
    const t = this.timeHeap[0];
    const seq = this.seqHeap[0];
    this.pop();
    const fn = this.live.get(seq)!;
    this.live.delete(seq);
    this.current = t;
    this.stepped++;
    fn();
    return true;
  }

  /**
   * Run every event due up to and including `time`, then leave the clock at
   * `time`. Returns the number of events run. `stop()` from inside an event
   * ends the run early.
   */
  runUntil(time: number): number {
    let n = 0;
    this.stopped = false;
    const advanced = this.advanced;
    const outer = this.limit;
    this.limit = time;
    try {
      for (;;) {
        if (this.stopped) return n + this.advanced - advanced;
        this.dropDead();
        if (this.timeHeap.length === 0 || this.timeHeap[0] > time) break;
        this.step();
        n++;
      }
    } finally {
      this.limit = outer;
    }
    if (time > this.current) this.current = time;
    return n + this.advanced - advanced;
  }

  /** Run until the queue is empty (or `maxEvents` ran, against runaway intervals). */
  runAll(maxEvents = Number.MAX_SAFE_INTEGER): number {
    let n = 0;
    this.stopped = false;
    const outer = this.limit;
    // Work run through advanceTo would escape the maxEvents bound.
    this.limit = maxEvents === Number.MAX_SAFE_INTEGER ? Infinity : -Infinity;
    const advanced = this.advanced;
    try {
      while (n < maxEvents && !this.stopped && this.step()) n++;
    } finally {
      this.limit = outer;
    }
    return n + this.advanced - advanced;
  }

  /** Ask a running runUntil/runAll to return after the current event. */
  stop(): void {
    this.stopped = true;
  }

  private rebuild(): void {
    const times = this.timeHeap;
    const seqs = this.seqHeap;
    this.timeHeap = [];
    this.seqHeap = [];
    for (let i = 0; i < seqs.length; i++) if (this.live.has(seqs[i])) this.push(times[i], seqs[i]);
  }

  private dropDead(): void {
    while (this.seqHeap.length > 0 && !this.live.has(this.seqHeap[0])) this.pop();
  }

  private less(i: number, j: number): boolean {
    const ti = this.timeHeap[i];
    const tj = this.timeHeap[j];
    return ti < tj || (ti === tj && this.seqHeap[i] < this.seqHeap[j]);
  }

  private swap(i: number, j: number): void {
    const th = this.timeHeap;
    const sh = this.seqHeap;
    const t = th[i];
    th[i] = th[j];
    th[j] = t;
    const s = sh[i];
    sh[i] = sh[j];
    sh[j] = s;
  }

  private push(time: number, seq: number): void {
    this.timeHeap.push(time);
    this.seqHeap.push(seq);
    let i = this.timeHeap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(i, parent)) break;
      this.swap(i, parent);
      i = parent;
    }
  }

  private pop(): void {
    const last = this.timeHeap.length - 1;
    this.swap(0, last);
    this.timeHeap.pop();
    this.seqHeap.pop();
    const n = this.timeHeap.length;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < n && this.less(l, m)) m = l;
      if (r < n && this.less(r, m)) m = r;
      if (m === i) break;
      this.swap(i, m);
      i = m;
    }
  }
}
