/**
 * The numbers a figure plots, as a JSON node next to it (`<script type="application/json" data-figure="…">`):
 * invisible to readers, readable by browser tests that compare what the page computed with what the library
 * computes in Node.
 */
export function figureData(name: string, rows: unknown): HTMLScriptElement {
  // createElement, not an html`` literal: a page's code is inlined in a script element, which a literal closing
  // script tag would end.
  const node = document.createElement("script");
  node.type = "application/json";
  node.dataset.figure = name;
  node.textContent = JSON.stringify(rows, finiteOrString);
  return node;
}

/** Non-finite numbers survive JSON as strings ("Infinity", "NaN"), so published rows keep overflow and NaN. */
function finiteOrString(_key: string, value: unknown): unknown {
  return typeof value === "number" && !Number.isFinite(value) ? String(value) : value;
}
