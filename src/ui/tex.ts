/**
 * Typeset TeX with KaTeX from node_modules as MathML, which browsers render natively. (Framework's built-in
 * `tex` loads KaTeX from a CDN, and KaTeX's HTML output needs font files that Framework's CSS bundler
 * cannot load; MathML needs neither.)
 */
import katex from "katex";

export function tex(source: string, { display = false }: { display?: boolean } = {}): HTMLElement {
  const element = document.createElement(display ? "div" : "span");
  element.innerHTML = katex.renderToString(source, { output: "mathml", displayMode: display, throwOnError: true });
  return element;
}

/** Display-mode shorthand for a formula on its own line. */
export function texBlock(source: string): HTMLElement {
  return tex(source, { display: true });
}
