/**
 * Runs tasks with the same key one after another, in the order they were given, and tasks with
 * different keys (or the empty key) concurrently. A task that fails stops the ones queued behind
 * it under the same key (they reject with its error), so a later message never overtakes it.
 */
export class KeyedRunner {
  private readonly tails = new Map<string, Promise<unknown>>();

  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    if (key === '') return task();
    const previous = this.tails.get(key) ?? Promise.resolve();
    const result = previous.then(task);
    this.tails.set(key, result);
    result.then(
      () => this.forget(key, result),
      () => this.forget(key, result),
    );
    return result;
  }

  private forget(key: string, settled: Promise<unknown>): void {
    if (this.tails.get(key) === settled) this.tails.delete(key);
  }
}
