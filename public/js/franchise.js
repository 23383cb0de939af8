// Series-aware lists: a line-by-line port of gnn/franchise.py and gnn/franchise_order.py (keep them in
// step; tests/web/test_franchise_js.py checks that both give the same cards). The semantics are in
// gnn/franchise.py's docstring: franchises over SEQUEL/PREQUEL/PARENT/SIDE_STORY pairs that no end
// calls anything else, a prequel made in a later year (or a non-TV one in a TV series' year, unless
// an episode 0 between seasons) not counted as before (a sequel this leaves with nothing before it
// follows what came before that prequel), entry point = earliest root (unknown year last, TV first,
// lowest index), next entry = unrated anime after the deepest rated one (sequels before side
// stories), one card per franchise, filters win, a card of a franchise not started whose entry point
// was filtered out after every card that can be started.

const CONTINUITY = new Set(['SEQUEL', 'PREQUEL', 'PARENT', 'SIDE_STORY']);
const BEFORE = new Set(['PREQUEL', 'PARENT']); // [j, T] on i: j comes before i
const SEQUEL = new Set(['PREQUEL', 'SEQUEL']); // the main line; PARENT / SIDE_STORY are side stories

// Python's tuple ordering on number keys.
function cmp(a, b) {
  for (let i = 0; i < a.length; i += 1) {
    if (a[i] < b[i]) return -1;
    if (a[i] > b[i]) return 1;
  }
  return 0;
}

// The entry's year, or 0 if unknown (so "came out later" needs both years).
function year(entry) {
  return Number.isInteger(entry?.year) ? entry.year : 0;
}

const isTV = (entry) => String(entry?.format || '').toUpperCase() === 'TV';

// Whether the story's prequel came out after its sequel: 'later year'; 'same year' as a TV sequel while
// it is not TV itself (keepEpisodeZeros decides); else ''. Needs both years.
function madeAfter(prequel, sequel) {
  const [p, s] = [year(prequel), year(sequel)];
  if (p > 0 && s > 0 && p > s) return 'later year';
  return p > 0 && p === s && isTV(sequel) && !isTV(prequel) ? 'same year' : '';
}

// gnn.franchise_order.place: earlier before later; the first continuity type that placed them names the link.
function place(preds, viaType, later, earlier, t) {
  (preds[later] ??= new Set()).add(earlier);
  if (!viaType.has(`${later},${earlier}`)) viaType.set(`${later},${earlier}`, t);
}

// Place each same-year non-TV prequel whose story has an earlier entry (other than the series itself)
// before its TV series: an episode 0 between seasons. One pass: a placed link gives a TV series an
// earlier entry, never a non-TV prequel.
function keepEpisodeZeros(sameYear, preds, viaType) {
  for (const [later, earlier, t] of sameYear) {
    if (![...(preds[earlier] ?? [])].some((x) => x !== later)) continue;
    place(preds, viaType, later, earlier, t);
  }
}

// gnn.franchise_order.reaches: target is among start's earlier entries (any number of links up).
function reaches(direct, start, target) {
  const stack = [start];
  const seen = new Set([start]);
  while (stack.length) {
    for (const a of direct[stack.pop()] ?? []) {
      if (a === target) return true;
      if (!seen.has(a)) { seen.add(a); stack.push(a); }
    }
  }
  return false;
}

// gnn.franchise_order.bridge_later_prequels: a sequel left with nothing before it because its story prequel
// came out in a later year follows the latest entries before that prequel that may come before it.
function bridgeLaterPrequels(dropped, preds, viaType, display) {
  const direct = preds.map((p) => (p ? new Set(p) : null));
  for (const [later, earlier, t] of dropped) {
    if (direct[later]?.size) continue; // placed by another link: not cut off
    const found = [];
    const stack = [earlier];
    const seen = new Set([earlier, later]);
    while (stack.length) {
      for (const a of [...(direct[stack.pop()] ?? [])].sort((x, y) => x - y)) {
        if (seen.has(a)) continue;
        seen.add(a);
        const after = madeAfter(display[a], display[later]);
        const own = [...(direct[a] ?? [])].some((x) => x !== later);
        if (after === 'later year' || (after && !own)) stack.push(a); // released after the sequel too
        else if (!reaches(direct, a, later)) found.push(a);
      }
    }
    for (const a of found) { // the latest of them: not one that is before another one found
      if (found.some((b) => b !== a && reaches(direct, b, a))) continue;
      place(preds, viaType, later, a, t);
    }
  }
}

// Per-anime lists are allocated only where there is something (most anime are in no franchise):
// neighbours[i] / preds[i] are null for none.
const EMPTY = Object.freeze([]);

function components(neighbours) {
  const out = new Array(neighbours.length).fill(0);
  for (let start = 1; start < neighbours.length; start += 1) {
    if (out[start]) continue;
    out[start] = start;
    const stack = [start];
    while (stack.length) {
      for (const b of neighbours[stack.pop()] ?? EMPTY) {
        if (!out[b]) { out[b] = start; stack.push(b); }
      }
    }
  }
  return out;
}

function depths(preds) {
  const n = preds.length;
  const succ = new Array(n).fill(null);
  const indeg = new Array(n).fill(0);
  preds.forEach((ps, i) => {
    for (const p of ps ?? EMPTY) (succ[p] ??= []).push(i);
    indeg[i] = ps?.size ?? 0;
  });
  const depth = new Array(n).fill(0);
  const queue = [];
  for (let i = 0; i < n; i += 1) if (indeg[i] === 0) queue.push(i);
  while (queue.length) {
    const i = queue.pop();
    for (const s of succ[i] ?? EMPTY) {
      depth[s] = Math.max(depth[s], depth[i] + 1);
      indeg[s] -= 1;
      if (indeg[s] === 0) queue.push(s);
    }
  }
  return depth;
}

function entryPoint(members, preds, display) {
  if (members.length === 1) return members[0];
  const roots = members.filter((m) => !preds[m]);
  const key = (m) => {
    const e = display[m] || {};
    const known = Number.isInteger(e.year);
    return [known ? 0 : 1, known ? e.year : 0, isTV(e) ? 0 : 1, m];
  };
  return (roots.length ? roots : members).reduce((best, m) => (cmp(key(m), key(best)) < 0 ? m : best));
}

export class Franchises {
  /** From anime_display.json (entry 0 = padding null); fields as gnn.franchise.Franchises. */
  constructor(display) {
    const n = display.length;
    const stated = new Map(); // a * n + b (a < b) -> ["<T" (a states [b, T]) | ">T" (b states [a, T])]
    for (let i = 1; i < n; i += 1) {
      const rels = display[i]?.relations;
      if (!rels) continue;
      for (const rel of rels) {
        const j = rel[0];
        if (!Number.isInteger(j) || !(j > 0 && j < n && i !== j) || display[j] == null) continue;
        const key = i < j ? i * n + j : j * n + i;
        const said = `${i < j ? '<' : '>'}${rel[1]}`;
        const list = stated.get(key);
        if (list) list.push(said); else stated.set(key, [said]);
      }
    }
    const preds = new Array(n).fill(null);
    this.viaType = new Map(); // "i,j" -> the type that places j before i
    const neighbours = new Array(n).fill(null);
    const sameYear = []; // [TV series, its non-TV prequel of the same year, type]
    const laterYear = []; // [sequel, its prequel made in a later year, type]
    for (const key of [...stated.keys()].sort((x, y) => x - y)) { // (a, b) order, as Python's sorted()
      const [a, b] = [Math.floor(key / n), key % n];
      const types = stated.get(key);
      if (!types.every((t) => CONTINUITY.has(t.slice(1)))) continue;
      (neighbours[a] ??= []).push(b);
      (neighbours[b] ??= []).push(a);
      for (const t of types) {
        const [src, dst] = t[0] === '<' ? [a, b] : [b, a];
        const [later, earlier] = BEFORE.has(t.slice(1)) ? [src, dst] : [dst, src];
        const after = SEQUEL.has(t.slice(1)) ? madeAfter(display[earlier], display[later]) : '';
        if (after) { // decided below; a prequel made afterwards: release order wins
          (after === 'same year' ? sameYear : laterYear).push([later, earlier, t.slice(1)]);
        } else {
          place(preds, this.viaType, later, earlier, t.slice(1));
        }
      }
    }
    keepEpisodeZeros(sameYear, preds, this.viaType);
    bridgeLaterPrequels(laterYear, preds, this.viaType, display);
    this.franchise = components(neighbours);
    this.depth = depths(preds);
    this.members = new Map();
    for (let i = 1; i < n; i += 1) {
      if (display[i] == null) { this.franchise[i] = 0; continue; } // a missing entry belongs to nothing
      const f = this.franchise[i];
      if (!this.members.has(f)) this.members.set(f, []);
      this.members.get(f).push(i);
    }
    this.entry = new Map([...this.members].map(([f, ms]) => [f, entryPoint(ms, preds, display)]));
    this.later = preds.map((p) => p !== null);
    this.preds = preds.map((p) => (p ? [...p].sort((x, y) => x - y) : EMPTY));
  }

  size(f) {
    return this.members.get(f)?.length ?? 0;
  }

  /** gnn.franchise.Franchises.started: the franchises with an anime among `rated` (out of range and 0 ignored). */
  started(rated) {
    const out = new Set();
    for (const a of rated) if (a > 0 && a < this.franchise.length && this.franchise[a]) out.add(this.franchise[a]);
    return out;
  }

  /** gnn.franchise.Franchises.furthest: the deepest of `anime` (non-empty), then the lowest index. */
  furthest(anime) {
    return anime.reduce((v, a) => (cmp([this.depth[a], -a], [this.depth[v], -v]) > 0 ? a : v));
  }

  /** [anime, via]: franchise f's next unrated entry and the rated anime before it, or null; allowed
   * (optional, booleans by anime index): only these anime may be it. */
  nextEntry(f, rated, orderScore, allowed = null) {
    let best = null;
    let bestKey = null;
    for (const m of this.members.get(f) || []) {
      if (rated.has(m) || (allowed && !allowed[m])) continue;
      const before = this.preds[m].filter((p) => rated.has(p));
      if (!before.length) continue;
      const via = this.furthest(before);
      const key = [this.depth[via], SEQUEL.has(this.viaType.get(`${m},${via}`)) ? 1 : 0, orderScore[m], -m];
      if (bestKey === null || cmp(key, bestKey) > 0) { best = [m, via]; bestKey = key; }
    }
    return best;
  }
}

/** gnn.franchise.next_candidates: the anime that may be a started franchise's next entry (ascending). */
export function nextCandidates(rated, fr, allowed) {
  const out = [];
  for (let m = 1; m < fr.franchise.length; m += 1) {
    if (allowed[m] && !rated.has(m) && fr.preds[m].some((p) => rated.has(p))) out.push(m);
  }
  return out;
}

/**
 * gnn.franchise.continue_list, "Continue your series": the next entry of each franchise the user started,
 * the k with the highest predicted rating (NaN last, ties by index). rating: numbers by anime index,
 * holding at least the nextCandidates.
 */
export function continueList(rating, rated, fr, allowed, k) {
  const scores = Array.from(rating, (r) => (Number.isNaN(r) ? -Infinity : r));
  const score = (a) => scores[a];
  const cards = [];
  for (const f of [...fr.started(rated.keys())].sort((x, y) => x - y)) {
    const found = fr.nextEntry(f, rated, scores, allowed);
    if (found) cards.push({ anime: found[0], kind: 'next', candidate: found[0], via: found[1], size: fr.size(f), others: [] });
  }
  return cards.sort((x, y) => (score(y.anime) - score(x.anime)) || (x.anime - y.anime)).slice(0, Math.max(0, k));
}

function makeCard(c, f, scores, rated, fr, allowed) {
  let [anime, kind, via] = [c, 'standalone', null];
  let started = true;
  if (fr.size(f) > 1) {
    started = fr.members.get(f).some((m) => rated.has(m));
    if (!started) {
      [anime, kind] = [fr.entry.get(f), 'entry'];
    } else {
      const found = fr.nextEntry(f, rated, scores);
      [anime, kind, via] = found ? [found[0], 'next', found[1]] : [c, 'candidate', null];
    }
    if (!allowed[anime]) [anime, kind, via] = [c, 'candidate', null];
  }
  // waits: a candidate of a franchise the user rated nothing of (gnn.franchise._make_card).
  return { anime, kind, candidate: c, via, others: anime === c ? [] : [c], waits: kind === 'candidate' && !started };
}

/**
 * The top k cards: [{anime, kind, candidate, via, size, others}] (gnn.franchise.franchise_list).
 * orderScore: numbers by anime index (what ranks); rated: Map anime index -> rating (null = seen,
 * unscored); allowed: booleans by anime index (filters passed, not excluded).
 */
export function franchiseList(orderScore, rated, fr, allowed, k) {
  const walk = [];
  for (let a = 1; a < allowed.length; a += 1) if (allowed[a]) walk.push(a);
  walk.sort((x, y) => (orderScore[y] - orderScore[x]) || (x - y));
  const cards = new Map();
  let first = 0; // cards that can be started or continued (a candidate of an unstarted franchise waits)
  for (const c of walk) {
    const f = fr.franchise[c];
    if (cards.has(f)) {
      if (c !== cards.get(f).anime) cards.get(f).others.push(c);
      continue;
    }
    if (first >= k) continue;
    cards.set(f, makeCard(c, f, orderScore, rated, fr, allowed));
    if (!cards.get(f).waits) first += 1;
  }
  const all = [...cards];
  const ordered = [...all.filter(([, d]) => !d.waits), ...all.filter(([, d]) => d.waits)].slice(0, Math.max(0, k));
  return ordered.map(([f, { waits, ...d }]) => ({ ...d, size: fr.size(f) }));
}
