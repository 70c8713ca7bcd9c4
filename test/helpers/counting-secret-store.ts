import type { SecretStore, StoredSecret } from '../../shared/pipeline/ports';

/** An in-memory secret store that counts reads and writes. */
export class CountingSecretStore implements SecretStore {
  readonly values = new Map<string, StoredSecret>();
  gets = 0;
  puts = 0;

  async get(name: string): Promise<StoredSecret | undefined> {
    this.gets += 1;
    return this.values.get(name);
  }

  async put(name: string, secret: StoredSecret): Promise<void> {
    this.puts += 1;
    this.values.set(name, { ...secret });
  }

  async delete(name: string): Promise<boolean> {
    return this.values.delete(name);
  }
}
