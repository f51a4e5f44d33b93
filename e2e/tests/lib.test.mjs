// Unit tests of the harness's pure helpers (no browser, no servers).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { quote } from '../lib/imap.mjs';
import { quantile } from '../lib/stats.mjs';

test('quantile', () => {
  const ten = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
  const cases = [
    { in: [1], q: 0.5, want: 1 },
    { in: [1, 2, 3, 4], q: 0.5, want: 2 },
    { in: ten, q: 0.5, want: 5 },
    { in: ten, q: 0.9, want: 9 },
    { in: ten, q: 1, want: 10 },
    { in: ten, q: 0, want: 1 },
    { in: [], q: 0.5, want: NaN },
  ];
  for (const c of cases) assert.deepEqual(quantile(c.in, c.q), c.want, JSON.stringify(c));
});

test('quote', () => {
  const cases = [
    { in: 'INBOX', want: '"INBOX"' },
    { in: 'a"b', want: '"a\\"b"' },
    { in: 'a\\b', want: '"a\\\\b"' },
    { in: 'bad\r\nline', throws: true },
  ];
  for (const c of cases) {
    if (c.throws) assert.throws(() => quote(c.in), /e2e\/imap/);
    else assert.equal(quote(c.in), c.want);
  }
});
