// Source maps at line granularity: keeps the first mapping of each generated line and drops the
// rest, which is all a stack trace (`node --enable-source-maps`) uses to name the ts/ file and
// line, at about a fifth of tsc's per-token maps (the package has a size budget). Mappings are
// Base64 VLQ as the Source Map v3 format defines them; all fields but the generated column are
// relative to the previous segment across lines, so the kept segments are re-encoded.
import { readFileSync, writeFileSync } from 'node:fs';

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const VALUE = new Map([...B64].map((c, i) => [c, i]));

/** The numbers of one Base64 VLQ segment. */
function decodeSegment(s) {
  const out = [];
  let value = 0;
  let shift = 0;
  for (const c of s) {
    const d = VALUE.get(c);
    value += (d & 31) << shift;
    if (d & 32) shift += 5;
    else {
      out.push(value & 1 ? -(value >>> 1) : value >>> 1);
      value = 0;
      shift = 0;
    }
  }
  return out;
}

function encodeNumber(n) {
  let v = n < 0 ? (-n << 1) | 1 : n << 1;
  let s = '';
  do {
    let d = v & 31;
    v >>>= 5;
    if (v > 0) d |= 32;
    s += B64[d];
  } while (v > 0);
  return s;
}

/** `mappings` with only the first segment of each generated line (sources, lines and columns kept). */
export function lineMappings(mappings) {
  const abs = [0, 0, 0, 0]; // source, original line, original column, name: running absolutes
  const prev = [0, 0, 0, 0];
  const lines = mappings.split(';').map((line) => {
    let first = null;
    for (const seg of line.split(',')) {
      if (seg === '') continue;
      const f = decodeSegment(seg);
      for (let i = 1; i < f.length; i++) abs[i - 1] += f[i];
      if (first === null && f.length >= 4) first = abs.slice(0, 3);
    }
    if (first === null) return '';
    const out = encodeNumber(0) + first.map((v, i) => encodeNumber(v - prev[i])).join('');
    for (let i = 0; i < 3; i++) prev[i] = first[i];
    return out;
  });
  return lines.join(';');
}

/** Rewrites a .js.map file in place at line granularity. */
export function shrinkMap(path) {
  const map = JSON.parse(readFileSync(path, 'utf8'));
  map.mappings = lineMappings(map.mappings);
  delete map.names;
  writeFileSync(path, JSON.stringify(map));
}
