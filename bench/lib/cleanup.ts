// Everything a bench creates registers how to undo it here; run.ts runs the
// list (newest first) when the run ends, fails or is interrupted.
type Task = { name: string; fn: () => Promise<void> | void };

const tasks: Task[] = [];

/** Registers an undo step; the returned function runs it now and unregisters it. */
export function onCleanup(name: string, fn: () => Promise<void> | void): () => Promise<void> {
  const task: Task = { name, fn };
  tasks.push(task);
  return async () => {
    const i = tasks.indexOf(task);
    if (i < 0) return;
    tasks.splice(i, 1);
    await task.fn();
  };
}

export async function runCleanup(log: (line: string) => void = console.error): Promise<void> {
  while (tasks.length > 0) {
    const task = tasks.pop() as Task;
    try {
      await Promise.race([
        Promise.resolve().then(task.fn),
        new Promise((_, reject) => setTimeout(() => reject(new Error('timed out after 120 s')), 120_000).unref()),
      ]);
    } catch (err) {
      log(`cleanup: ${task.name} failed: ${(err as Error).message}`);
    }
  }
}
