// A small, safe Markdown subset for knowledge-base articles and call scripts, built as DOM
// nodes (text always as text nodes, never innerHTML): paragraphs (a blank line between),
// "# ", "## " and "### " headings, "- " or "* " and "1. " lists, **bold** and `code`.
// Anything else (links, HTML, images) shows as the characters written.
import {h} from './dom.js';

const INLINE = /\*\*([^*]+)\*\*|`([^`]+)`/g;

export function inline(text) {
  const out = [];
  let at = 0;
  for (const m of text.matchAll(INLINE)) {
    if (m.index > at) out.push(text.slice(at, m.index));
    out.push(m[1] !== undefined ? h('strong', {}, m[1]) : h('code', {}, m[2]));
    at = m.index + m[0].length;
  }
  if (at < text.length) out.push(text.slice(at));
  return out;
}

const HEADING = /^(#{1,3})\s+(.*)$/;
const BULLET = /^[-*]\s+(.*)$/;
const NUMBERED = /^\d{1,3}[.)]\s+(.*)$/;

// The article's body as a list of block elements. Headings start at h3 (the article's
// title is the card's heading below the page's h1 and h2).
export function render(body) {
  const blocks = [];
  let para = [];
  let list = null; // {tag, items}
  const endPara = () => {
    if (para.length) blocks.push(h('p', {}, para.flatMap((line, i) => (i ? [h('br'), ...inline(line)] : inline(line)))));
    para = [];
  };
  const endList = () => {
    if (list) blocks.push(h(list.tag, {}, list.items.map((item) => h('li', {}, inline(item)))));
    list = null;
  };
  for (const raw of String(body || '').split(/\r?\n/)) {
    const line = raw.trimEnd();
    let m;
    if (!line.trim()) {
      endPara();
      endList();
    } else if ((m = HEADING.exec(line))) {
      endPara();
      endList();
      blocks.push(h(`h${Math.min(m[1].length + 2, 5)}`, {}, inline(m[2])));
    } else if ((m = BULLET.exec(line)) || (m = NUMBERED.exec(line))) {
      endPara();
      const tag = BULLET.test(line) ? 'ul' : 'ol';
      if (list && list.tag !== tag) endList();
      if (!list) list = {tag, items: []};
      list.items.push(m[1]);
    } else {
      endList();
      para.push(line);
    }
  }
  endPara();
  endList();
  return blocks;
}
