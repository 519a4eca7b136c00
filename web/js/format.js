export function bytes(n) {
  if (!Number.isFinite(n)) return '—';
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(2)} MB`;
}

export function saving(original, output) {
  if (!original || !output) return null;
  const pct = Math.round((1 - output / original) * 100);
  return pct >= 0 ? { text: `${pct}% smaller`, better: true } : { text: `${-pct}% larger`, better: false };
}

export function when(iso) {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? '' : date.toLocaleString();
}

export const FORMAT_NAMES = { jpg: 'JPEG', png: 'PNG', webp: 'WebP', avif: 'AVIF', zip: 'ZIP', json: 'JSON' };

/** Builds an element: h('p', { class: 'x' }, 'text', child) — text is never parsed as HTML. */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith('on')) el.addEventListener(key.slice(2), value);
    else if (value === true) el.setAttribute(key, '');
    else el.setAttribute(key, String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}
