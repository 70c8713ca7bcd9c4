import { KeyedRunner } from '../../shared/pipeline/keyed-runner';

const tick = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('KeyedRunner', () => {
  it('runs one key in order even when earlier tasks are slower', async () => {
    const runner = new KeyedRunner();
    const order: number[] = [];
    await Promise.all(
      [30, 1, 10].map((delay, index) =>
        runner.run('k', async () => {
          await tick(delay);
          order.push(index);
        }),
      ),
    );
    expect(order).toEqual([0, 1, 2]);
  });

  it('runs different keys and the empty key concurrently', async () => {
    const runner = new KeyedRunner();
    let running = 0;
    let peak = 0;
    const task = async () => {
      running += 1;
      peak = Math.max(peak, running);
      await tick(20);
      running -= 1;
    };
    await Promise.all([
      runner.run('a', task),
      runner.run('b', task),
      runner.run('', task),
      runner.run('', task),
    ]);
    expect(peak).toBe(4);
  });

  it('does not let a later task of a key overtake one that failed', async () => {
    const runner = new KeyedRunner();
    const ran: string[] = [];
    const first = runner.run('k', async () => {
      throw new Error('storage down');
    });
    const second = runner.run('k', async () => {
      ran.push('second');
    });
    await expect(first).rejects.toThrow('storage down');
    await expect(second).rejects.toThrow('storage down');
    expect(ran).toEqual([]);
    await runner.run('k', async () => ran.push('later'));
    expect(ran).toEqual(['later']);
  });
});
