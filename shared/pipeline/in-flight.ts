/** Target calls under way, by message and by target origin (for status and message history). */
export class InFlight {
  private readonly origins = new Map<string, string>();
  private readonly perOrigin = new Map<string, number>();

  add(id: string, origin: string): void {
    this.origins.set(id, origin);
    this.perOrigin.set(origin, (this.perOrigin.get(origin) ?? 0) + 1);
  }

  delete(id: string): void {
    const origin = this.origins.get(id);
    if (origin === undefined) return;
    this.origins.delete(id);
    const left = (this.perOrigin.get(origin) ?? 1) - 1;
    if (left === 0) this.perOrigin.delete(origin);
    else this.perOrigin.set(origin, left);
  }

  has(id: string): boolean {
    return this.origins.has(id);
  }

  get size(): number {
    return this.origins.size;
  }

  byOrigin(): ReadonlyMap<string, number> {
    return this.perOrigin;
  }
}
