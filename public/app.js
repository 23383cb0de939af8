// anime-gnn web page: wires the model (js/model.js), search, ratings and recommendations together.
// Recommendations mirror gnn/inference.py: one run scores every anime for the person's history
// (user 0 = new user), rated anime are left out, filters apply, the order score ranks (ties by
// index), and js/franchise.js groups the list into one card per franchise (js/recs.js).

import { card } from './js/cards.js';
import { readFilters, renderFilters } from './js/filters.js';
import { Franchises } from './js/franchise.js';
import { downloadRatings, importList } from './js/importer.js';
import { loadModel, LoadError } from './js/model.js';
import { RatingStore, StatusStore } from './js/ratings.js';
import { allowedAnime, buildContinue, buildList, discounted, logRatings, recentYear, today } from './js/recs.js';
import { TitleIndex } from './js/search.js';
import { cover, el, facts, ratingSelect, show, subtitle } from './js/ui.js';

const $ = (id) => document.getElementById(id);
const SIMILAR_K = 12;

function setState(state) {
  document.body.dataset.state = state; // "loading" | "ready" | "error" (tests and benchmarks wait on it)
}

function showError(message) {
  const box = $('error');
  box.replaceChildren(el('strong', { text: 'The recommender could not start. ' }), message);
  show(box, true);
  show($('load-progress'), false);
  $('load-text').textContent = 'Not loaded';
  setState('error');
}

async function loadOrt() {
  let ort;
  try {
    ort = await import('./vendor/ort.wasm.min.mjs');
  } catch (err) {
    throw new LoadError(`onnxruntime-web is missing from vendor/ (${err.message}): run \`make web\``);
  }
  // Absolute, so the wasm and its worker script resolve from vendor/ whatever the module's own URL.
  ort.env.wasm.wasmPaths = new URL('./vendor/', location.href).href;
  // Threads need cross-origin isolation (SharedArrayBuffer). Unset, onnxruntime-web picks
  // min(4, ceil(cores / 2)) when isolated, else 1: on 2 cores that is 1, which measured faster than
  // 2 (benchmarks/results/web_latency_*). ?threads=N overrides it (benchmarks, experiments).
  const asked = Number.parseInt(new URLSearchParams(location.search).get('threads'), 10);
  if (asked > 0) ort.env.wasm.numThreads = asked;
  ort.env.wasm.proxy = false;
  return ort;
}

function mb(bytes) {
  return (bytes / 1e6).toFixed(1);
}

class App {
  constructor(model) {
    this.model = model;
    this.display = model.display;
    this.titles = new TitleIndex(model.display);
    this.franchises = new Franchises(model.display);
    this.store = new RatingStore(model.low, model.high);
    this.statuses = new StatusStore(); // imported list entries without a rating: "seen" / "planned"
    this.newYear = recentYear(model.display, today()); // the "new" row's year in the starting list
    this.logN = logRatings(model.display); // what "discover" discounts; null: an export without rating counts
    this.scoring = null; // the running recommendation, so that runs never overlap
    this.dirty = false;
    this.cache = { key: null, scores: null, order: null, ms: null };
  }

  start() {
    const search = $('search');
    search.disabled = false;
    search.addEventListener('input', () => this.renderSearch());
    $('filters').addEventListener('input', () => this.recommend());
    $('filters').addEventListener('submit', (e) => e.preventDefault());
    $('similar-close').addEventListener('click', () => show($('similar'), false));
    $('export-ratings').addEventListener('click', () => downloadRatings(this.store, this.model));
    $('import-ratings').addEventListener('change', (e) => this.importRatings(e.target));
    $('clear-ratings').addEventListener('click', () => {
      if ((this.store.items.length || this.statuses.items.length) && confirm('Remove all your ratings (and imported list entries) from this browser?')) {
        this.changed(() => { this.store.clear(); this.statuses.clear(); });
      }
    });
    renderFilters(this.display);
    show($('discover-box'), this.logN !== null && this.model.orderOutput !== null);   // a GNN export: a ranking score
    this.renderInfo();
    this.renderRated();
    this.recommend();
    search.focus();
  }

  entry(index) {
    return this.display[index] || { title: `anime ${index}` };
  }

  /** The person's ratings this model knows, as [[animeIndex, rating]] in rating order. */
  history() {
    return this.store.items.map((x) => [this.model.indexOf(x.id), x.rating]).filter(([a]) => a !== null);
  }

  /** Anime indices of imported list entries with this status ("seen" / "planned") this model knows. */
  listed(status) {
    return this.statuses.ids(status).map((id) => this.model.indexOf(id)).filter((a) => a !== null);
  }

  changed(update) {
    update();
    this.renderRated();
    this.renderSearch();
    this.recommend();
  }

  rate(index, value) {
    const id = this.display[index].id;
    this.changed(() => (value === '' ? this.store.remove(id) : this.store.set(id, Number(value))));
  }

  rateControl(index) {
    const select = ratingSelect(this.model.low, this.model.high, this.store.get(this.display[index].id),
      `Your rating of ${this.entry(index).title}`);
    select.addEventListener('change', () => this.rate(index, select.value));
    return select;
  }

  similarButton(index) {
    const button = el('button', { type: 'button', class: 'ghost small', text: 'More like this' });
    button.addEventListener('click', () => this.showSimilar(index));
    return button;
  }

  // -- search and ratings ------------------------------------------------------------------------

  renderSearch() {
    const hits = this.titles.search($('search').value);
    $('search-results').replaceChildren(...hits.map((index) => {
      const e = this.entry(index);
      const rated = this.store.get(e.id) !== null;
      return el('li', { class: rated ? 'hit is-rated' : 'hit', 'data-anime-id': e.id, 'data-index': index },
        cover(e, 'tiny'),
        el('div', { class: 'hit-text' },
          el('span', { class: 'hit-title', text: e.title }),
          el('span', { class: 'muted small', text: [subtitle(e), facts(e)].filter(Boolean).join(' — ') })),
        this.rateControl(index));
    }));
  }

  renderRated() {
    const items = [...this.store.items].reverse(); // most recent first
    const known = items.filter((x) => this.model.indexOf(x.id) !== null);
    const unknown = items.length - known.length;
    $('rated-count').textContent = items.length ? `(${items.length})` : '';
    const note = $('rated-note');
    const notes = [];
    if (unknown) notes.push(`${unknown} rated anime ${unknown === 1 ? 'is' : 'are'} not in this model's catalog and ${unknown === 1 ? 'is' : 'are'} ignored.`);
    const { skipped, unreadable } = this.store.loadReport;
    if (skipped) notes.push(`${skipped} stored entr${skipped === 1 ? 'y' : 'ies'} could not be used (not a catalog id and a rating on the scale) and ${skipped === 1 ? 'was' : 'were'} skipped.`);
    if (unreadable) notes.push('The ratings stored in this browser could not be read and were ignored.');
    if (this.statuses.loadReport.skipped || this.statuses.loadReport.unreadable) notes.push('Some imported list entries stored in this browser could not be used and were skipped.');
    if (known.length > this.model.maxHistory) notes.push(`The model reads your ${this.model.maxHistory} most recent ratings; all of them are excluded from recommendations.`);
    note.textContent = notes.join(' ');
    show(note, notes.length > 0);
    const [seen, planned] = [this.listed('seen').length, this.listed('planned').length];
    $('list-note').textContent = seen || planned
      ? `Also on your imported list: ${seen} without a score (left out of recommendations), ${planned} plan-to-watch (marked).` : '';
    show($('list-note'), seen + planned > 0);
    show($('rated-empty'), items.length === 0 && seen + planned === 0);
    $('rated').replaceChildren(...known.map((x) => {
      const index = this.model.indexOf(x.id);
      const e = this.entry(index);
      const remove = el('button', { type: 'button', class: 'ghost small', text: 'Remove', 'aria-label': `Remove your rating of ${e.title}` });
      remove.addEventListener('click', () => this.rate(index, ''));
      return el('li', { class: 'rated-item', 'data-anime-id': e.id, 'data-index': index },
        cover(e, 'tiny'),
        el('div', { class: 'hit-text' },
          el('span', { class: 'hit-title', text: e.title }),
          el('span', { class: 'muted small', text: facts(e) }),
          el('span', { class: 'actions' }, this.similarButton(index), remove)),
        this.rateControl(index));
    }));
  }

  async importRatings(input) {
    const file = input.files?.[0];
    input.value = '';
    if (!file) return;
    const note = $('rated-note');
    const started = performance.now();
    let result;
    try {
      const bytes = new Uint8Array(await file.arrayBuffer());
      result = await importList(bytes, { model: this.model, ratings: this.store, statuses: this.statuses });
    } catch (err) {
      note.textContent = `Could not import ${file.name}: ${err.message}. Nothing was changed.`;
      note.dataset.importMs = '';
      show(note, true);
      return;
    }
    this.changed(() => {});
    note.textContent = `${file.name}, read in this page (nothing was sent anywhere):\n${result.lines.join('\n')}`;
    Object.assign(note.dataset, { importMs: String(performance.now() - started), imported: JSON.stringify(result.imported.counts) });
    show(note, true);
  }

  // -- recommendations -----------------------------------------------------------------------------

  recommend() {
    if (this.scoring) {
      this.dirty = true;
      return this.scoring;
    }
    this.scoring = this.runRecommend()
      .catch((err) => showError(`scoring failed: ${err.message || err}`))
      .finally(() => {
        this.scoring = null;
        if (this.dirty) {
          this.dirty = false;
          this.recommend();
        }
      });
    return this.scoring;
  }

  /**
   * One run for the person's history; with no ratings yet (an empty history) the same run gives the
   * starting list: one card per franchise at its entry point, plus a row of new series when the
   * catalog has anime from this year or last.
   */
  async runRecommend() {
    const list = $('recs');
    const pairs = this.history();
    const starting = pairs.length === 0;
    list.dataset.state = 'scoring';
    // On the list: rated (the rating) and imported without a score (null); planned anime are marked.
    const rated = new Map([...this.listed('seen').map((a) => [a, null]), ...pairs]);
    const planned = new Set(this.listed('planned'));
    const filters = readFilters();
    // Only what may be listed is scored (the model rates its best candidates among them).
    const [, candidates] = allowedAnime({ model: this.model, rated, filters });
    const key = JSON.stringify([pairs.slice(-this.model.maxHistory), candidates.length, candidates.slice(0, 50), filters.yearMin,
      filters.yearMax, filters.formats ? [...filters.formats] : null, filters.statuses ? [...filters.statuses] : null, filters.adult,
      [...rated.keys()]]);
    if (this.cache.key !== key) {
      this.cache = { key, ...await this.model.score(pairs, candidates) };
    }
    const { scores, ms } = this.cache;
    const lean = Number($('discover').value);   // "discover": less weight on what everybody watches (js/recs.js)
    const order = discounted(this.cache.order, this.logN, lean);
    const common = { model: this.model, franchises: this.franchises, orderScore: order, rated, filters };
    const top = buildList({ ...common, k: Number($('top-n').value) });
    // An entry point or next entry may lie outside the candidates the model rated: rate it now.
    await this.model.rateMissing(pairs, scores, top.flatMap((c) => [c.anime, ...c.others]));
    const render = (c) => this.card(c.anime, { score: scores[c.anime], reason: c.reason, group: c, scores, planned });
    list.replaceChildren(...top.map(render));
    if (!top.length) list.append(el('li', { class: 'muted', text: 'No anime match these filters.' }));
    // Continue your series: the next entries of franchises on the person's list, not already a card above.
    const next = rated.size === 0 ? [] : await buildContinue({ ...common, rating: scores, pairs, k: 12,
      skip: new Set(top.map((c) => c.anime)) });
    $('continue-list').replaceChildren(...next.map(render));
    show($('continue-row'), next.length > 0);
    $('recs-h').textContent = starting ? 'A place to start' : 'Recommended for you';
    show($('start-note'), starting);
    const isNew = (a) => this.display[a].year === this.newYear && !this.franchises.later[a];
    let fresh = [];
    if (starting && this.newYear !== null) {
      // Its own run: the new series are scored among themselves, not cut by the whole catalog's best.
      const [, newOnes] = allowedAnime({ model: this.model, rated, filters, keep: isNew });
      const run = newOnes.length ? await this.model.score(pairs, newOnes) : null;
      if (run) {
        fresh = buildList({ ...common, orderScore: discounted(run.order, this.logN, lean), k: 12, keep: isNew });
        await this.model.rateMissing(pairs, run.scores, fresh.flatMap((c) => [c.anime, ...c.others]));
        for (const c of fresh) for (const a of [c.anime, ...c.others]) scores[a] = run.scores[a];
      }
    }
    $('new-h').textContent = `New series from ${this.newYear}`;
    $('new-list').replaceChildren(...fresh.map(render));
    show($('new-row'), fresh.length > 0);
    const threads = this.model.ort.env.wasm.numThreads;
    $('timing').textContent = `Scored ${(this.model.nAnime - 1).toLocaleString()} anime in ${ms.toFixed(1)} ms `
      + `(wasm, ${threads} thread${threads === 1 ? '' : 's'})`;
    $('timing').dataset.ms = String(ms);
    Object.assign(list.dataset, { state: 'done', historySize: String(pairs.length), mode: starting ? 'start' : 'personal' });
  }

  /** A card (js/cards.js) with this page's rating control and "more like this" button. */
  card(index, opts) {
    return card(this.entry(index), index, { ...opts, low: this.model.low, high: this.model.high,
      entryOf: (a) => this.entry(a), actions: [this.rateControl(index), this.similarButton(index)] });
  }

  showSimilar(index) {
    const section = $('similar');
    $('similar-h').textContent = `More like ${this.entry(index).title}`;
    section.dataset.index = String(index);
    const near = this.model.similar(index, SIMILAR_K);
    $('similar-list').replaceChildren(...near.map((n) => this.card(n.index, { similarity: n.similarity })));
    show(section, true);
    section.scrollIntoView({ behavior: 'smooth', block: 'start' });
  }

  renderInfo() {
    const m = this.model.meta;
    const rmse = m.training?.test_metrics?.rmse;
    const parts = [
      `Model ${m.model_name ?? ''} ${m.model_version ?? ''}`.trim(),
      `${(this.model.nAnime - 1).toLocaleString()} anime`,
      `history: your ${this.model.maxHistory} most recent ratings`,
      rmse ? `test RMSE ${Number(rmse).toFixed(3)}` : null,
    ];
    $('model-info').textContent = parts.filter(Boolean).join(' · ');
    show($('synthetic-note'), this.model.synthetic);
  }
}

async function main() {
  setState('loading');
  const bar = $('load-progress');
  const text = $('load-text');
  try {
    const ort = await loadOrt();
    const model = await loadModel(ort, (loaded, total) => {
      bar.max = total || 1;
      bar.value = loaded;
      text.textContent = `Loading the model… ${mb(loaded)} of ${mb(total)} MB`;
    });
    const app = new App(model);
    app.start();
    show(bar, false);
    text.textContent = `Ready · ${(model.nAnime - 1).toLocaleString()} anime`;
    // For benchmarks and debugging: score a history of [animeId, rating] pairs, timed.
    window.animeGnn = {
      model,
      loadMs: performance.now(), // navigation start -> ready
      threads: ort.env.wasm.numThreads,
      scoreHistory: (pairs) => model.score(pairs.map(([id, r]) => [model.indexOf(id), r]).filter(([a]) => a !== null)),
    };
    setState('ready');
  } catch (err) {
    showError(err instanceof LoadError ? err.message : `unexpected error: ${err.message || err}`);
    console.error(err);
  }
}

main();
