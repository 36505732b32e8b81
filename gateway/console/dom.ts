// A tiny DOM builder: elements from a tag, attributes and children. Strings become text nodes,
// so nothing from the server is ever parsed as HTML.
type Child = Node | string | number | null | undefined | false;

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string | boolean | ((e: Event) => void)> = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (typeof v === 'function') el.addEventListener(k.replace(/^on/, ''), v);
    else if (v === true) el.setAttribute(k, '');
    else if (v !== false) el.setAttribute(k, v);
  }
  append(el, children);
  return el;
}

export function append(el: Node, children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    el.appendChild(typeof c === 'string' || typeof c === 'number' ? document.createTextNode(String(c)) : c);
  }
}

/** Replaces el's children. */
export function fill(el: Node, ...children: Child[]): void {
  while (el.firstChild !== null) el.removeChild(el.firstChild);
  append(el, children);
}

/** A table with a header row; rows(tbody) fills it. */
export function table(testId: string, headers: string[]): { el: HTMLTableElement; body: HTMLTableSectionElement } {
  const body = h('tbody');
  const el = h('table', { 'data-testid': testId }, h('thead', {}, h('tr', {}, ...headers.map((x) => h('th', {}, x)))), body);
  return { el, body };
}
