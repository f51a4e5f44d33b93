/**
 * DOM helpers. Server data only ever reaches the page through textContent
 * and attributes; icons are fixed SVG paths built with createElementNS.
 */

/** el creates an element with an optional class, text and data-testid. */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K, cls?: string, text?: string, testid?: string,
): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (cls !== undefined && cls !== "") e.className = cls;
  if (text !== undefined) e.textContent = text;
  if (testid !== undefined) e.dataset["testid"] = testid;
  return e;
}

/** byId returns the element with id, or throws when the page lacks it. */
export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const e = document.getElementById(id);
  if (e === null) throw new Error(`demo: missing #${id}`);
  return e as T;
}

const SVG_NS = "http://www.w3.org/2000/svg";

/** ICONS are 24×24 outline icon paths (stroke, no fill) keyed by name. */
export const ICONS = {
  inbox: "M3 13h5l2 3h4l2-3h5M5 5h14l2 8v6H3v-6z",
  send: "M4 12l16-8-6 16-3-7z M11 13l9-9",
  draft: "M4 20h4L19 9l-4-4L4 16z M14 6l4 4",
  archive: "M3 4h18v4H3z M5 8v12h14V8 M10 12h4",
  junk: "M12 3l9 16H3z M12 9v5 M12 17v.5",
  trash: "M4 7h16 M9 7V4h6v3 M6 7l1 13h10l1-13 M10 11v6 M14 11v6",
  folder: "M3 6h6l2 2h10v11H3z",
  star: "M12 3l2.7 5.6 6.1.9-4.4 4.3 1 6.1L12 17l-5.4 2.9 1-6.1-4.4-4.3 6.1-.9z",
  mail: "M3 6h18v12H3z M3 7l9 6 9-6",
  mailOpen: "M3 10l9-6 9 6v9H3z M3 10l9 6 9-6",
  move: "M3 6h6l2 2h10v11H3z M10 13h6 M14 11l2 2-2 2",
  image: "M4 5h16v14H4z M4 16l5-5 4 4 3-3 4 4 M15 9.5v.5",
  paperclip: "M8 12l6-6a3 3 0 014 4l-8 8a5 5 0 01-7-7l7-7",
} as const;

/** IconName names an icon of {@link ICONS}. */
export type IconName = keyof typeof ICONS;

/** icon returns an inline SVG icon (decorative: aria-hidden). */
export function icon(name: IconName, cls = "icon"): SVGSVGElement {
  const svg = document.createElementNS(SVG_NS, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("class", cls);
  svg.setAttribute("aria-hidden", "true");
  const path = document.createElementNS(SVG_NS, "path");
  path.setAttribute("d", ICONS[name]);
  svg.append(path);
  return svg;
}
