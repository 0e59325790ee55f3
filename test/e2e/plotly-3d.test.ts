/**
 * The TrigFlow page's two plotly 3-D views (run `npm run build` first): plotly is not fetched for the first
 * view nor on scrolling, loads when the reader presses a view's button, draws on WebGL, the other view then
 * draws by itself when scrolled near, turns under a mouse drag (the scene's camera
 * changes), and logs no console error or warning. Element screenshots go to test-artifacts/.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import type { Locator, Page } from "playwright-core";
import { longestTask, openPage } from "../../scripts/browser/page-check.ts";
import { ARTIFACTS, useBuiltSite } from "./site-fixture.ts";

const site = useBuiltSite();

/** plotly.js's bundle among the resources the page has requested. */
function plotlyRequests(page: Page): Promise<string[]> {
  return page.evaluate(() => performance.getEntriesByType("resource").map((r) => new URL(r.name).pathname).filter((path) => /plotly/.test(path)));
}

/**
 * Scroll a 3-D view into view, press its button unless plotly is in already (then it draws by itself), and wait
 * until plotly has drawn it on a WebGL canvas; the ms it took.
 */
async function scrollAndDraw(view: Locator, { press }: { press: boolean }): Promise<number> {
  const started = Date.now();
  await view.scrollIntoViewIfNeeded();
  if (press) await view.getByRole("button", { name: "Show the 3-D view" }).click();
  await view.locator(".gl-container canvas").first().waitFor({ timeout: 60_000 });
  await view.page().waitForTimeout(300);
  return Date.now() - started;
}

/** The scene camera's eye as plotly holds it now (the layout the reader's rotation writes to). */
function cameraEye(view: Locator): Promise<{ x: number; y: number; z: number }> {
  return view.evaluate((element) => {
    const { eye } = (element as unknown as { _fullLayout: { scene: { camera: { eye: { x: number; y: number; z: number } } } } })._fullLayout.scene.camera;
    return { x: eye.x, y: eye.y, z: eye.z };
  });
}

/** Drag across the middle of a view with the left mouse button, as a reader rotating it would. */
async function drag(page: Page, view: Locator, dx: number, dy: number) {
  const box = (await view.boundingBox())!;
  const [x, y] = [box.x + box.width / 2, box.y + box.height / 2];
  await page.mouse.move(x, y);
  await page.mouse.down();
  await page.mouse.move(x + dx, y + dy, { steps: 12 });
  await page.mouse.up();
  await page.waitForTimeout(300);
}

/** The plotly relayout events a view has fired, once `recordRelayouts` has been called on it. */
async function recordRelayouts(view: Locator): Promise<void> {
  await view.evaluate((element) => {
    const plot = element as unknown as { on: (event: string, handler: (e: object) => void) => void; relayouts?: object[] };
    plot.relayouts = [];
    plot.on("plotly_relayout", (event) => plot.relayouts!.push(event));
  });
}

test("TrigFlow 3-D views: plotly loads only on request, draws on WebGL and rotates under a drag", async () => {
  const check = await openPage(site.browser, `${site.url}/trigflow`, { quietMs: 1500 });
  const { page, errors } = check;
  const warnings: string[] = [];
  page.on("console", (message) => message.type() === "warning" && warnings.push(message.text()));
  try {
    const views = page.locator(".plot-3d");
    assert.equal(await views.count(), 2, "two 3-D views");
    assert.deepEqual(await plotlyRequests(page), [], "plotly is not fetched for the first view");
    assert.match(await views.first().innerText(), /Show the 3-D view/);
    await views.first().scrollIntoViewIfNeeded();
    await page.waitForTimeout(500);
    assert.deepEqual(await plotlyRequests(page), [], "nor when the view is scrolled to");

    const before = await page.evaluate(() => performance.now());
    const paths = views.nth(0);
    const loadMs = await scrollAndDraw(paths, { press: true });
    assert.ok((await plotlyRequests(page)).length > 0, "plotly was fetched once the reader asked");
    assert.ok(await paths.evaluate((element) => element.classList.contains("js-plotly-plot")), "plotly drew into the view");
    // 28 paths as lines plus four density slices, with t on the vertical axis from t_max down to 0.
    const traces = await paths.evaluate((element) =>
      (element as unknown as { data: { type: string; z: number[] | number[][] }[] }).data.map((trace) => ({ type: trace.type, first: trace.z[0], last: trace.z.at(-1) })));
    const lines = traces.filter((trace) => trace.type === "scatter3d");
    assert.equal(lines.length, 28);
    assert.equal(traces.filter((trace) => trace.type === "surface").length, 4);
    for (const line of lines) assert.ok((line.first as number) > 1.5 && line.last === 0, "each path runs from t ≈ π/2 down to t = 0");
    const tasks = await check.longTasks();
    const afterScroll = tasks.filter((task) => task.start >= before);
    console.log(`plotly load and first draw: ${loadMs} ms; longest main-thread task meanwhile ${longestTask(afterScroll).toFixed(0)} ms (${afterScroll.length} over 50 ms)`);
    await paths.screenshot({ path: `${ARTIFACTS}/trigflow-paths-3d.png` });

    await recordRelayouts(paths);
    const eye = await cameraEye(paths);
    await drag(page, paths, 140, 30);
    const turned = await cameraEye(paths);
    assert.ok(Math.hypot(turned.x - eye.x, turned.y - eye.y, turned.z - eye.z) > 0.05, `the camera turned: ${JSON.stringify(eye)} → ${JSON.stringify(turned)}`);
    const relayouts = await paths.evaluate((element) => (element as unknown as { relayouts: object[] }).relayouts);
    assert.ok(relayouts.some((event) => "scene.camera" in event), `plotly reported the new camera: ${JSON.stringify(relayouts)}`);

    const consistency = views.nth(1);
    await scrollAndDraw(consistency, { press: false });
    // f* and the denoiser as two surfaces over (u, t): at t = 0 both are the identity; at t_max f* is a
    // step across the two modes (a wide range of values), while the denoiser is nearly flat at the mean.
    const surfaces = await consistency.evaluate((element) =>
      (element as unknown as { data: { type: string; x: number[]; z: number[][] }[] }).data.filter((trace) => trace.type === "surface").map((trace) => ({ x: trace.x, z: trace.z })));
    assert.equal(surfaces.length, 2);
    const [fStar, denoiser] = surfaces;
    const spread = (row: number[]) => Math.max(...row) - Math.min(...row);
    fStar.z[0].forEach((v, c) => assert.ok(Math.abs(v - fStar.x[c]) < 1e-6, "f*(x, 0) = x"));
    assert.ok(spread(fStar.z.at(-1)!) > 1, `f* at t_max spans both modes (${spread(fStar.z.at(-1)!)})`);
    assert.ok(spread(denoiser.z.at(-1)!) < 0.1, `the denoiser at t_max is flat (${spread(denoiser.z.at(-1)!)})`);
    // Its two scenes (f* left, denoiser right) share one camera: turning the left one turns both.
    const eye2 = await cameraEye(consistency);
    const box = (await consistency.boundingBox())!;
    await page.mouse.move(box.x + box.width / 4, box.y + box.height / 2);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width / 4 - 120, box.y + box.height / 2 + 20, { steps: 12 });
    await page.mouse.up();
    await page.waitForTimeout(500);
    const turned2 = await cameraEye(consistency);
    assert.ok(Math.hypot(turned2.x - eye2.x, turned2.y - eye2.y, turned2.z - eye2.z) > 0.05, "the second view turns too");
    const eye2b = await consistency.evaluate((element) => (element as unknown as { _fullLayout: { scene2: { camera: { eye: object } } } })._fullLayout.scene2.camera.eye);
    assert.deepEqual(eye2b, turned2, "the denoiser's scene follows the turn");
    await consistency.screenshot({ path: `${ARTIFACTS}/trigflow-consistency-3d.png` });

    assert.deepEqual(await check.errorCells(), []);
    assert.deepEqual(errors, [], "console errors");
    // Chromium's GL driver logs a performance note for each WebGL readPixels, which plotly's 3-D hover
    // picking needs (SwiftShader here; ANGLE does the same on GPUs). Any other warning fails the test.
    assert.deepEqual(warnings.filter((w) => !/GL Driver Message \(OpenGL, Performance, .*\): GPU stall due to ReadPixels/.test(w)), [], "console warnings");
  } finally {
    await page.close();
  }
});

test("TrigFlow 3-D views fit a 390 px phone and resize with the page", async () => {
  const { page, errors } = await openPage(site.browser, `${site.url}/trigflow`, { width: 390, height: 844, quietMs: 1500 });
  try {
    const view = page.locator(".plot-3d").first();
    await scrollAndDraw(view, { press: true });
    const fits = () => page.evaluate(() => document.documentElement.scrollWidth <= document.documentElement.clientWidth);
    const width = async () => (await view.locator(".main-svg").first().boundingBox())!.width;
    assert.ok(await fits(), "the page does not scroll sideways");
    const phoneWidth = await width();
    assert.ok(phoneWidth <= 390 && phoneWidth > 250, `the plot is ${phoneWidth} px wide`);
    await view.screenshot({ path: `${ARTIFACTS}/trigflow-paths-3d-390.png` });
    await page.setViewportSize({ width: 900, height: 900 });
    await page.waitForTimeout(1000);
    assert.ok((await width()) > phoneWidth + 100, "the plot widened with the page");
    assert.deepEqual(errors, []);
  } finally {
    await page.close();
  }
});
