/**
 * A strict check that bytes are a well-formed XML 1.0 document of the kind Overcast
 * writes (declaration, elements with double-quoted attributes, text, the five named
 * entities and character references): what an SDK's parser needs. Returns the first
 * problem found, or undefined.
 */
const FORBIDDEN = /[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const TAG = /<(\/?)([A-Za-z_][\w.:-]*)((?:\s+[\w:.-]+="[^"<]*")*)\s*(\/?)>/y;
const ENTITY = /&(?:amp|lt|gt|quot|apos|#[0-9]+|#x[0-9a-fA-F]+);/y;

export function xmlProblem(doc: Buffer | string): string | undefined {
  let text: string;
  try {
    text = typeof doc === 'string' ? doc : new TextDecoder('utf-8', { fatal: true }).decode(doc);
  } catch {
    return 'not valid UTF-8';
  }
  const bad = FORBIDDEN.exec(text);
  if (bad) return `character U+${bad[0].charCodeAt(0).toString(16).padStart(4, '0')} at ${bad.index}`;
  let i = 0;
  if (text.startsWith('<?xml')) {
    const end = text.indexOf('?>');
    if (end < 0) return 'unterminated declaration';
    i = end + 2;
  }
  const open: string[] = [];
  let root = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === '<') {
      TAG.lastIndex = i;
      const m = TAG.exec(text);
      if (!m) return `malformed tag at ${i}: ${JSON.stringify(text.slice(i, i + 40))}`;
      for (const attr of (m[3] ?? '').matchAll(/="([^"]*)"/g)) {
        if (/&(?!(?:amp|lt|gt|quot|apos|#[0-9]+|#x[0-9a-fA-F]+);)/.test(attr[1]!)) return `bare & in an attribute at ${i}`;
      }
      if (m[1]) {
        if (open.pop() !== m[2]) return `unbalanced </${m[2]}> at ${i}`;
      } else if (!m[4]) {
        if (open.length === 0) root++;
        open.push(m[2]!);
      } else if (open.length === 0) root++;
      i = TAG.lastIndex;
    } else if (c === '&') {
      ENTITY.lastIndex = i;
      if (!ENTITY.test(text)) return `bare & at ${i}`;
      i = ENTITY.lastIndex;
    } else {
      if (open.length === 0 && !/\s/.test(c)) return `text outside the root element at ${i}`;
      i++;
    }
  }
  if (open.length > 0) return `unclosed <${open[open.length - 1]}>`;
  if (root !== 1) return `${root} root elements`;
  return undefined;
}
