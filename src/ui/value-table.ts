/**
 * A table of numbers that never cuts a value: plain HTML whose headers and cells wrap, instead of
 * Inputs.table's fixed-width columns that end "grad-nor…" or "0.067 / 0.1…". For the short summary tables of
 * the training pages (a handful of rows); Inputs.table stays the choice for long, scrollable data.
 */
export type CellFormat = Record<string, (value: never) => string>;

export function valueTable(rows: readonly Record<string, unknown>[], format: CellFormat = {}): HTMLElement {
  const wrap = document.createElement("div");
  wrap.className = "value-table";
  // Inline styles keep this self-contained. Cells wrap between words; a table still wider than a phone scrolls
  // inside its own box, so no value is ever cut and the page never scrolls sideways.
  wrap.style.cssText = "max-width: 100%; overflow-x: auto; margin: 0.5rem 0;";
  const table = document.createElement("table");
  table.style.cssText = "width: 100%; max-width: 100%; border-collapse: collapse; font-size: 0.85rem; font-variant-numeric: tabular-nums;";
  const columns = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const head = table.createTHead().insertRow();
  for (const column of columns) {
    const th = document.createElement("th");
    th.textContent = column;
    th.scope = "col";
    th.style.cssText = "white-space: normal; overflow-wrap: normal; word-break: normal; vertical-align: bottom; text-align: left; padding: 2px 6px;";
    head.append(th);
  }
  const body = table.createTBody();
  for (const row of rows) {
    const tr = body.insertRow();
    for (const column of columns) {
      const value = row[column];
      const cell = tr.insertCell();
      const f = format[column] as ((v: unknown) => string) | undefined;
      // A format applies to numbers and to structured values (a mean ± spread); text is shown as it is.
      cell.textContent = value === undefined || value === null ? "–" : f && (typeof value === "number" || typeof value === "object") ? f(value) : String(value);
      cell.style.cssText = "white-space: normal; overflow-wrap: normal; word-break: normal; padding: 2px 6px;";
    }
  }
  wrap.append(table);
  return wrap;
}
