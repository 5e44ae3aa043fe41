// One backup at a time on this host, whether the schedule or the API asked:
// two archives of one user at once would fight over pausing its container.
export class SerialLane {
  #tail: Promise<unknown> = Promise.resolve();

  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.#tail.then(task, task);
    this.#tail = result.catch(() => undefined);
    return result;
  }

  /** Resolves when everything queued so far has finished. */
  async idle(): Promise<void> {
    await this.#tail;
  }
}
