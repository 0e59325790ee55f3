/**
 * Typeset TeX with KaTeX from node_modules as MathML, which browsers render natively. (Framework's built-in
 * `tex` loads KaTeX from a CDN, and KaTeX's HTML output needs font files that Framework's CSS bundler
 * cannot load; MathML needs neither.)
 */
import katex from "katex";

export function tex(source: string, { display = false }: { display?: boolean } = {}): HTMLElement {
  const element = document.createElement(display ? "div" : "span");
  // Display formulas get a box of their own (see .tex-block in style.css): a formula wider than a phone
  // scrolls inside it instead of widening the page, since MathML has no line breaking in Chromium.
  if (display) element.className = "tex-block";
  element.innerHTML = katex.renderToString(source, { output: "mathml", displayMode: display, throwOnError: true });
  return element;
}

/**
 * Display-mode shorthand for a formula on its own line. With `label` (say "Eq. 5", the paper's number) the
 * label is set beside the formula as text, outside the math, so it can drop below the formula on a narrow
 * screen instead of pushing the line wider; tests find it as `.equation-label`.
 */
export function texBlock(source: string, { label }: { label?: string } = {}): HTMLElement {
  const block = tex(source, { display: true });
  if (label === undefined) return block;
  const equation = document.createElement("div");
  equation.className = "equation";
  const number = document.createElement("span");
  number.className = "equation-label";
  number.textContent = `(${label})`;
  equation.append(block, number);
  return equation;
}
