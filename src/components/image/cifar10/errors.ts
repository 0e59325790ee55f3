/**
 * One error class for everything that can be wrong with the CIFAR-10 data: a corrupt or truncated archive, a
 * PNG we cannot decode, counts or pixels that do not match the known data set, a meta.json or class file the
 * page cannot use. Every message is one line that names the file and says what is wrong, because it ends up
 * as a build error or in a page's error cell.
 */
export class Cifar10DataError extends Error {
  override name = "Cifar10DataError";
}
