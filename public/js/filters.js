// The recommendation filters: format chips and a year range, built from the catalog (read as
// gnn.filters.Filters; js/recs.js applies them).

import { el } from './ui.js';

const $ = (id) => document.getElementById(id);

export function renderFilters(display) {
  const formats = [...new Set(display.filter(Boolean).map((e) => e.format).filter(Boolean))].sort();
  $('formats').append(...formats.map((f) => el('label', { class: 'chip' },
    el('input', { type: 'checkbox', value: f, name: 'format' }), ` ${f.replace(/_/g, ' ')}`)));
  const years = display.filter((e) => e && Number.isInteger(e.year)).map((e) => e.year);
  if (years.length) {
    const lo = Math.min(...years);
    const hi = Math.max(...years);
    for (const id of ['year-min', 'year-max']) Object.assign($(id), { min: lo, max: hi });
    $('year-min').placeholder = String(lo);
    $('year-max').placeholder = String(hi);
  }
}

/** {formats: Set | null, statuses: Set | null, yearMin, yearMax, adult} from the form (null = any). */
export function readFilters() {
  const checked = [...document.querySelectorAll('#formats input:checked')].map((i) => i.value.toUpperCase());
  const year = (id) => { const v = Number.parseInt($(id).value, 10); return Number.isFinite(v) ? v : null; };
  const status = $('status').value;
  return { formats: checked.length ? new Set(checked) : null, statuses: status ? new Set([status]) : null,
    yearMin: year('year-min'), yearMax: year('year-max'), adult: $('adult').checked };
}
