// anime-gnn web page: wires the model (js/model.js), search, ratings and recommendations together.
// Recommendations mirror gnn/inference.py: one run scores every anime for the person's history
// (user 0 = new user), rated anime are left out, filters apply, the order score ranks (ties by
// index), and js/franchise.js groups the list into one card per franchise (js/recs.js).

import { Franchises } from './js/franchise.js';
import { loadModel, LoadError } from './js/model.js';
import { RatingStore } from './js/ratings.js';
import { buildList } from './js/recs.js';
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
    $('export-ratings').addEventListener('click', () => this.exportRatings());
    $('import-ratings').addEventListener('change', (e) => this.importRatings(e.target));
    $('clear-ratings').addEventListener('click', () => {
      if (this.store.items.length && confirm('Remove all your ratings from this browser?')) this.changed(() => this.store.clear());
    });
    this.renderFilters();
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
    show($('rated-empty'), items.length === 0);
    const note = $('rated-note');
    const notes = [];
    if (unknown) notes.push(`${unknown} rated anime ${unknown === 1 ? 'is' : 'are'} not in this model's catalog and ${unknown === 1 ? 'is' : 'are'} ignored.`);
    const { skipped, unreadable } = this.store.loadReport;
    if (skipped) notes.push(`${skipped} stored entr${skipped === 1 ? 'y' : 'ies'} could not be used (not a catalog id and a rating on the scale) and ${skipped === 1 ? 'was' : 'were'} skipped.`);
    if (unreadable) notes.push('The ratings stored in this browser could not be read and were ignored.');
    if (known.length > this.model.maxHistory) notes.push(`The model reads your ${this.model.maxHistory} most recent ratings; all of them are excluded from recommendations.`);
    note.textContent = notes.join(' ');
    show(note, notes.length > 0);
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

  exportRatings() {
    const json = this.store.toJson((id) => this.display[this.model.indexOf(id)]?.title ?? null, this.model.meta.model_version);
    const url = URL.createObjectURL(new Blob([json], { type: 'application/json' }));
    const a = el('a', { href: url, download: `anime-ratings-${new Date().toISOString().slice(0, 10)}.json` });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  }

  async importRatings(input) {
    const file = input.files?.[0];
    input.value = '';
    if (!file) return;
    const note = $('rated-note');
    let parsed;
    try {
      parsed = this.store.parseImport(await file.text()); // checked whole; nothing stored yet
    } catch (err) {
      note.textContent = `Could not import ${file.name}: ${err.message}. Nothing was changed.`;
      show(note, true);
      return;
    }
    const { items, skipped } = parsed;
    this.changed(() => this.store.merge(items));
    note.textContent = `Imported ${items.length} rating${items.length === 1 ? '' : 's'}${skipped ? ` (${skipped} invalid entries skipped)` : ''}.`;
    show(note, true);
  }

  // -- recommendations -----------------------------------------------------------------------------

  renderFilters() {
    const formats = [...new Set(this.display.filter(Boolean).map((e) => e.format).filter(Boolean))].sort();
    $('formats').append(...formats.map((f) => el('label', { class: 'chip' },
      el('input', { type: 'checkbox', value: f, name: 'format' }), ` ${f.replace(/_/g, ' ')}`)));
    const years = this.display.filter((e) => e && Number.isInteger(e.year)).map((e) => e.year);
    if (years.length) {
      const lo = Math.min(...years);
      const hi = Math.max(...years);
      for (const id of ['year-min', 'year-max']) Object.assign($(id), { min: lo, max: hi });
      $('year-min').placeholder = String(lo);
      $('year-max').placeholder = String(hi);
    }
  }

  filters() {
    const checked = [...document.querySelectorAll('#formats input:checked')].map((i) => i.value.toUpperCase());
    const year = (id) => { const v = Number.parseInt($(id).value, 10); return Number.isFinite(v) ? v : null; };
    return { formats: checked.length ? new Set(checked) : null, yearMin: year('year-min'), yearMax: year('year-max') };
  }

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

  async runRecommend() {
    const list = $('recs');
    const pairs = this.history();
    show($('recs-empty'), pairs.length === 0);
    if (pairs.length === 0) {
      list.replaceChildren();
      Object.assign(list.dataset, { state: 'idle', historySize: '0' });
      $('timing').textContent = '';
      return;
    }
    list.dataset.state = 'scoring';
    const key = JSON.stringify(pairs.slice(-this.model.maxHistory));
    if (this.cache.key !== key) {
      this.cache = { key, ...await this.model.score(pairs) };
    }
    const { scores, order, ms } = this.cache;
    const top = buildList({
      model: this.model, franchises: this.franchises, orderScore: order, rated: new Map(pairs),
      filters: this.filters(), k: Number($('top-n').value),
    });
    list.replaceChildren(...top.map((c) => this.card(c.anime, { score: scores[c.anime], reason: c.reason, group: c, scores })));
    if (!top.length) list.append(el('li', { class: 'muted', text: 'No anime match these filters.' }));
    const threads = this.model.ort.env.wasm.numThreads;
    $('timing').textContent = `Scored ${(this.model.nAnime - 1).toLocaleString()} anime in ${ms.toFixed(1)} ms `
      + `(wasm, ${threads} thread${threads === 1 ? '' : 's'})`;
    $('timing').dataset.ms = String(ms);
    Object.assign(list.dataset, { state: 'done', historySize: String(pairs.length) });
  }

  /** "N more in this series": the franchise's other listed anime, expandable under the card. */
  others(group, scores) {
    if (!group.others.length) return null;
    const n = group.others.length;
    return el('details', { class: 'others' },
      el('summary', { text: `${n} more in this series` }),
      el('ul', {}, ...group.others.map((a) => {
        const e = this.entry(a);
        return el('li', { 'data-index': a, 'data-anime-id': e.id, 'data-score': String(scores[a]) },
          el('span', { class: 'other-title', text: e.title }),
          el('span', { class: 'muted small', text: [facts(e), `★ ${scores[a].toFixed(1)}`].filter(Boolean).join(' · ') }));
      })));
  }

  card(index, { score, reason, similarity, group, scores }) {
    const e = this.entry(index);
    const badge = score !== undefined
      ? el('span', { class: 'score', title: `predicted rating on the ${this.model.low}–${this.model.high} scale`, text: score.toFixed(1) })
      : el('span', { class: 'score sim', title: 'cosine similarity of the model’s anime embeddings', text: similarity.toFixed(2) });
    return el('li', {
      class: 'card', 'data-index': index, 'data-anime-id': e.id, 'data-kind': group?.kind,
      'data-score': score !== undefined ? String(score) : undefined,
      'data-similarity': similarity !== undefined ? String(similarity) : undefined,
    },
    el('div', { class: 'cover-wrap' }, cover(e), badge),
    el('div', { class: 'card-body' },
      el('h3', { class: 'card-title', text: e.title, title: e.title }),
      subtitle(e) ? el('p', { class: 'muted small alt', text: subtitle(e) }) : null,
      el('p', { class: 'muted small', text: facts(e) }),
      reason ? el('p', { class: 'reason', text: reason }) : null,
      group ? this.others(group, scores) : null,
      el('div', { class: 'actions' }, this.rateControl(index), this.similarButton(index))));
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
