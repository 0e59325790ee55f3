/**
 * The one progress bar of the site, for anything counted in bytes (a model download, the CIFAR-10 download):
 * a <progress> that is indeterminate while the total is unknown, and a line of detail beside it.
 */
export class ProgressBar {
  readonly element: HTMLDivElement;
  private readonly bar: HTMLProgressElement;
  private readonly detail: HTMLSpanElement;

  constructor(label = "") {
    this.element = document.createElement("div");
    this.element.className = "progress-bar";
    this.bar = Object.assign(document.createElement("progress"), { max: 1 });
    this.detail = Object.assign(document.createElement("span"), { className: "muted progress-detail" });
    this.element.append(...(label ? [label, " "] : []), this.bar, " ", this.detail);
  }

  update(received: number, total: number | null | undefined, detail: string): this {
    if (total) this.bar.value = Math.min(1, received / total);
    else this.bar.removeAttribute("value"); // indeterminate while the size is unknown
    this.detail.textContent = detail;
    return this;
  }
}
