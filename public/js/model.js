// Loads an `anime-gnn export` folder and scores anime with onnxruntime-web (wasm).
// The model is the same ONNX file `anime-gnn recommend` runs; this file mirrors
// gnn/inference.py's history encoding so that both give the same scores.

import { isAdult } from './recs.js';

export const MODEL_DIR = new URL('./model/anime_recommender/', location.href);


export class LoadError extends Error {}

/** Fetch one file as bytes, reporting progress through onBytes(delta). */
async function fetchBytes(name, onBytes) {
  const url = new URL(name, MODEL_DIR);
  let response;
  try {
    response = await fetch(url, { cache: 'no-cache' });
  } catch (err) {
    throw new LoadError(`could not fetch ${url.pathname} (${err.message}); is the server running?`);
  }
  if (!response.ok) {
    const hint = response.status === 404 ? ': run `anime-gnn export` first' : '';
    throw new LoadError(`${url.pathname} returned HTTP ${response.status}${hint}`);
  }
  const chunks = [];
  let size = 0;
  const reader = response.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    size += value.length;
    onBytes(value.length);
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const c of chunks) { bytes.set(c, offset); offset += c.length; }
  return bytes;
}

async function sha256Hex(bytes) {
  const digest = await crypto.subtle.digest('SHA-256', bytes);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

function parseJson(name, bytes) {
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch (err) {
    throw new LoadError(`${name} is not valid JSON (${err.message})`);
  }
}

/** The export's metadata, checked for what this page relies on. */
function checkMetadata(meta) {
  const names = (meta.inputs || []).map((i) => i.name);
  for (const needed of ['hist_anime', 'hist_rating', 'anime']) {   // "user" only in the older exports
    if (!names.includes(needed)) throw new LoadError(`the model has no input "${needed}" (inputs: ${names.join(', ')})`);
  }
  if (!Number.isInteger(meta.max_history) || meta.max_history < 1) throw new LoadError('metadata has no valid max_history');
  if (!Number.isInteger(meta.n_anime) || meta.n_anime < 2) throw new LoadError('metadata has no valid n_anime');
  if (!meta.item_embeddings?.shape) throw new LoadError('metadata does not describe item_embeddings');
}

/**
 * Load the export: metadata first (it lists the files and their sizes), then everything else
 * in parallel with one combined progress report: onProgress(loadedBytes, totalBytes).
 */
export async function loadModel(ort, onProgress) {
  const meta = parseJson('onnx_model_metadata.json', await fetchBytes('onnx_model_metadata.json', () => {}));
  checkMetadata(meta);
  const files = ['model.onnx', 'anime_display.json', 'model_mappings.json', meta.item_embeddings.file];
  const total = files.reduce((sum, f) => sum + (meta.files?.[f]?.bytes || 0), 0);
  let loaded = 0;
  const tick = (n) => { loaded += n; onProgress(loaded, Math.max(total, loaded)); };
  const bytes = await Promise.all(files.map((f) => fetchBytes(f, tick)));

  // The export is swapped in atomically, but a re-export between two of our requests could still
  // mix versions; the metadata's hashes catch that.
  if (crypto.subtle) {
    for (const [i, f] of files.entries()) {
      const expected = meta.files?.[f]?.sha256;
      if (expected && expected !== await sha256Hex(bytes[i])) {
        throw new LoadError(`${f} does not match its metadata (a new export was deployed while loading?): reload the page`);
      }
    }
  }
  const [modelBytes, displayBytes, mappingBytes, embBytes] = bytes;
  const display = parseJson('anime_display.json', displayBytes);
  const mappings = parseJson('model_mappings.json', mappingBytes);
  const [rows, dim] = meta.item_embeddings.shape;
  if (display.length !== meta.n_anime || rows !== meta.n_anime || embBytes.length !== rows * dim * 4) {
    throw new LoadError(`the export's files disagree on the number of anime (${meta.n_anime}): re-run \`anime-gnn export\``);
  }
  // item_embeddings.bin is little-endian float32, like every browser's Float32Array in practice.
  const embeddings = new Float32Array(embBytes.buffer, embBytes.byteOffset, rows * dim);

  let session;
  try {
    session = await ort.InferenceSession.create(modelBytes, {
      executionProviders: ['wasm'], graphOptimizationLevel: 'all',
    });
  } catch (err) {
    throw new LoadError(`onnxruntime-web could not load model.onnx (${err.message || err})`);
  }
  return new Model(ort, session, meta, display, mappings, embeddings, dim);
}

export class Model {
  constructor(ort, session, meta, display, mappings, embeddings, dim) {
    Object.assign(this, { ort, session, meta, display, embeddings, dim });
    this.nAnime = meta.n_anime;
    this.maxHistory = meta.max_history;
    // A history input of free length (the GNN's export: "history") gets as many slots as the history
    // has entries (one at least); a fixed one (the older architecture's) is padded to maxHistory.
    this.historyDynamic = typeof meta.inputs?.find((i) => i.name === 'hist_anime')?.shape?.[1] === 'string';
    this.low = Number(meta.rating_scale?.low ?? 1);
    this.high = Number(meta.rating_scale?.high ?? 10);
    // A Map, not the parsed object: "constructor", "__proto__" or "toString" are no anime.
    this.idToIndex = new Map(Object.entries(mappings.anime?.id_to_index ?? {}));
    // Trained on generated data? (preprocess reads the input folder's dataset.json, which
    // `anime-gnn generate-sample` writes; the exporter copies the flag to training.synthetic.)
    this.synthetic = meta.training?.synthetic === true;
    // The ranking output, when the export has one (gnn/inference.py's order_output); else the rating ranks.
    this.orderOutput = (session.outputNames || []).includes('score') ? 'score' : null;
    // An export without a "user" input scores every user from their ratings (the GNN); the older
    // architecture's export takes user 0 for a new user.
    this.userInput = (session.inputNames || []).includes('user');
    // Pad values from the metadata (0 and 0.0 today; never -1: index 0 is the masked padding anime).
    this.padAnime = BigInt(meta.padding?.anime_index ?? 0);
    this.padRating = Number(meta.padding?.hist_rating ?? 0);
    // Every anime index, 0 included, as gnn.inference scores them (row 0 is ignored later).
    this.allAnime = new ort.Tensor('int64', BigInt64Array.from({ length: this.nAnime }, (_, i) => BigInt(i)), [this.nAnime]);
    this.newUser = new ort.Tensor('int64', BigInt64Array.of(BigInt(meta.padding?.new_user_index ?? 0)), [1]);
  }

  /** The anime index of a catalog id, or null (unknown ids, and anything that is not a real index). */
  indexOf(animeId) {
    const i = this.idToIndex.get(String(animeId));
    return Number.isInteger(i) && i > 0 && i < this.nAnime ? i : null;
  }

  /**
   * The model's history input from [[animeIndex, rating], ...] in rating order (oldest first):
   * the last maxHistory entries are kept (the most recent ratings), then padded at the end (a free-length
   * input: to one slot at least).
   */
  historyTensors(pairs) {
    const kept = pairs.slice(-this.maxHistory);
    const H = this.historyDynamic ? Math.max(1, kept.length) : this.maxHistory;
    const anime = new BigInt64Array(H).fill(this.padAnime);
    const rating = new Float32Array(H).fill(this.padRating);
    kept.forEach(([a, r], j) => { anime[j] = BigInt(a); rating[j] = r; });
    return {
      hist_anime: new this.ort.Tensor('int64', anime, [1, H]),
      hist_rating: new this.ort.Tensor('float32', rating, [1, H]),
    };
  }

  /**
   * For a new user's history, the predicted rating (scores, what is shown) and the order score (order,
   * what ranks: the ranking output, or the rating itself) of every anime index, as gnn.inference's
   * scores(): `candidates` (anime indices; default every anime) are scored, the others get NaN and
   * -Infinity, and so do candidates an export does not rate (beyond its rank_candidates best).
   * ms = time of the run.
   */
  async score(pairs, candidates = null) {
    const start = performance.now();
    if (candidates !== null && candidates.length === 0) {   // nothing to score: every anime rated or filtered out
      return { scores: new Float32Array(this.nAnime).fill(Number.NaN), order: new Float32Array(this.nAnime).fill(-Infinity), ms: 0 };
    }
    const anime = candidates === null ? this.allAnime
      : new this.ort.Tensor('int64', BigInt64Array.from(candidates, (a) => BigInt(a)), [candidates.length]);
    const feeds = { anime, ...this.historyTensors(pairs) };
    if (this.userInput) feeds.user = this.newUser;
    const out = await this.session.run(feeds);
    const ms = performance.now() - start;
    const rating = out.rating.data;
    const order = this.orderOutput ? out[this.orderOutput].data : rating;
    const scores = new Float32Array(this.nAnime).fill(Number.NaN);
    const ranks = new Float32Array(this.nAnime).fill(-Infinity);
    const index = candidates === null ? (i) => i : (i) => candidates[i];
    for (let i = 0; i < rating.length; i += 1) {
      scores[index(i)] = rating[i];
      ranks[index(i)] = order[i];
    }
    return { scores, order: ranks, ms };
  }

  /** Fill NaN ratings of `anime` in `scores` (shown anime the first run did not rate), in place. */
  async rateMissing(pairs, scores, anime) {
    const missing = [...new Set(anime)].filter((a) => a > 0 && a < this.nAnime && Number.isNaN(scores[a]));
    const limit = Number(this.meta.rank_candidates) || missing.length || 1;
    for (let i = 0; i < missing.length; i += limit) {
      const part = missing.slice(i, i + limit);
      const got = await this.score(pairs, part);
      for (const a of part) scores[a] = got.scores[a];
    }
  }

  /** The k nearest anime to `index` by cosine (embeddings are L2-normalized: cosine = dot). */
  similar(index, k) {
    const D = this.dim;
    const e = this.embeddings;
    const q = e.subarray(index * D, index * D + D);
    const sims = new Float32Array(this.nAnime);
    for (let a = 1; a < this.nAnime; a += 1) {
      let dot = 0;
      for (let d = 0, o = a * D; d < D; d += 1) dot += e[o + d] * q[d];
      sims[a] = dot;
    }
    const order = [];
    const adult = isAdult(this.display[index]); // adult titles only next to an adult one (gnn.inference.similar)
    for (let a = 1; a < this.nAnime; a += 1) if (a !== index && (adult || !isAdult(this.display[a]))) order.push(a);
    order.sort((x, y) => (sims[y] - sims[x]) || (x - y));
    return order.slice(0, k).map((a) => ({ index: a, similarity: sims[a] }));
  }
}
