import { InFlight } from '../../shared/pipeline/in-flight';

describe('InFlight', () => {
  it('knows which messages are being delivered until each call ends', () => {
    const inFlight = new InFlight();
    inFlight.add('m1', 'https://a.example');
    inFlight.add('m2', 'https://a.example');
    inFlight.delete('m1');
    expect([inFlight.has('m1'), inFlight.has('m2'), inFlight.size]).toEqual([false, true, 1]);
  });

  it('counts the calls under way per origin and forgets an origin once its last call ended', () => {
    const inFlight = new InFlight();
    inFlight.add('m1', 'https://a.example');
    inFlight.add('m2', 'https://a.example');
    inFlight.add('m3', 'https://b.example');
    expect([...inFlight.byOrigin()]).toEqual([
      ['https://a.example', 2],
      ['https://b.example', 1],
    ]);
    inFlight.delete('m1');
    inFlight.delete('m3');
    expect([...inFlight.byOrigin()]).toEqual([['https://a.example', 1]]);
  });
});
