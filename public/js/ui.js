// DOM helpers. Catalog strings (titles, studios, genres, reasons) only ever reach the page as
// text nodes or attribute values set through the DOM: never through innerHTML.

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') node.className = value;
    else if (key === 'text') node.textContent = value;
    else if (key.startsWith('data-') || key.startsWith('aria-')) node.setAttribute(key, String(value));
    else node[key] = value;
  }
  for (const child of children.flat()) {
    if (child !== null && child !== undefined && child !== false) node.append(child);
  }
  return node;
}

/** Only absolute https: cover URLs are used; anything else gets the placeholder. */
function coverUrl(cover) {
  try {
    const url = new URL(String(cover));
    return url.protocol === 'https:' ? url.href : null;
  } catch {
    return null;
  }
}

/** "Festival of the Starlit Sky" -> "FS": first letters of the first two capitalized words. */
function initials(title) {
  const words = String(title || '?').trim().split(/\s+/);
  const major = words.filter((w) => /^\p{Lu}|^[^\p{L}]|^\p{Lo}/u.test(w));
  return (major.length ? major : words).slice(0, 2).map((w) => [...w][0] || '').join('').toUpperCase();
}

/**
 * A coloured placeholder with the title's initials, with the cover image laid over it once it has
 * loaded: a missing, failing or slow cover (an unreachable host can take a long time to fail)
 * leaves the placeholder, never an empty box.
 */
export function cover(entry, size = 'large') {
  const box = el('div', { class: `cover placeholder ${size}`, 'aria-hidden': 'true' },
    el('span', { text: initials(entry?.title) }));
  // Set through the CSSOM, which the CSP allows (style attributes in markup it would not).
  box.style.setProperty('--hue', String((Number(entry?.id) * 47) % 360 || 210));
  const url = coverUrl(entry?.cover);
  if (url) {
    const img = el('img', { src: url, alt: '', loading: 'lazy', decoding: 'async', referrerPolicy: 'no-referrer' });
    img.addEventListener('load', () => box.classList.add('has-image'), { once: true });
    img.addEventListener('error', () => img.remove(), { once: true });
    box.append(img);
  }
  return box;
}

export function subtitle(entry) {
  const alt = [entry.title_romaji, entry.title_native].filter((t) => t && t !== entry.title);
  return [...new Set(alt)].join(' · ');
}

export function facts(entry) {
  return [entry.year, entry.format ? entry.format.replace(/_/g, ' ') : null, (entry.genres || []).slice(0, 3).join(', ')]
    .filter(Boolean).join(' · ');
}

export function ratingSelect(low, high, current, label) {
  const select = el('select', { class: 'rate', 'aria-label': label });
  select.append(el('option', { value: '', text: current === null ? 'Rate' : 'Rated', disabled: current !== null }));
  for (let r = high; r >= low; r -= 1) select.append(el('option', { value: String(r), text: String(r) }));
  select.value = current === null ? '' : String(current);
  if (current !== null && select.value !== String(current)) {
    // A non-integer imported rating: show it as its own option.
    select.prepend(el('option', { value: String(current), text: String(current) }));
    select.value = String(current);
  }
  return select;
}

export function show(node, visible) {
  node.hidden = !visible;
}
