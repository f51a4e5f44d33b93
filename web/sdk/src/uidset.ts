/**
 * UID set helpers. Server-sent sets are parsed into ranges and never
 * expanded, so "1:4294967295" costs one range, not four billion numbers.
 */

/** MAX_SET_RANGES bounds the ranges parsed from one server-sent set; longer sets are refused. */
export const MAX_SET_RANGES = 100_000;
/** MAX_UID is the largest UID (RFC 3501 nz-number, 32 bits). */
export const MAX_UID = 0xffffffff;

/** UidRange is an inclusive range of UIDs, lo ≤ hi. */
export type UidRange = readonly [lo: number, hi: number];

/**
 * parseUidSet parses "1:3,7,9:*" into sorted, inclusive ranges; "*" reads as
 * star (default MAX_UID). It returns undefined for a malformed set.
 */
export function parseUidSet(set: string, star: number = MAX_UID): UidRange[] | undefined {
  if (set === "") return [];
  const parts = set.split(",", MAX_SET_RANGES + 1);
  if (parts.length > MAX_SET_RANGES) return undefined;
  const out: [number, number][] = [];
  for (const p of parts) {
    const ends = p.split(":");
    if (ends.length > 2) return undefined;
    const nums = ends.map((e) => (e === "*" ? star : /^[1-9][0-9]{0,9}$/.test(e) ? Number(e) : NaN));
    const a = nums[0] ?? NaN;
    const b = nums[1] ?? a;
    if (!(a >= 1 && a <= MAX_UID && b >= 1 && b <= MAX_UID)) return undefined;
    out.push(a <= b ? [a, b] : [b, a]);
  }
  out.sort((x, y) => x[0] - y[0]);
  return out;
}

/** inRanges reports whether uid lies in one of the sorted ranges (binary search). */
export function inRanges(ranges: readonly UidRange[], uid: number): boolean {
  let lo = 0;
  let hi = ranges.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const r = ranges[mid];
    if (r === undefined) return false;
    if (uid < r[0]) hi = mid - 1;
    else if (uid > r[1]) lo = mid + 1;
    else return true;
  }
  return false;
}

/** compactUids writes UIDs as a compact set ("1:3,7"), sorted; "" for none. */
export function compactUids(uids: Iterable<number>): string {
  const sorted = [...uids].sort((a, b) => a - b);
  const out: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    const start = sorted[i] as number;
    let end = start;
    while (i + 1 < sorted.length && (sorted[i + 1] as number) <= end + 1) end = sorted[++i] as number;
    out.push(start === end ? String(start) : `${start}:${end}`);
    i++;
  }
  return out.join(",");
}

/** chunkUids splits UIDs into compact sets of at most size UIDs each. */
export function chunkUids(uids: Iterable<number>, size: number): string[] {
  const sorted = [...uids].sort((a, b) => a - b);
  const out: string[] = [];
  for (let i = 0; i < sorted.length; i += size) out.push(compactUids(sorted.slice(i, i + size)));
  return out;
}
