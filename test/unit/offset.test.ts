import { offsetToJson, parseOffset } from '../../shared/contract/offset';

describe('offsets', () => {
  it('accepts -1, numbers and decimal strings exactly', () => {
    expect(parseOffset(-1)).toBe(-1n);
    expect(parseOffset(405)).toBe(405n);
    expect(parseOffset('9223372036854775806')).toBe(9223372036854775806n);
  });

  it('refuses fractions, negatives below -1, unsafe numbers and text', () => {
    for (const bad of [1.5, -2, 2 ** 60, 'abc', '1e3', '', null, '9223372036854775808']) {
      expect(parseOffset(bad)).toBeUndefined();
    }
  });

  it('answers a number only when it is exact', () => {
    expect(offsetToJson(405n)).toBe(405);
    expect(offsetToJson(9007199254740993n)).toBe('9007199254740993');
  });
});
