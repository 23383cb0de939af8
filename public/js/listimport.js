// Read a person's list export: a port of gnn/listimport.py (parseList) and gnn/mylist.py
// (resolveList, reportLines). Keep them in step: tests/web/test_list_import.py feeds both the
// same fixture files. Formats, fields and rules are in those modules' docstrings. Reading a file
// happens here, in the page: nothing is sent anywhere.

export const MAX_BYTES = 64 * 1024 * 1024;
const SHOWN_MISSING = 5;
const MAL_STATUS = new Map([['watching', 'watching'], ['completed', 'completed'], ['on-hold', 'on_hold'],
  ['dropped', 'dropped'], ['plan to watch', 'plan_to_watch'], ['1', 'watching'], ['2', 'completed'],
  ['3', 'on_hold'], ['4', 'dropped'], ['6', 'plan_to_watch']]);
const ANILIST_STATUS = new Map([['CURRENT', 'watching'], ['REPEATING', 'watching'], ['COMPLETED', 'completed'],
  ['PAUSED', 'on_hold'], ['DROPPED', 'dropped'], ['PLANNING', 'plan_to_watch']]);
// AniList score formats -> [largest raw score, conversion to 1-10] (gnn/ingest/anilist_ratings.py).
const SCORE_FORMATS = new Map([['POINT_100', [100, (s) => s / 10]], ['POINT_10_DECIMAL', [10, (s) => s]],
  ['POINT_10', [10, (s) => s]], ['POINT_5', [5, (s) => 2 * s]], ['POINT_3', [3, (s) => ({ 1: 3.5, 2: 6, 3: 8.5 })[s]]]]);
const DATE = /^[0-9]{4}-[0-9]{2}-[0-9]{2}$/;
const ID = /^[0-9]{1,15}$/;

export class ListFormatError extends Error {}

const isObj = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);
const own = (o, k) => Object.prototype.hasOwnProperty.call(o, k);
const isNumber = (x) => typeof x === 'number';

function whole(v) {
  if (typeof v === 'number') return Number.isInteger(v) && v >= 0 && v < 1e15 ? v : null;
  if (typeof v === 'string' && ID.test(v.trim())) return Number(v.trim());
  return null;
}

/** gnn.ingest.anilist_ratings.to_ten_point: a raw AniList score -> 1..10; throws outside the format. */
function toTenPoint(score, fmt) {
  const [top, convert] = SCORE_FORMATS.get(fmt);
  if (!(score > 0 && score <= top) || (fmt === 'POINT_3' && !Number.isInteger(score))) throw new RangeError('out of range');
  return Math.min(10, Math.max(1, Math.floor(convert(score) + 0.5)));
}

async function gunzip(bytes) {
  const reader = new Blob([bytes]).stream().pipeThrough(new DecompressionStream('gzip')).getReader();
  const chunks = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.length;
      if (size > MAX_BYTES) break;
      chunks.push(value);
    }
  } catch (err) {
    throw new ListFormatError(`not a readable gzip file (${err.message})`);
  }
  if (size > MAX_BYTES) {
    reader.cancel().catch(() => {});
    return new Uint8Array(MAX_BYTES + 1);
  }
  const out = new Uint8Array(size);
  let offset = 0;
  for (const c of chunks) { out.set(c, offset); offset += c.length; }
  return out;
}

/** Bytes (gzipped or not) -> text. */
export async function decode(bytes) {
  let data = bytes;
  if (data[0] === 0x1f && data[1] === 0x8b) data = await gunzip(data);
  if (data.length > MAX_BYTES) throw new ListFormatError(`larger than ${MAX_BYTES / (1024 * 1024)} MB`);
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(data); // drops a BOM, as utf-8-sig does
  } catch {
    throw new ListFormatError('not UTF-8 text');
  }
}

/** {format, entries, invalid, repeated}: entries [{source, id, idMal, title, status, rating, when}], oldest first. */
export async function parseList(bytes) {
  const text = (await decode(bytes)).trimStart();
  let raw;
  let format;
  if (text.startsWith('<')) {
    [raw, format] = [mal(text), 'mal-xml'];
  } else if (text.startsWith('{') || text.startsWith('[')) {
    let doc;
    try {
      doc = JSON.parse(text);
    } catch (err) {
      throw new ListFormatError(`not valid JSON (${err.message})`);
    }
    [raw, format] = json(doc);
  } else {
    throw new ListFormatError('not a MyAnimeList XML export, an AniList list JSON or an anime-gnn ratings file');
  }
  const entries = [];
  const seen = new Set();
  let invalid = 0;
  let repeated = 0;
  for (const e of raw) {
    if (e === null) invalid += 1;
    else if (seen.has(`${e.source}:${e.id}`)) repeated += 1;
    else { seen.add(`${e.source}:${e.id}`); entries.push(e); }
  }
  entries.sort((a, b) => (a.when < b.when ? -1 : a.when > b.when ? 1 : 0)); // stable: file order within a date
  return { format, entries, invalid, repeated };
}

function child(node, tag) {
  for (const c of node?.children ?? []) if (c.tagName === tag) return c;
  return null;
}

function mal(text) {
  if (text.slice(0, 4096).toUpperCase().includes('<!DOCTYPE') || text.toUpperCase().includes('<!ENTITY')) {
    throw new ListFormatError('XML with a DOCTYPE or entities is not read (MyAnimeList exports have none)');
  }
  const doc = new DOMParser().parseFromString(text, 'application/xml');
  const error = doc.getElementsByTagName('parsererror')[0];
  if (error) throw new ListFormatError(`not well-formed XML (${error.textContent.trim().split('\n')[0]})`);
  const root = doc.documentElement;
  if (root.tagName !== 'myanimelist') {
    throw new ListFormatError(`an XML file, but not a MyAnimeList export (root <${root.tagName}>, not <myanimelist>)`);
  }
  const kind = (child(child(root, 'myinfo'), 'user_export_type')?.textContent || '1').trim();
  if (kind !== '1') throw new ListFormatError(`a MyAnimeList export of type ${kind} (a manga list?), not an anime list`);
  return [...root.children].filter((c) => c.tagName === 'anime').map(malEntry);
}

function malEntry(node) {
  const text = (tag) => (child(node, tag)?.textContent ?? '').trim();
  const id = whole(text('series_animedb_id'));
  const status = MAL_STATUS.get(text('my_status').toLowerCase()) ?? null;
  const score = whole(text('my_score') || '0');
  if (!id || status === null || score === null || score > 10) return null;
  const when = [text('my_finish_date'), text('my_start_date')].find((d) => DATE.test(d) && d.slice(0, 4) !== '0000') ?? '';
  return { source: 'mal', id, idMal: null, title: text('series_title') || null, status, rating: score || null, when };
}

function json(doc) {
  let c = isObj(doc) ? (own(doc, 'data') ? doc.data : doc) : null;
  c = isObj(c) ? (own(c, 'MediaListCollection') ? c.MediaListCollection : c) : null;
  if (isObj(c) && Array.isArray(c.lists)) return [anilist(c), 'anilist-json'];
  const ratings = Array.isArray(doc) ? doc : isObj(doc) ? doc.ratings : null;
  if (Array.isArray(ratings)) return [ratings.map(pageEntry), 'anime-gnn-json'];
  throw new ListFormatError('JSON, but neither an AniList MediaListCollection (with "lists") '
    + 'nor an anime-gnn ratings file (with "ratings")');
}

function anilist(collection) {
  const options = isObj(collection.user) ? collection.user.mediaListOptions : null;
  const fmt = isObj(options) ? options.scoreFormat : null;
  const entries = collection.lists.filter(isObj).flatMap((l) => (Array.isArray(l.entries) ? l.entries : []));
  if (!SCORE_FORMATS.has(fmt) && entries.some((e) => isObj(e) && e.score !== 0 && e.score !== null && e.score !== undefined)) {
    throw new ListFormatError('the AniList list does not say its score format: ask MediaListCollection for '
      + 'user { mediaListOptions { scoreFormat } } too');
  }
  return entries.map((e) => (isObj(e) ? anilistEntry(e, fmt) : null));
}

function anilistEntry(e, fmt) {
  const media = isObj(e.media) ? e.media : {};
  const status = typeof e.status === 'string' ? ANILIST_STATUS.get(e.status) ?? null : null;
  const id = whole(own(e, 'mediaId') ? e.mediaId : media.id);
  const score = own(e, 'score') ? e.score : 0;
  if (!id || status === null || !(score === null || isNumber(score))) return null;
  let rating = null;
  if (score !== 0 && score !== null) {
    try {
      rating = toTenPoint(score, fmt);
    } catch {
      return null;
    }
  }
  const title = isObj(media.title) ? media.title : {};
  const name = ['userPreferred', 'romaji', 'english'].map((k) => title[k]).find((t) => typeof t === 'string') ?? null;
  return { source: 'anilist', id, idMal: whole(media.idMal), title: name, status, rating, when: anilistWhen(e) };
}

function anilistWhen(e) {
  const updated = e.updatedAt;
  if (isNumber(updated) && updated > 0 && updated < 1e11) return new Date(Math.trunc(updated) * 1000).toISOString().slice(0, 10);
  const done = e.completedAt;
  if (isObj(done) && isNumber(done.year) && done.year > 0 && done.year < 10000) {
    const [y, m, d] = [done.year, isNumber(done.month) ? done.month : 0, isNumber(done.day) ? done.day : 0]
      .map((x) => Math.trunc(x));
    return `${String(y).padStart(4, '0')}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
  }
  return '';
}

function pageEntry(raw) {
  let id;
  let rating;
  if (Array.isArray(raw) && raw.length >= 2) [id, rating] = raw;
  else if (isObj(raw)) [id, rating] = [own(raw, 'anime_id') ? raw.anime_id : raw.id, raw.rating];
  id = whole(id);
  if (id === null || !isNumber(rating)) return null;
  return { source: 'catalog', id, idMal: null, title: null, status: null, rating, when: '' };
}

/** gnn.mylist.catalog_maps: {mal, anilist, catalog}: Map id -> anime index (lowest index wins). */
export function catalogMaps(display) {
  const maps = { mal: new Map(), anilist: new Map(), catalog: new Map() };
  display.forEach((e, i) => {
    if (i === 0 || !e) return;
    for (const [source, key] of [['mal', 'idMal'], ['anilist', 'idAnilist'], ['catalog', 'id']]) {
      if (Number.isInteger(e[key]) && !maps[source].has(e[key])) maps[source].set(e[key], i);
    }
  });
  return maps;
}

/** gnn.mylist.resolve_list: {format, ratings: [[index, rating]], seen, planned, counts, missingTitles}. */
export function resolveList(parsed, display, low, high, maps = catalogMaps(display)) {
  const counts = { rated: 0, unscored: 0, planned: 0, not_in_catalog: 0,
    entries: parsed.entries.length + parsed.invalid + parsed.repeated, invalid: parsed.invalid, repeated: parsed.repeated };
  const [ratings, seen, planned, missing, used] = [[], [], [], [], new Set()];
  for (const e of parsed.entries) {
    let index = maps[e.source].get(e.id);
    if (index === undefined && e.source === 'anilist' && e.idMal !== null) index = maps.mal.get(e.idMal);
    if (index === undefined) {
      counts.not_in_catalog += 1;
      if (missing.length < SHOWN_MISSING) missing.push(e.title || `${e.source} id ${e.id}`);
      continue;
    }
    let { rating } = e;
    if (rating !== null && e.source !== 'catalog') rating = low + (rating - 1) * (high - low) / 9;
    if (used.has(index)) counts.repeated += 1;
    else if (e.status === 'plan_to_watch') { counts.planned += 1; planned.push(index); }
    else if (rating !== null && rating >= low && rating <= high) { counts.rated += 1; ratings.push([index, rating]); }
    else if (rating === null && e.status !== null) { counts.unscored += 1; seen.push(index); }
    else { counts.invalid += 1; continue; }
    used.add(index);
  }
  const noIds = [...new Set(parsed.entries.filter((e) => maps[e.source].size === 0).map((e) => e.source))].sort();
  return { format: parsed.format, ratings, seen, planned, counts, missingTitles: missing, noIds };
}

/** gnn.mylist.report_lines: the counts report, line by line. */
export function reportLines(imported) {
  const c = imported.counts;
  const lines = [`read ${c.entries} entries (${imported.format}): ${c.rated} rated, `
    + `${c.unscored} without a score (left out of recommendations), `
    + `${c.planned} plan-to-watch (marked, not ratings)`];
  const dropped = [['not_in_catalog', "not in this model's catalog"], ['repeated', 'repeated'], ['invalid', 'invalid']]
    .filter(([k]) => c[k]).map(([k, label]) => `${c[k]} ${label}`);
  if (dropped.length) lines.push(`skipped: ${dropped.join(', ')}`);
  const names = { mal: 'MyAnimeList', anilist: 'AniList', catalog: 'catalog' };
  if (imported.noIds.length) {
    lines.push(`this model's catalog has no ${imported.noIds.map((s) => names[s]).join(' or ')} ids `
      + '(exported before they were kept?): re-export the model to read this list');
  }
  if (imported.missingTitles.length) {
    const more = c.not_in_catalog - imported.missingTitles.length;
    lines.push(`not in the catalog: ${imported.missingTitles.join('; ')}${more ? ` and ${more} more` : ''}`);
  }
  return lines;
}
