/**
 * The iframe document of a message. The message's HTML goes only here: into
 * the srcdoc of an iframe with sandbox="" (no scripts, forms, popups or
 * same-origin access), under a CSP that allows no remote fetch except images
 * once the reader asked for them.
 */

/** REMOTE_REF matches a remote URL in an attribute or CSS url() of HTML. */
const REMOTE_REF = /(?:\b(?:src|srcset|background|poster)\s*=\s*["']?\s*|url\(\s*["']?\s*)(?:https?:)?\/\//i;

/** hasRemoteImages reports whether html refers to remote images (or other remote resources). */
export function hasRemoteImages(html: string): boolean {
  return REMOTE_REF.test(html);
}

/** escapeHtml escapes text for an HTML text context. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** cspFor returns the message document's policy: remote images only when allowed. */
export function cspFor(remoteImages: boolean): string {
  const img = remoteImages ? "data: cid: http: https:" : "data: cid:";
  return `default-src 'none'; img-src ${img}; style-src 'unsafe-inline'; font-src data:; base-uri 'none'; form-action 'none'`;
}

const BASE_STYLE =
  "html{color-scheme:light}body{margin:0;padding:20px 24px;font:15px/1.55 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;" +
  "color:#1f2430;overflow-wrap:anywhere}img{max-width:100%;height:auto}pre.plain{white-space:pre-wrap;font:inherit;margin:0}" +
  "a{color:#2f5bd3}blockquote{margin:0 0 0 .8em;padding-left:.8em;border-left:3px solid #d5d9e4;color:#555d70}";

/** TEXT_DARK lets a plain-text message follow a dark scheme (HTML mail keeps its own colours on white). */
const TEXT_DARK = "@media (prefers-color-scheme:dark){html{color-scheme:dark}body{background:#161b24;color:#e6e9ef}a{color:#7c9cff}}";

/** htmlDoc wraps a message's HTML part in the sandbox document. */
export function htmlDoc(html: string, remoteImages: boolean): string {
  return `<!doctype html><html><head><meta charset="utf-8"><meta http-equiv="Content-Security-Policy" content="${cspFor(remoteImages)}">` +
    `<meta name="referrer" content="no-referrer"><style>${BASE_STYLE}</style></head><body>${html}</body></html>`;
}

/** textDoc renders a plain-text part, escaped, in the sandbox document. */
export function textDoc(text: string): string {
  return `<!doctype html><html><head><meta charset="utf-8"><meta http-equiv="Content-Security-Policy" content="${cspFor(false)}">` +
    `<style>${BASE_STYLE}${TEXT_DARK}</style></head><body><pre class="plain">${escapeHtml(text)}</pre></body></html>`;
}
