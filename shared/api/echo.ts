/** Messages remembered by the echo target; older ones are forgotten first. */
const REMEMBERED = 10_000;

/**
 * A target for the post-deploy smoke test (`DATASYNC_ECHO_ENABLED=true`, off by default): it answers
 * the status asked for in `?status=` the first time it sees a message (by its `Idempotency-Key`) and
 * 200 after that, so a forced failure can be replayed successfully. Memory is per process.
 */
export class EchoTarget {
  private readonly seen = new Set<string>();

  answer(status: string | null, idempotencyKey: string | undefined): number {
    const asked = Number(status ?? '200');
    const wanted = Number.isInteger(asked) && asked >= 200 && asked <= 599 ? asked : 400;
    if (idempotencyKey === undefined) return wanted;
    if (this.seen.has(idempotencyKey)) return 200;
    this.seen.add(idempotencyKey);
    if (this.seen.size > REMEMBERED) this.seen.delete(this.seen.values().next().value as string);
    return wanted;
  }
}
