/**
 * Draw uint8 HWC images (e.g. samples or CIFAR-10 previews) as a grid on one canvas, scaled up with crisp
 * pixels, so a row of 32×32 samples reads at a glance.
 */
export interface GridOptions {
  /** images per row */
  columns: number;
  height?: number;
  width?: number;
  channels?: number;
  /** screen pixels per image pixel */
  scale?: number;
  /** gap between images, in screen pixels */
  gap?: number;
}

export function imageGrid(bytes: Uint8Array, count: number, { columns, height = 32, width = 32, channels = 3, scale = 2, gap = 2 }: GridOptions): HTMLCanvasElement {
  const rows = Math.ceil(count / columns);
  const cell = width * scale + gap;
  const canvas = document.createElement("canvas");
  canvas.width = columns * cell - gap;
  canvas.height = rows * (height * scale + gap) - gap;
  canvas.style.imageRendering = "pixelated";
  const context = canvas.getContext("2d")!;
  const image = context.createImageData(width, height);
  const tile = document.createElement("canvas");
  tile.width = width;
  tile.height = height;
  const tileContext = tile.getContext("2d")!;
  context.imageSmoothingEnabled = false;
  for (let n = 0; n < count; n++) {
    const base = n * height * width * channels;
    for (let p = 0; p < height * width; p++) {
      for (let c = 0; c < 3; c++) image.data[4 * p + c] = bytes[base + p * channels + (channels === 1 ? 0 : c)];
      image.data[4 * p + 3] = 255;
    }
    tileContext.putImageData(image, 0, 0);
    context.drawImage(tile, (n % columns) * cell, Math.floor(n / columns) * (height * scale + gap), width * scale, height * scale);
  }
  return canvas;
}
