// Long loops over partitions (reading thousands of partitions' figures, retention planning) run on
// the event loop in slices: after STEP_MS of work they yield one turn, so sockets and timers are
// served in between and no connection freezes for the whole loop.

/** Work done between two yields of a sliced loop. */
export const SLICE_STEP_MS = 5;

export class TimeSlice {
  private sliceStart = performance.now();

  constructor(private readonly stepMs: number = SLICE_STEP_MS) {}

  /** Yields one event-loop turn when the current slice has run for stepMs. */
  async maybeYield(): Promise<void> {
    if (performance.now() - this.sliceStart < this.stepMs) return;
    await new Promise<void>((resolve) => setImmediate(resolve));
    this.sliceStart = performance.now();
  }
}
