// Turns a burst of calls into one run: calls within the window share the
// result of a single run with the latest input, and runs never overlap.

interface Waiter<Output> {
  resolve(value: Output): void;
  reject(reason: unknown): void;
}

interface Batch<Input, Output> {
  input: Input;
  waiters: Array<Waiter<Output>>;
}

export class Coalescer<Input, Output> {
  readonly #run: (input: Input) => Promise<Output>;
  readonly #windowMs: number;
  #pending: Batch<Input, Output> | undefined;
  #tail: Promise<unknown> = Promise.resolve();

  constructor(run: (input: Input) => Promise<Output>, windowMs: number) {
    this.#run = run;
    this.#windowMs = windowMs;
  }

  submit(input: Input): Promise<Output> {
    return new Promise<Output>((resolve, reject) => {
      if (this.#pending === undefined) {
        const batch: Batch<Input, Output> = { input, waiters: [] };
        this.#pending = batch;
        setTimeout(() => this.#start(batch), this.#windowMs);
      }
      this.#pending.input = input;
      this.#pending.waiters.push({ resolve, reject });
    });
  }

  #start(batch: Batch<Input, Output>): void {
    if (this.#pending === batch) this.#pending = undefined;
    const result = this.#tail.then(() => this.#run(batch.input));
    this.#tail = result.catch(() => undefined);
    result.then(
      (value) => batch.waiters.forEach((waiter) => waiter.resolve(value)),
      (reason: unknown) => batch.waiters.forEach((waiter) => waiter.reject(reason)),
    );
  }
}
