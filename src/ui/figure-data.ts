/**
 * The numbers a figure plots, as a JSON node next to it (`<script type="application/json" data-figure="…">`):
 * invisible to readers, readable by browser tests that compare what the page computed with what the library
 * computes in Node.
 */
export function figureData(name: string, rows: unknown): HTMLScriptElement {
  const node = document.createElement("script");
  node.type = "application/json";
  node.dataset.figure = name;
  node.textContent = JSON.stringify(rows);
  return node;
}
